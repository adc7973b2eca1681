"""The Dask tier (`make test-dask`): a real ``dask.distributed`` cluster, a scheduler and two
single-threaded workers started as separate processes on 127.0.0.1, and stopped again."""

import os
from collections.abc import Iterator

import pytest

from ..dask_cluster import dask_cluster as start_dask_cluster

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WORKERS = 2


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scheduler's address, once both workers have registered."""
    with start_dask_cluster(tmp_path_factory.mktemp("dask"), WORKERS) as cluster:
        yield cluster.address
