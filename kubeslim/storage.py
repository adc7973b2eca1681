"""Files and output directories on local disk or an object store, read and written alike.

A local path goes through the OS; an address with a scheme (``gs://``, ``s3://``, any file
system Apache Beam knows) through Beam's ``FileSystems``: ``gs://`` comes with
``apache-beam[gcp]``, ``s3://`` with ``kubeslim[aws]``, both configured by the job's pipeline
options (``--s3_endpoint_url``, ``--project``, ...), which ``make_pipeline_options`` hands to the
file systems.

Output directories, local or there, are ``output_dirs.output_dir``.

Outside a Beam job (the registry, the quality gate, the fingerprints), Beam's file systems
have no pipeline options, so an object store's client takes its settings where its library
looks for them: for S3, boto3's environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) or the pod's role.

TensorFlow 2.21 reads ``gs://`` itself but has no ``s3://`` file system. So the steps that
write through TensorFlow (the tensorflow-transform output of ``analyze`` and ``convert-text``)
write a local directory and upload it (``local_staging``), and training reads its data set
from a local or ``gs://`` directory (``check_tensorflow_can_read``).
"""

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from kubeslim.addresses import is_uri
from kubeslim.errors import KubeslimError

log = logging.getLogger(__name__)

_EXTRAS = {"s3": "pip install 'kubeslim[aws]'", "gs": "pip install 'apache-beam[gcp]'"}


def file_systems(path: str, what: str = "path") -> Any:
    """Beam's ``FileSystems``, checked to know the scheme of ``path``; given empty pipeline
    options when no Beam job or worker set any (see the module docstring)."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.options.value_provider import RuntimeValueProvider

    if FileSystems._pipeline_options is None and RuntimeValueProvider.runtime_options is None:
        FileSystems.set_options(PipelineOptions([]))

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


def os_path(path: str | os.PathLike) -> str:
    """A local path as the OS takes it: ``file:///x`` is ``/x``."""
    text = os.fspath(path)
    return urlparse(text).path if text.startswith("file://") else text


def is_file(path: str | os.PathLike) -> bool:
    """Whether a file (an object) exists at ``path``."""
    if is_uri(path):
        return file_systems(str(path)).exists(str(path))
    return os.path.isfile(os_path(path))


@dataclass(frozen=True)
class FileInfo:
    """A file below a listed folder: its path, its path below the folder (``/``-separated),
    its size and its modification time in nanoseconds (whole seconds for a local file, as
    TensorFlow's ``stat`` gave it, so fingerprints taken before stay equal)."""

    path: str
    relative: str
    size: int
    mtime_ns: int


def _local_files(local: str) -> list[FileInfo]:
    """The files below a local folder, through symbolic links to folders (once each)."""
    files, seen = [], set()
    for directory, folders, names in os.walk(local, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:  # a link back up the tree
            folders[:] = []
            continue
        seen.add(real)
        for name in names:
            path = os.path.join(directory, name)
            stat = os.stat(path)
            relative = Path(path).relative_to(local).as_posix()
            files.append(FileInfo(path, relative, stat.st_size, int(stat.st_mtime) * 10**9))
    return files


def list_files(
    root: str | os.PathLike, what: str = "path", *, folder_objects: bool = False
) -> list[FileInfo]:
    """Every file below ``root``, at any depth, sorted by path; none when it holds none.
    On an object store, the empty objects some tools write as folders (``name/``) are files
    only with ``folder_objects``.

    Raises:
      KubeslimError: the store cannot be listed (naming ``what`` and ``root``).
    """
    root = os.fspath(root).rstrip("/")
    if not is_uri(root):
        return sorted(_local_files(os_path(root)), key=lambda f: f.relative)
    try:
        (result,) = file_systems(root, what).match([f"{root}/**"])
    except KubeslimError:
        raise
    except Exception as e:  # a BeamIOError or the store client's own
        raise KubeslimError(f"cannot list {what} {root}: {e}") from None
    return sorted(
        (
            FileInfo(
                m.path,
                m.path[len(root) + 1 :],
                m.size_in_bytes,
                round(m.last_updated_in_seconds * 1e9),
            )
            for m in result.metadata_list
            if m.path.startswith(root + "/") and (folder_objects or not m.path.endswith("/"))
        ),
        key=lambda f: f.relative,
    )


def is_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a local directory, or a prefix that holds objects."""
    return bool(list_files(path)) if is_uri(path) else os.path.isdir(os_path(path))


def exists(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file (an object), a directory or a prefix holding objects."""
    return is_file(path) or is_dir(path)


def make_dirs(path: str | os.PathLike) -> None:
    """Creates a local directory and its parents; on an object store a prefix needs none."""
    if not is_uri(path):
        os.makedirs(os_path(path), exist_ok=True)


def read_bytes(path: str) -> bytes:
    """The content of the file at ``path``.

    Raises:
      FileNotFoundError: there is none.
    """
    if not is_uri(path):
        return Path(os_path(path)).read_bytes()
    filesystems = file_systems(path)
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
        filesystems = file_systems(path)
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
    path = os_path(path)
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
    from apache_beam.options.value_provider import RuntimeValueProvider

    options = file_systems(path)._pipeline_options or RuntimeValueProvider.runtime_options
    client = boto3_client.Client(options)
    client.client.put_object(Bucket=bucket, Key=key, Body=b"")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` whole, as ``writing`` does."""
    with writing(path) as f:
        f.write(text.encode())


def copy_file(source: str, destination: str) -> None:
    """Copies one file between any two places (local or not)."""
    if not is_uri(source) and not is_uri(destination):
        shutil.copyfile(os_path(source), os_path(destination))
        return
    with writing(destination) as out:
        if is_uri(source):
            with file_systems(source).open(source, compression_type="uncompressed") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        else:
            with open(os_path(source), "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)


def copy_tree(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copies every file below ``source`` to the same place below ``target``, either of them
    local or not; between two local folders, empty folders (``assets/``) too."""
    if not is_uri(source) and not is_uri(target):
        shutil.copytree(os_path(source), os_path(target))
        return
    for file in list_files(source):
        destination = join(target, *file.relative.split("/"))
        make_dirs(os.path.dirname(destination))
        copy_file(file.path, destination)


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
    except tf.errors.OpError as e:  # no credentials, no permission, no such bucket, ...
        raise KubeslimError(f"{what} {path}: TensorFlow cannot read it: {e.message}") from None
