"""The Dask tier (`make test-dask`): a real ``dask.distributed`` cluster, a scheduler and two
single-threaded workers started as separate processes on 127.0.0.1, and stopped again."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WORKERS = 2


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """Stops one process this fixture started (and the processes it started, its group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scheduler's address, once both workers have registered."""
    from distributed import Client

    root = tmp_path_factory.mktemp("dask")
    scheduler_file = root / "scheduler.json"
    dask = Path(sys.executable).with_name("dask")
    started = [
        _start(
            [
                str(dask),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            root / "scheduler.log",
        )
    ]
    try:
        for _ in range(120):
            if scheduler_file.exists():
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"the Dask scheduler did not start: {root / 'scheduler.log'}")
        for i in range(WORKERS):
            started.append(
                _start(
                    [
                        str(dask),
                        "worker",
                        "--scheduler-file",
                        str(scheduler_file),
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                        "--local-directory",
                        str(root / f"worker{i}"),
                    ],
                    root / f"worker{i}.log",
                )
            )
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(WORKERS, timeout=120)
            address = client.scheduler.address
        yield address
    finally:
        for process in reversed(started):
            _stop(process)
