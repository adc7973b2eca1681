"""An S3-compatible server (moto's) on 127.0.0.1 in its own process, for the object-store
tests: started by a fixture, stopped by it."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BUCKET = "kubeslim-test"
_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@contextlib.contextmanager
def s3_server(log: Path) -> Iterator[str]:
    """Runs the server; yields its endpoint, where bucket ``BUCKET`` exists and is empty."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"the S3 server did not start: {log.read_text()}")
        _client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def s3_args(endpoint: str) -> list[str]:
    """Beam's own S3 options for the server."""
    return [
        f"--s3_endpoint_url={endpoint}",
        f"--s3_access_key_id={_KEYS['aws_access_key_id']}",
        f"--s3_secret_access_key={_KEYS['aws_secret_access_key']}",
        "--s3_region_name=us-east-1",
    ]


def environment(endpoint: str) -> dict[str, str]:
    """boto3's own settings for the server, as a pod's environment gives them."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": _KEYS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": _KEYS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def upload(endpoint: str, local: Path, prefix: str) -> str:
    """Copies the files under ``local`` to ``s3://BUCKET/prefix/``; returns that address."""
    client = _client(endpoint)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(local).as_posix()}")
    return f"s3://{BUCKET}/{prefix}"


def keys(endpoint: str, prefix: str = "") -> list[str]:
    """Every object key in ``BUCKET`` under ``prefix``."""
    pages = (
        _client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    )
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def download(endpoint: str, prefix: str, local: Path) -> Path:
    """Copies the objects under ``s3://BUCKET/prefix/`` into ``local``; returns it."""
    client = _client(endpoint)
    for key in keys(endpoint, f"{prefix}/"):
        path = local / key[len(prefix) + 1 :]
        path.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(BUCKET, key, str(path))
    return local


def put(endpoint: str, key: str, data: bytes) -> None:
    """Writes one object (one kubeslim did not write)."""
    _client(endpoint).put_object(Bucket=BUCKET, Key=key, Body=data)


def _client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_KEYS)
