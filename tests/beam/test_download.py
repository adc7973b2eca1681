"""Downloads from a real HTTP server on 127.0.0.1: checksums, retries, resumption, mirrors."""

import pytest

from kubeslim.beam.download import RemoteFile, fetch, resolve
from kubeslim.errors import KubeslimError

from .fakes import http_server, remote_for


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "server"
    root.mkdir()
    (root / "data.bin").write_bytes(bytes(range(256)) * 4000)  # 1 MB
    return root, remote_for(root / "data.bin")


def test_download_verifies_and_caches(served, tmp_path):
    root, remote = served
    with http_server(root) as (url, log):
        path = fetch(remote, tmp_path / "cache", url)
        assert path.read_bytes() == (root / "data.bin").read_bytes()
        assert fetch(remote, tmp_path / "cache", url) == path
    assert len(log.requests) == 1  # the second call used the cache
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "data.bin",
        "data.bin.origin",
        "data.bin.sha256",
    ]


def test_checksum_mismatch_is_refused_and_nothing_kept(served, tmp_path):
    root, remote = served
    wrong = RemoteFile(remote.url, remote.size, "0" * 64)
    with http_server(root) as (url, _), pytest.raises(KubeslimError, match="expected sha256 0000"):
        fetch(wrong, tmp_path / "cache", url)
    assert list((tmp_path / "cache").iterdir()) == []
    short = RemoteFile(remote.url, remote.size + 1, remote.sha256)
    with http_server(root) as (url, _), pytest.raises(KubeslimError, match="bytes, got"):
        fetch(short, tmp_path / "cache", url)


def test_server_errors_are_retried_with_backoff(served, tmp_path):
    root, remote = served
    with http_server(root) as (url, log):
        log.fail_first = 2
        path = fetch(remote, tmp_path / "cache", url, backoff_seconds=0.01)
    assert path.stat().st_size == remote.size
    assert len(log.requests) == 3


def test_a_dropped_connection_resumes_with_a_range_request(served, tmp_path):
    root, remote = served
    with http_server(root) as (url, log):
        log.drop_after = 300_000
        fetch(remote, tmp_path / "cache", url, backoff_seconds=0.01)
    assert log.requests[-1][1] == "bytes=300000-"
    assert (tmp_path / "cache" / "data.bin").read_bytes() == (root / "data.bin").read_bytes()


def test_a_server_without_ranges_makes_it_start_over(served, tmp_path):
    root, remote = served
    with http_server(root) as (url, log):
        log.drop_after, log.ignore_range = 300_000, True
        fetch(remote, tmp_path / "cache", url, backoff_seconds=0.01)
    assert (tmp_path / "cache" / "data.bin").read_bytes() == (root / "data.bin").read_bytes()


def test_missing_file_and_unreachable_host_are_clear_errors(served, tmp_path):
    root, remote = served
    missing = RemoteFile("http://x/none.bin")
    with http_server(root) as (url, log), pytest.raises(KubeslimError, match="HTTP 404"):
        fetch(missing, tmp_path / "cache", url)
    assert len(log.requests) == 1  # a 404 is not retried
    with pytest.raises(KubeslimError, match="after 2 attempts"):
        fetch(remote, tmp_path / "cache", "http://127.0.0.1:9", retries=1, backoff_seconds=0.01)


def test_a_local_mirror_is_verified_in_place(served, tmp_path):
    root, remote = served
    assert fetch(remote, tmp_path / "cache", str(root)) == root / "data.bin"
    assert fetch(remote, tmp_path / "cache", f"file://{root}") == root / "data.bin"
    with pytest.raises(KubeslimError, match="not found"):
        fetch(remote, tmp_path / "cache", str(tmp_path / "nowhere"))
    (root / "data.bin").write_bytes(b"tampered")
    with pytest.raises(KubeslimError, match="expected 1024000 bytes, got 8"):
        fetch(remote, tmp_path / "cache", str(root))


def test_resolve_puts_the_file_name_under_the_mirror():
    remote = RemoteFile("https://example.com/a/b/file.tgz")
    assert resolve(remote, None) == "https://example.com/a/b/file.tgz"
    assert resolve(remote, "gs://bucket/mirror/") == "gs://bucket/mirror/file.tgz"


def test_a_stale_partial_file_past_the_end_is_discarded(served, tmp_path):
    root, remote = served
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin.partial").write_bytes(b"x" * (remote.size + 10))
    with http_server(root) as (url, log):
        (cache / "data.bin.partial.origin").write_text(resolve(remote, url))
        path = fetch(remote, cache, url, backoff_seconds=0.01)
    assert path.read_bytes() == (root / "data.bin").read_bytes()
    assert log.requests[0][1] == f"bytes={remote.size + 10}-" and log.requests[1][1] is None


def test_a_partial_download_from_another_mirror_is_not_resumed(served, tmp_path):
    root, remote = served
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin.partial").write_bytes(b"from mirror A")
    (cache / "data.bin.partial.origin").write_text("http://mirror-a.invalid/data.bin\n")
    with http_server(root) as (url, log):
        path = fetch(remote, cache, url)
    assert path.read_bytes() == (root / "data.bin").read_bytes()
    assert [r[1] for r in log.requests] == [None]  # no Range request: started over


def test_an_unpinned_file_cached_from_one_mirror_is_fetched_again_from_another(tmp_path):
    mirrors = {}
    for name in ("a", "b"):
        mirrors[name] = tmp_path / name
        mirrors[name].mkdir()
        (mirrors[name] / "photos.tar").write_bytes(f"mirror {name}".encode())
    remote = RemoteFile("http://canonical.invalid/photos.tar")  # no size or checksum
    with http_server(mirrors["a"]) as (url_a, _), http_server(mirrors["b"]) as (url_b, log_b):
        assert fetch(remote, tmp_path / "cache", url_a).read_bytes() == b"mirror a"
        assert fetch(remote, tmp_path / "cache", url_b).read_bytes() == b"mirror b"
        assert fetch(remote, tmp_path / "cache", url_b).read_bytes() == b"mirror b"
    assert len(log_b.requests) == 1
