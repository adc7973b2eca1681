"""Files and output directories on local disk or an object store, read and written alike.

A local path goes through the OS; an address with a scheme (``gs://``, ``s3://``, any file
system Apache Beam knows) through Beam's ``FileSystems``: ``gs://`` comes with
``apache-beam[gcp]``, ``s3://`` with ``kubeslim[aws]``, both configured by the job's pipeline
options (``--s3_endpoint_url``, ``--project``, ...), which ``make_pipeline_options`` hands to the
file systems.

An output on an object store (``ObjectStoreOutputDir``) keeps ``fileio.OutputDir``'s promises
as far as an object store allows: it is written under a staging prefix beside its place
(``.NAME.tmp-XXXXXXXX/``), then its objects are moved (copied and deleted) into place, the
kubeslim marker first as ``writing`` and last as ``complete``; a prefix that holds objects
kubeslim did not write is never touched. A store cannot move many objects at once, so a reader
that lists the output during the move can see part of it: the marker says when it is whole.

TensorFlow 2.21 reads ``gs://`` itself but has no ``s3://`` file system. So the steps that
write through TensorFlow (the tensorflow-transform output of ``analyze`` and ``convert-text``)
write a local directory and upload it (``local_staging``), and training reads its data set
from a local or ``gs://`` directory (``check_tensorflow_can_read``).
"""

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from kubeslim import fileio
from kubeslim.errors import KubeslimError
from kubeslim.fileio import is_uri

log = logging.getLogger(__name__)

_EXTRAS = {"s3": "pip install 'kubeslim[aws]'", "gs": "pip install 'apache-beam[gcp]'"}


def _filesystems(path: str, what: str = "path") -> Any:
    """Beam's ``FileSystems``, checked to know the scheme of ``path``."""
    from apache_beam.io.filesystems import FileSystems

    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        scheme = urlparse(path).scheme
        hint = _EXTRAS.get(scheme, "install the Beam file system for it")
        raise KubeslimError(f"{what} {path}: no file system for {scheme}:// ({hint})") from None
    return FileSystems


def join(base: str | os.PathLike, *names: str) -> str:
    """``base/name/...`` for a local path or an address."""
    if is_uri(base):
        return "/".join([str(base).rstrip("/"), *names])
    return os.path.join(base, *names)


def is_file(path: str | os.PathLike) -> bool:
    """Whether a file (an object) exists at ``path``."""
    return _filesystems(str(path)).exists(str(path)) if is_uri(path) else os.path.isfile(path)


def read_bytes(path: str) -> bytes:
    """The content of the file at ``path``.

    Raises:
      FileNotFoundError: there is none.
    """
    if not is_uri(path):
        return Path(path).read_bytes()
    filesystems = _filesystems(path)
    if not filesystems.exists(path):
        raise FileNotFoundError(path)
    with filesystems.open(path, compression_type="uncompressed") as f:
        return f.read()


class _Counting:
    """A writable file that counts the bytes written through it."""

    def __init__(self, f: IO[bytes]):
        self._f, self.size = f, 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return self._f.write(data)


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file to write ``path`` through: a local file appears (by rename) only when
    complete and is removed on an exception; an object appears when it is closed, and is
    deleted on an exception.

    Raises:
      KubeslimError: the store refuses the object (no bucket, no permission, ...).
    """
    if is_uri(path):
        path = str(path)
        filesystems = _filesystems(path)
        try:
            f = filesystems.create(path, compression_type="uncompressed")
        except Exception as e:  # a BeamIOError or the store client's own
            raise KubeslimError(f"cannot write {path}: {e}") from None
        counting = _Counting(f)
        try:
            yield counting  # type: ignore[misc]
        except BaseException:
            with contextlib.suppress(Exception):
                f.close()
            with contextlib.suppress(Exception):
                filesystems.delete([path])
            raise
        try:
            if counting.size == 0 and urlparse(path).scheme == "s3":
                _put_empty_s3_object(f, path)
            else:
                f.close()
        except Exception as e:
            raise KubeslimError(f"cannot write {path}: {e}") from None
        return
    partial = f"{path}.partial-{uuid.uuid4().hex[:8]}"
    try:
        with open(partial, "wb") as f:
            yield f
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _put_empty_s3_object(f: IO[bytes], path: str) -> None:
    """Beam's S3 writer always completes a multipart upload, which S3 refuses for no parts:
    an empty object is put whole instead."""
    from apache_beam.io.aws.clients.s3 import boto3_client
    from apache_beam.io.aws.s3io import parse_s3_path

    with contextlib.suppress(Exception):
        f.close()  # fails as said; the upload is abandoned
    bucket, key = parse_s3_path(path)
    client = boto3_client.Client(_filesystems(path)._pipeline_options)
    client.client.put_object(Bucket=bucket, Key=key, Body=b"")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` whole, as ``writing`` does."""
    with writing(path) as f:
        f.write(text.encode())


def copy_file(source: str, destination: str) -> None:
    """Copies one file between any two places (local or not)."""
    if not is_uri(source) and not is_uri(destination):
        shutil.copyfile(source, destination)
        return
    with writing(destination) as out:
        if is_uri(source):
            with _filesystems(source).open(source, compression_type="uncompressed") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        else:
            with open(source, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)


def check_tensorflow_can_read(path: str, what: str) -> None:
    """Refuses an address TensorFlow has no file system for, with what to do instead.

    Raises:
      KubeslimError: naming ``what`` (the flag) and the scheme.
    """
    if not is_uri(path):
        return
    import tensorflow as tf

    try:
        tf.io.gfile.exists(path)
    except tf.errors.UnimplementedError:
        scheme = urlparse(path).scheme
        raise KubeslimError(
            f"{what} {path}: TensorFlow {tf.__version__} has no {scheme}:// file system, so it "
            f"cannot read it; copy it to a local or gs:// directory first (e.g. `aws s3 sync "
            f"{path} DIR`)"
        ) from None


def output_dir(
    path: str | os.PathLike, kind: str, **kwargs: Any
) -> "fileio.OutputDir | ObjectStoreOutputDir":
    """The output directory at ``path``: ``fileio.OutputDir`` for a local path,
    ``ObjectStoreOutputDir`` for an address (same arguments)."""
    if is_uri(path):
        return ObjectStoreOutputDir(str(path), kind, **kwargs)
    return fileio.OutputDir(path, kind, **kwargs)


class ObjectStoreOutputDir:
    """An output directory on an object store, as the module docstring says; the arguments
    are ``fileio.OutputDir``'s.

    Raises:
      KubeslimError: the output may not be written there, or the store cannot be listed.
    """

    def __init__(
        self,
        path: str,
        kind: str,
        *,
        overwrite: bool = False,
        inputs: fileio.Inputs | None = None,
        what: str = "--output_dir",
    ):
        self.path = path.rstrip("/")
        self.kind, self._overwrite, self._what = kind, overwrite, what
        if not urlparse(self.path).path.strip("/"):
            raise KubeslimError(f"{what} {path}: name a folder inside the bucket, not the bucket")
        if any(c in self.path for c in "*?[]"):
            raise KubeslimError(f"{what} {path}: an object-store output may not hold * ? [ or ]")
        self._fs = _filesystems(self.path, what)
        for name, given in (inputs or {}).items():
            other = str(given or "").rstrip("/")
            if other and is_uri(other) and _nested(self.path, other):
                raise KubeslimError(
                    f"{what} {self.path} is, holds or lies inside {name} {other}; choose "
                    "another place"
                )
        self._recover()
        if problem := self._refusal():
            raise KubeslimError(problem)

    def _objects(self, prefix: str) -> list[str]:
        try:
            (result,) = self._fs.match([f"{prefix}/**"])
        except Exception as e:  # a BeamIOError or the store client's own
            raise KubeslimError(f"cannot list {self._what} {prefix}: {e}") from None
        return sorted(m.path for m in result.metadata_list if m.path.startswith(prefix + "/"))

    def _marker(self, prefix: str) -> dict[str, Any] | None:
        try:
            return fileio.parse_marker(read_bytes(join(prefix, fileio.MARKER_FILE)).decode())
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def _mark(self, prefix: str, state: str) -> None:
        write_text(join(prefix, fileio.MARKER_FILE), fileio.marker_text(self.kind, state))

    def _refusal(self) -> str | None:
        if self._fs.exists(self.path):
            return f"{self._what} {self.path} exists and is an object, not a directory"
        if not self._objects(self.path):
            return None
        marker = self._marker(self.path)
        if marker is None:
            return (
                f"{self._what} {self.path} holds objects kubeslim did not write (it has no "
                f"{fileio.MARKER_FILE}); kubeslim never replaces them: choose a new path or "
                "remove them yourself"
            )
        if marker["kind"] != self.kind and not self._overwrite:
            return (
                f"{self._what} {self.path} holds a kubeslim {marker['kind']} output, not a "
                f"{self.kind}; pass --overwrite to replace it, or choose a new path"
            )
        return None

    def _delete(self, prefix: str) -> None:
        """Deletes a kubeslim prefix's objects, its marker last."""
        marker = join(prefix, fileio.MARKER_FILE)
        objects = [p for p in self._objects(prefix) if p != marker]
        if objects:
            self._fs.delete(objects)
        if self._fs.exists(marker):
            self._fs.delete([marker])

    def _recover(self) -> None:
        """Removes the staging prefixes that killed runs on this host left beside the output."""
        parent, _, name = self.path.rpartition("/")
        pattern = f"{parent}/.{name}.tmp-*/{fileio.MARKER_FILE}"
        try:
            (result,) = self._fs.match([pattern])
        except Exception as e:  # a BeamIOError or the store client's own
            raise KubeslimError(f"cannot list {self._what} {self.path}: {e}") from None
        for leftover in sorted(m.path.rpartition("/")[0] for m in result.metadata_list):
            marker = self._marker(leftover) or {}
            if marker.get("host") != socket.gethostname() or fileio.pid_alive(marker.get("pid")):
                log.warning("left %s alone: another run may be writing it", leftover)
                continue
            log.warning("removing %s, left unfinished by an earlier run that was killed", leftover)
            self._delete(leftover)

    @contextlib.contextmanager
    def staging(self) -> Iterator[str]:
        """Yields a staging prefix beside the output to write into; moves its objects into
        place when the block ends, or deletes them on an exception."""
        parent, _, name = self.path.rpartition("/")
        staged = f"{parent}/.{name}.tmp-{uuid.uuid4().hex[:8]}"
        self._mark(staged, fileio.WRITING)
        try:
            yield staged
        except BaseException:
            try:
                self._delete(staged)
            except Exception as e:  # the job's own error is the one to report
                log.warning("could not delete %s: %s", staged, e)
            raise
        if problem := self._refusal():  # something else appeared there while we worked
            self._delete(staged)
            raise KubeslimError(problem)
        self._move_into_place(staged)

    @contextlib.contextmanager
    def local_staging(self) -> Iterator[Path]:
        """Yields a local temporary directory to write into (for writers that cannot write
        to the store); uploads it into place when the block ends."""
        with tempfile.TemporaryDirectory(prefix="kubeslim-upload-") as local:
            yield Path(local)
            files = sorted(p for p in Path(local).rglob("*") if p.is_file())
            log.info("uploading %d files to %s", len(files), self.path)
            with self.staging() as staged:
                for path in files:
                    copy_file(str(path), join(staged, *path.relative_to(local).parts))

    def _move_into_place(self, staged: str) -> None:
        marker = join(staged, fileio.MARKER_FILE)
        self._mark(self.path, fileio.WRITING)  # a kill from here on leaves a kubeslim output
        old = [p for p in self._objects(self.path) if p != join(self.path, fileio.MARKER_FILE)]
        if old:
            self._fs.delete(old)
        sources = [p for p in self._objects(staged) if p != marker]
        self._fs.rename(sources, [self.path + p[len(staged) :] for p in sources])
        self._mark(self.path, fileio.COMPLETE)
        self._fs.delete([marker])


def _nested(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")
