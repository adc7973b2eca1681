"""Output directories wherever they go: ``output_dir`` gives ``fileio.OutputDir`` for a local
path and ``ObjectStoreOutputDir`` for an object-store address.

An output on an object store keeps ``fileio.OutputDir``'s promises as far as an object store
allows: it is written under a staging prefix beside its place (``.NAME.tmp-XXXXXXXX/``), then
its objects are moved (copied and deleted) into place, the kubeslim marker first as ``writing``
and last as ``complete``; a prefix that holds objects kubeslim did not write is never touched.
A store cannot move many objects at once, so a reader that lists the output during the move can
see part of it: the marker says when it is whole.
"""

import contextlib
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kubeslim import fileio
from kubeslim.addresses import is_uri
from kubeslim.errors import KubeslimError
from kubeslim.storage import (
    copy_file,
    file_systems,
    join,
    list_files,
    os_path,
    read_bytes,
    write_text,
)

log = logging.getLogger(__name__)


def output_dir(
    path: str | os.PathLike, kind: str, **kwargs: Any
) -> "fileio.OutputDir | ObjectStoreOutputDir":
    """The output directory at ``path``: ``fileio.OutputDir`` for a local path,
    ``ObjectStoreOutputDir`` for an address (same arguments)."""
    if is_uri(path):
        return ObjectStoreOutputDir(str(path), kind, **kwargs)
    return fileio.OutputDir(os_path(path), kind, **kwargs)


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
        self._fs = file_systems(self.path, what)
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
        return [f.path for f in list_files(prefix, self._what, folder_objects=True)]

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
