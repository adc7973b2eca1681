"""Reading images out of tar archives without extracting them.

``index_tar`` lists an uncompressed tar's regular files with the byte offset of their data,
so Beam workers read members with one seek each (``read_members``), locally or through Beam's file
systems. Nothing is written outside the cache, and an archive whose member names would land
outside an extraction directory (absolute paths, ``..``) or that holds links is refused.
Compressed tars are decompressed once into the cache (``gunzip``). What the cache derives from
a file is keyed by that file's content hash (``derived_key``), never by time, so converting
from another mirror cannot reuse the first mirror's data.
"""

import gzip
import io
import os
import posixpath
import shutil
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kubeslim.beam.download import sha256
from kubeslim.errors import KubeslimError


@dataclass(frozen=True, order=True)
class Member:
    """A regular file inside a tar: its path there and where its bytes are."""

    name: str
    offset: int
    size: int
    is_dir: bool = False

    def __str__(self) -> str:
        return self.name


def _key_file(derived: Path) -> Path:
    return derived.with_name(derived.name + ".source-sha256")


def derived_key(derived: Path) -> str | None:
    """The content hash of the file ``derived`` was made from, or None if it is not current
    (missing, or a kill left it unrecorded)."""
    key_file = _key_file(derived)
    if not (derived.exists() and key_file.is_file()):
        return None
    return key_file.read_text().strip() or None


def record_derived(derived: Path, key: str | None) -> None:
    """Records that ``derived`` was made from content ``key``; None forgets it (call that
    before rewriting ``derived``, so a kill halfway leaves it unrecorded)."""
    if key is None:
        _key_file(derived).unlink(missing_ok=True)
    else:
        _key_file(derived).write_text(key + "\n")


def gunzip(src: Path, dst: Path) -> Path:
    """Decompresses ``src`` to ``dst``, reusing ``dst`` when it was made from the same bytes.

    Raises:
      KubeslimError: ``src`` is truncated or not gzip data.
    """
    key = sha256(src)
    if derived_key(dst) == key:
        return dst
    record_derived(dst, None)
    partial = dst.with_name(dst.name + ".partial")
    try:
        with gzip.open(src, "rb") as f_in, partial.open("wb") as f_out:
            shutil.copyfileobj(f_in, f_out, 1 << 20)
    except (OSError, EOFError, zlib.error) as e:
        partial.unlink(missing_ok=True)
        raise KubeslimError(f"{src} is truncated or corrupt: {e}") from None
    os.replace(partial, dst)
    record_derived(dst, key)
    return dst


def _check_name(archive: str, member: tarfile.TarInfo) -> None:
    name = member.name
    normalized = posixpath.normpath(name)
    if name.startswith("/") or normalized == ".." or normalized.startswith("../"):
        raise KubeslimError(
            f"{archive}: member {name!r} would land outside the extraction directory; refused"
        )
    if member.issym() or member.islnk():
        raise KubeslimError(f"{archive}: member {name!r} is a link ({member.linkname!r}); refused")


class _Window(io.RawIOBase):
    """A read-only view of bytes [start, start + size) of a file, for a tar inside a tar."""

    def __init__(self, f: BinaryIO, start: int, size: int):
        self._f, self._start, self._size, self._pos = f, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray) -> int:
        n = max(0, min(len(buffer), self._size - self._pos))
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def index_tar(
    archive: str | os.PathLike, include_dirs: bool = False, inner: Member | None = None
) -> list[Member]:
    """The regular files (and with ``include_dirs`` the directories) of an uncompressed tar,
    in archive order.

    Args:
      archive: the tar file.
      include_dirs: also list directories (size 0, ``is_dir``).
      inner: index the tar stored as this member of ``archive`` instead (ImageNet's per-class
        tars); offsets are still positions in ``archive``.

    Raises:
      KubeslimError: the archive is truncated, corrupt, compressed, or has an unsafe member.
    """
    archive = Path(archive)
    where = f"{archive}:{inner.name}" if inner else str(archive)
    start, size = (inner.offset, inner.size) if inner else (0, archive.stat().st_size)
    members = []
    try:
        with (
            archive.open("rb") as f,
            tarfile.open(fileobj=io.BufferedReader(_Window(f, start, size)), mode="r:") as tar,
        ):
            for info in tar:
                _check_name(where, info)
                if info.isfile():
                    members.append(Member(info.name, start + info.offset_data, info.size))
                elif info.isdir() and include_dirs:
                    members.append(Member(info.name, start + info.offset_data, 0, is_dir=True))
    except (tarfile.TarError, EOFError, OSError) as e:
        raise KubeslimError(f"{where} is truncated or corrupt: {e}") from None
    for m in members:
        if m.offset + m.size > start + size:
            raise KubeslimError(f"{where} is truncated: member {m.name!r} runs past its end")
    return members


def read_members(archive: str, members: Iterable[Member]) -> Iterator[bytes]:
    """The bytes of each member, in the order given, through one open file.

    ``archive`` may be a local path or a Beam file system path (``gs://...``).
    """
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(archive, compression_type="uncompressed") as f:
        for member in members:
            f.seek(member.offset)
            data = f.read(member.size)
            if len(data) != member.size:
                raise KubeslimError(f"{archive}: member {member.name!r} is truncated")
            yield data
