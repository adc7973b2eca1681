"""The one way raw data enters the cache: checksummed downloads that resume and retry.

A ``RemoteFile`` names a canonical file with its size and SHA-256 (kept in the data set's
module, as TFDS keeps its url_checksums). ``fetch`` brings it into the cache directory:

- over HTTP(S) with retries and exponential back-off, resuming a partial file with a Range
  request when the server allows it and starting over when it does not;
- from a mirror given as ``--source``: a local directory, ``file://``, ``http(s)://``,
  ``gs://`` or ``s3://`` base to which the file's name is appended (the cloud schemes go
  through Beam's file systems);
- into ``NAME.partial`` first, renamed to ``NAME`` only once its size and checksum match.

Progress goes to the log every few seconds, which reads well in a terminal and in pod logs.
"""

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from kubeslim.errors import KubeslimError

_CHUNK = 1 << 20
_DEFAULT_CACHE = "~/.cache/kubeslim"
_PROGRESS_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteFile:
    """A file at its canonical address, with the size and SHA-256 it must have.

    ``size`` and ``sha256`` may be None for files that have no fixed contents (a user's own).
    """

    url: str
    size: int | None = None
    sha256: str | None = None

    @property
    def filename(self) -> str:
        return Path(urlparse(self.url).path).name


def cache_dir(given: str | os.PathLike | None, name: str) -> Path:
    """Where the downloads of data set or corpus ``name`` are kept: under ``given``, else
    under ``$KUBESLIM_CACHE``, else ``~/.cache/kubeslim``."""
    root = given or os.environ.get("KUBESLIM_CACHE") or _DEFAULT_CACHE
    return Path(root).expanduser() / name


def resolve(remote: RemoteFile, source: str | None) -> str:
    """The address to fetch ``remote`` from: its own, or the same name under mirror ``source``."""
    if not source:
        return remote.url
    return source.rstrip("/") + "/" + remote.filename


def fetch(
    remote: RemoteFile,
    cache_dir: str | os.PathLike,
    source: str | None = None,
    *,
    retries: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 60.0,
) -> Path:
    """Returns a verified local copy of ``remote``, downloading it if the cache lacks it.

    A local ``source`` (a path or ``file://``) is verified where it is, not copied.

    Raises:
      KubeslimError: the file cannot be fetched, or its size or checksum is wrong (a bad
        download is deleted, so a rerun starts clean).
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    stamp = cache / (remote.filename + ".sha256")
    address = resolve(remote, source)
    parsed = urlparse(address)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme else address)
        if not path.is_file():
            raise KubeslimError(f"{remote.filename}: {path} not found")
        if problem := _problem(path, remote, stamp):
            raise KubeslimError(f"{path}: {problem}")
        return path
    target = cache / remote.filename
    origin = cache / (remote.filename + ".origin")
    if target.is_file() and _problem(target, remote, stamp) is None:
        # A file without a pinned checksum is only known by where it came from.
        if remote.sha256 or (origin.is_file() and origin.read_text().strip() == address):
            log.info("%s: in cache at %s", remote.filename, target)
            return target
    partial = target.with_name(target.name + ".partial")
    partial_origin = target.with_name(target.name + ".partial.origin")
    if partial.exists() and not (
        partial_origin.is_file() and partial_origin.read_text().strip() == address
    ):
        partial.unlink()  # a partial download from another address cannot be resumed here
    partial_origin.write_text(address + "\n")
    if parsed.scheme in ("http", "https"):
        _download_http(address, partial, remote, retries, backoff_seconds, timeout_seconds)
    else:
        _copy_filesystem(address, partial, remote)
    if problem := _problem(partial, remote, stamp=None):
        partial.unlink()
        partial_origin.unlink()
        raise KubeslimError(f"{remote.filename} from {address}: {problem}; deleted the copy")
    origin.unlink(missing_ok=True)
    os.replace(partial, target)
    os.replace(partial_origin, origin)
    return target


def _problem(path: Path, remote: RemoteFile, stamp: Path | None) -> str | None:
    """What is wrong with ``path`` as a copy of ``remote``, or None.

    A verified hash is remembered in ``stamp`` with the file's size and mtime, so a large
    archive is hashed once, not on every run.
    """
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return f"expected {remote.size} bytes, got {size}"
    if remote.sha256 is None:
        return None
    key = f"{path.resolve()} {size} {path.stat().st_mtime_ns}"
    if stamp is not None and stamp.is_file():
        recorded_key, _, recorded_digest = stamp.read_text().partition("\n")
        if recorded_key == key and recorded_digest.strip() == remote.sha256:
            return None
    digest = sha256(path)
    if digest != remote.sha256:
        return f"expected sha256 {remote.sha256}, got {digest}"
    if stamp is not None:
        stamp.write_text(f"{key}\n{digest}\n")
    return None


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's contents, in hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class _Progress:
    def __init__(self, name: str, total: int | None, done: int = 0):
        self._name, self._total, self.done = name, total, done
        self._start, self._start_done = time.monotonic(), done
        self._last = self._start

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= _PROGRESS_SECONDS:
            self._last = now
            self.report(now)

    def report(self, now: float | None = None) -> None:
        elapsed = max((now or time.monotonic()) - self._start, 1e-9)
        rate = (self.done - self._start_done) / elapsed / 1e6
        of = (
            f" of {self._total / 1e6:.1f} MB ({100 * self.done / self._total:.0f}%)"
            if (self._total)
            else " MB"
        )
        log.info("%s: %.1f%s at %.1f MB/s", self._name, self.done / 1e6, of, rate)


def _pump(src: BinaryIO, dst: BinaryIO, progress: _Progress) -> None:
    while chunk := src.read(_CHUNK):
        dst.write(chunk)
        progress.add(len(chunk))


def _download_http(
    url: str,
    partial: Path,
    remote: RemoteFile,
    retries: int,
    backoff_seconds: float,
    timeout_seconds: float,
) -> None:
    attempt = 0
    while True:
        have = partial.stat().st_size if partial.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": "kubeslim"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                resumed = have and response.status == 206
                if have and not resumed:
                    log.info("%s: server ignored the range request; starting over", url)
                start = have if resumed else 0
                length = response.headers.get("Content-Length")
                total = start + int(length) if length is not None else remote.size
                progress = _Progress(remote.filename, total, start)
                if resumed:
                    log.info("%s: resuming at byte %d", remote.filename, have)
                with partial.open("ab" if resumed else "wb") as out:
                    _pump(response, out, progress)
                progress.report()
            received = partial.stat().st_size
            if length is None or received >= total:
                return  # whole as the server sent it; verification judges the contents
            raise ConnectionError(f"connection closed at byte {received} of {total}")
        except urllib.error.HTTPError as e:
            if e.code == 416:  # a stale partial file at or past the file's end: start over
                partial.unlink(missing_ok=True)
            elif e.code < 500:
                raise KubeslimError(f"cannot download {url}: HTTP {e.code} {e.reason}") from None
            error: Exception = e
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            error = e
        attempt += 1
        if attempt > retries:
            raise KubeslimError(
                f"cannot download {url} after {retries + 1} attempts: {error}"
            ) from None
        delay = backoff_seconds * 2 ** (attempt - 1)
        log.warning("%s: %s; retrying in %.0f s (%d/%d)", url, error, delay, attempt, retries)
        time.sleep(delay)


def _copy_filesystem(address: str, partial: Path, remote: RemoteFile) -> None:
    """Copies from a Beam file system (``gs://``, ``s3://``, ...)."""
    from apache_beam.io.filesystems import FileSystems

    if not FileSystems.exists(address):
        raise KubeslimError(f"{remote.filename}: {address} not found")
    progress = _Progress(remote.filename, remote.size)
    with (
        FileSystems.open(address, compression_type="uncompressed") as src,
        partial.open("wb") as dst,
    ):
        _pump(src, dst, progress)
    progress.report()
