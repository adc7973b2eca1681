"""Processes for the benchmarks: resident memory of a process and its descendants, and a Dask
cluster started for a run and stopped after it."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


DASK_ADDRESS = "KUBESLIM_BENCHDASK_ADDRESS"


@contextlib.contextmanager
def dask_cluster(log_dir: Path, workers: int) -> Iterator[list[int]]:
    """A scheduler and ``workers`` single-threaded workers on 127.0.0.1, as separate processes
    (``dask scheduler``, ``dask worker``); sets the variant's address and yields the pids of
    the workers' processes; stops what it started."""
    dask = Path(sys.executable).with_name("dask")
    scheduler_file = log_dir / "scheduler.json"
    started = []

    def start(*args: str, log: str) -> None:
        with (log_dir / log).open("wb") as out:
            started.append(subprocess.Popen([str(dask), *args], stdout=out, stderr=out))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file), log="scheduler.log")  # fmt: skip
        while not scheduler_file.exists():
            time.sleep(0.2)
        for i in range(workers):
            start("worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                  "--no-dashboard", "--host", "127.0.0.1", log=f"worker{i}.log")  # fmt: skip
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file)) as client:
            client.wait_for_workers(workers, timeout=120)
            os.environ[DASK_ADDRESS] = client.scheduler.address
        yield [pid for p in started[1:] for pid in [p.pid, *descendants(p.pid)]]
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=30)
