"""What a local run shows: ``kfp.local`` prints every task's executor input, streamed logs
and outputs; ``TaskLog`` takes that output, keeps all of it in a log file, and shows one line
per task (name, status, seconds) as each ends, or everything with ``verbose``. A task the
local cache answered shows as ``CACHED``."""

import contextlib
import io
import logging
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '([^']+)'")
_ENDED = re.compile(r"Task '([^']+)' finished with status (\w+)")
_CACHED = re.compile(r"Task (\S+) cache hit \(key=([0-9a-f]+)\)")
_SKIPPED = re.compile(r"Skipping (?:conditional )?task (\S+?):? (.*)")
_ERROR = re.compile(r"^([\w.]*(?:Error|Exception)): (.+)$")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colours."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class TaskResult:
    name: str
    status: str  # SUCCESS, FAILURE, SKIPPED or CACHED
    seconds: float | None
    cache_key: str = ""  # a cache hit's key, as far as kfp.local logs it (its first digits)


class TaskLog(io.TextIOBase):
    """A stand-in for stdout and stderr during a run: every line goes to ``log``; task
    endings go to ``console`` as one line each (all lines do with ``verbose``)."""

    def __init__(self, log: TextIO, console: TextIO, verbose: bool):
        self.log, self.console, self.verbose = log, console, verbose
        self.tasks: list[TaskResult] = []
        self._started: dict[str, float] = {}
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.verbose:
            self.console.write(text)
        self._partial += strip_ansi(text)
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self.log.write(line + "\n")
            self._follow(line)
        return len(text)

    def flush(self) -> None:
        self.log.flush()
        self.console.flush()

    def _follow(self, line: str) -> None:
        if cached := _CACHED.search(line):
            self._add(TaskResult(cached.group(1), "CACHED", None, cached.group(2)))
        elif started := _STARTED.search(line):
            self._started[started.group(1)] = time.monotonic()
        elif ended := _ENDED.search(line):
            name = ended.group(1)
            begun = self._started.pop(name, None)
            self._add(TaskResult(name, ended.group(2), begun and time.monotonic() - begun))
        elif skipped := _SKIPPED.search(line):
            self._add(TaskResult(skipped.group(1), "SKIPPED", None))

    def _add(self, task: TaskResult) -> None:
        self.tasks.append(task)
        if not self.verbose:
            seconds = "" if task.seconds is None else f"{task.seconds:7.1f} s"
            self.console.write(f"  {task.name:<24} {task.status:<8} {seconds}\n")
            self.console.flush()


@contextlib.contextmanager
def task_log(path: Path, verbose: bool) -> Iterator[TaskLog]:
    """Sends this process's output to ``path`` (and a line per task to the console) for the
    duration of the block."""
    console = sys.stdout
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with path.open("w") as log:
        tee = TaskLog(log, console, verbose)
        handler = logging.StreamHandler(tee)
        handler.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
        root.handlers[:] = [handler]  # kfp.local logs between tasks through the root logger
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(tee), contextlib.redirect_stderr(tee):
                yield tee
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)


def last_error(log: Path) -> str:
    """The last exception a task's log names (``KubeslimError: --batch_size ...``), else
    its last line of text."""
    lines = [line.strip() for line in log.read_text().splitlines()]
    for line in reversed(lines):
        if error := _ERROR.match(line):
            return f"{error.group(1).rsplit('.', 1)[-1]}: {error.group(2)}"
    return next((line for line in reversed(lines) if line.strip("-")), "")
