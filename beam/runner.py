"""Pipeline options shared by the Beam jobs."""

import argparse
import contextlib
import logging
import os
import re
import select
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from kubeslim.errors import KubeslimError
from kubeslim.options import unknown_flag, unknown_name

DEFAULT_RUNNER = "FnApiRunner"

log = logging.getLogger(__name__)


# Runners known by a short name beyond Beam's own list (StandardOptions.KNOWN_RUNNER_NAMES).
_SHORT_RUNNERS = {
    "DaskRunner": "kubeslim.beam.dask_runner.DaskRunner",
    DEFAULT_RUNNER: "kubeslim.beam.runner.OptionsSharingFnApiRunner",
}


class OptionsSharingFnApiRunner(FnApiRunner):
    """Beam's FnApiRunner, whose worker processes (``--direct_running_mode
    multi_processing``) get the job's options: Beam starts them with none, so their file
    systems would lack S3's endpoint and keys. The options reach them as they reach a
    cluster's workers, in the provision info that ``sdk_worker_main`` reads."""

    def run_pipeline(self, pipeline: Any, options: PipelineOptions) -> Any:
        given = options.get_all_options(drop_default=True, retain_unknown_options=True)
        # A protobuf Struct holds numbers as floats, which the workers' int flags refuse.
        as_flags = {
            name: str(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
            for name, value in given.items()
        }
        self._provision_info.provision_info.pipeline_options.update({"options": as_flags})
        return super().run_pipeline(pipeline, options)


def check_beam_args(args: Sequence[str], own_flags: Sequence[str] = ()) -> list[str]:
    """Beam's pipeline options from a command line, checked as Beam's own parser reads them:
    a flag no options class of Beam's (or of the chosen runner's) declares is an error naming
    the closest flag of Beam's or of the command's (``own_flags``), and the runner must be one
    Beam knows. A short runner name Beam does not expand (``DaskRunner``) is expanded.

    Returns:
      The flags, with the runner's name expanded.

    Raises:
      KubeslimError: an unknown flag or runner, or a runner whose package is not installed.
    """
    args = list(args)
    runner = None
    for i, arg in enumerate(args):
        if arg == "--runner" and i + 1 < len(args):
            runner = args[i + 1] = _SHORT_RUNNERS.get(args[i + 1], args[i + 1])
        elif arg.startswith("--runner="):
            runner = _SHORT_RUNNERS.get(arg.split("=", 1)[1], arg.split("=", 1)[1])
            args[i] = f"--runner={runner}"
    if runner is not None:
        _check_runner(runner)
    parser = _RaisingParser(allow_abbrev=False, add_help=False)
    for cls in _options_classes():
        cls._add_argparse_args(parser)  # how Beam's own PipelineOptions parses them
    _, unknown = parser.parse_known_args(args)
    if unknown:
        flag = next((a for a in unknown if a.startswith("-")), unknown[0])
        if not flag.startswith("-"):
            raise KubeslimError(f"unexpected argument {flag!r}")
        name = flag.split("=", 1)[0]
        known = [*own_flags, *(s for a in parser._actions for s in a.option_strings)]
        raise KubeslimError(unknown_flag(name, known))
    return args


class _RaisingParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise KubeslimError(f"Beam's pipeline options: {message}")


def _options_classes() -> list[type[PipelineOptions]]:
    """Every options class Beam has loaded (its runners' included), as Beam collects them."""
    found, stack = [], list(PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in found:
            found.append(cls)
            stack.extend(cls.__subclasses__())
    return found


def _check_runner(runner: str) -> None:
    """Imports the runner's module (so its options are known) and checks Beam knows it.

    Raises:
      KubeslimError: an unknown runner, or one whose package is not installed.
    """
    import importlib

    known = StandardOptions.KNOWN_RUNNER_NAMES
    if "." not in runner:
        lowered = {name.lower(): name for name in [*known, "FnApiRunner"]}
        if runner.lower() not in lowered and runner.lower() + "runner" not in lowered:
            raise KubeslimError(
                f"--runner {runner!r}: " + unknown_name("runner", runner, [*known, *_SHORT_RUNNERS])
            )
        return
    module, _, name = runner.rpartition(".")
    try:
        imported = importlib.import_module(module)
    except ImportError as e:
        extra = " (pip install 'kubeslim[dask]')" if "dask" in module else ""
        raise KubeslimError(f"--runner {runner}: cannot import {module}: {e}{extra}") from None
    if not hasattr(imported, name):
        raise KubeslimError(f"--runner {runner}: {module} has no {name}")


def make_pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the command line; without ``--runner``, the local FnApiRunner; a
    short runner name Beam does not expand (``DaskRunner``) is expanded. Beam's file systems
    take their options (``--s3_endpoint_url``, ...) from them from here on, so a job's
    downloads before its pipeline starts read object stores as its workers do.

    FnApiRunner is the engine Beam's DirectRunner runs batch jobs on (and honours
    ``--direct_running_mode`` and ``--direct_num_workers``); naming it directly skips the
    DirectRunner's attempt to download the Prism runner binary, which fails offline. It runs
    as ``OptionsSharingFnApiRunner``, so its worker processes see the job's options.
    """
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        standard.runner = DEFAULT_RUNNER
    runner = standard.runner
    standard.runner = _SHORT_RUNNERS.get(runner, runner)
    FileSystems.set_options(options)
    log.info("Beam runner: %s", runner)
    return options


_USER_ERROR = f"{KubeslimError.__module__}.{KubeslimError.__qualname__}"
_BEAM_STEP = re.compile(r"( \[while running '[^']*'\])+$")


def _user_message(text: str) -> str:
    """A user error's message without the step name Beam appends to it."""
    return _BEAM_STEP.sub("", text.strip())


class _DropUserErrorRecords(logging.Filter):
    """Drops the log records in which Beam reports a user error with its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], KubeslimError):
            return False
        return _USER_ERROR not in record.getMessage()


class _StderrWithoutUserTracebacks:
    """Passes file descriptor 2 through a pipe, line by line, leaving out the tracebacks that
    end in a user error: Beam's worker processes print them there themselves."""

    _CHAINED = (b"During handling of the above", b"The above exception", b"Traceback (")

    def __enter__(self) -> "_StderrWithoutUserTracebacks":
        sys.stderr.flush()
        self._out = os.dup(2)
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self._read = read
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        os.dup2(self._out, 2)  # closes this process's end of the pipe
        self._thread.join(timeout=5)  # worker processes may hold theirs a little longer
        if not self._thread.is_alive():
            os.close(self._out)

    def _pump(self) -> None:
        block: list[bytes] = []
        ended = False  # the block's exception line has been read

        def finish() -> None:
            nonlocal ended
            if not any(line.startswith(_USER_ERROR.encode()) for line in block):
                os.write(self._out, b"".join(block))
            block.clear()
            ended = False

        pending = b""
        with os.fdopen(self._read, "rb", buffering=0) as pipe:
            while True:
                ready, _, _ = select.select([pipe], [], [], 0.3)
                if not ready:
                    if ended:
                        finish()
                    continue
                data = pipe.read(1 << 16)
                if not data:
                    break
                *lines, pending = (pending + data).split(b"\n")
                for line in (line + b"\n" for line in lines):
                    if block and ended and line.strip() and not line.startswith(self._CHAINED):
                        finish()
                    if block:
                        block.append(line)
                        if line.startswith(self._CHAINED):
                            ended = False
                        elif line.strip() and not line.startswith((b" ", b"\t")):
                            ended = True
                    elif line.startswith(b"Traceback (most recent call last):"):
                        block.append(line)
                    else:
                        os.write(self._out, line)
        block.append(pending)
        finish()


@contextlib.contextmanager
def worker_errors_as_user_errors() -> Iterator[None]:
    """Makes a ``KubeslimError`` raised in a Beam worker reach the user as the one line it
    would be in-process: its message, raised again as a ``KubeslimError``, without the
    tracebacks Beam logs and its worker processes print (unless logging is at DEBUG).

    In-process runners pass the worker's exception through; multi-process and remote runners
    wrap it in a ``RuntimeError`` carrying the worker's traceback as text.
    """
    quiet = not logging.getLogger().isEnabledFor(logging.DEBUG)
    handlers = logging.getLogger().handlers if quiet else []
    drop = _DropUserErrorRecords()
    for handler in handlers:
        handler.addFilter(drop)
    try:
        with _StderrWithoutUserTracebacks() if quiet else contextlib.nullcontext():
            yield
    except KubeslimError as e:
        raise KubeslimError(_user_message(str(e))) from None
    except RuntimeError as e:
        prefix = f"{_USER_ERROR}: "
        lines = [line for line in str(e).splitlines() if line.startswith(prefix)]
        if not lines:
            raise
        raise KubeslimError(_user_message(lines[-1].removeprefix(prefix))) from None
    finally:
        for handler in handlers:
            handler.removeFilter(drop)
