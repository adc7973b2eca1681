"""A real ``dask.distributed`` cluster on 127.0.0.1: a scheduler and single-threaded workers,
each a separate process in its own process group, stopped again with everything they started.
Used by the Dask tier (``tests/dask``) and by ``make bench-convert``."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    address: str
    worker_pids: list[int]  # the `dask worker` processes and the processes they started


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """Stops one process this module started (and the processes it started, its group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _group(pgid: int) -> list[int]:
    """The pids of process group ``pgid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


@contextlib.contextmanager
def dask_cluster(root: Path, workers: int) -> Iterator[Cluster]:
    """Starts the cluster, logs under ``root``; yields it once every worker has registered."""
    from distributed import Client

    scheduler_file = root / "scheduler.json"
    dask = Path(sys.executable).with_name("dask")
    started = [
        _start(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            root / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        for _ in range(120):
            if scheduler_file.exists():
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"the Dask scheduler did not start: {root / 'scheduler.log'}")
        for i in range(workers):
            started.append(
                _start(
                    [str(dask), "worker", "--scheduler-file", str(scheduler_file),
                     "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                     "--local-directory", str(root / f"worker{i}")],
                    root / f"worker{i}.log",
                )
            )  # fmt: skip
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
            address = client.scheduler.address
        yield Cluster(address, [pid for p in started[1:] for pid in _group(p.pid)])
    finally:
        for process in reversed(started):
            _stop(process)
