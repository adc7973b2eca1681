"""Outputs that appear whole or not at all, and never replace what kubeslim did not write.

A step writes its output directory beside its final place (``.NAME.tmp-XXXXXXXX``), with a
marker file (``.kubeslim-output.json``) naming the kind of output, and moves it into place
only when it is complete (``OutputDir``). What may stand at the final path:

- nothing, or an empty directory: the output takes its place;
- a previous kubeslim output of the same kind: it is replaced as a whole;
- a kubeslim output of another kind: replaced only with ``overwrite``;
- anything else (a directory kubeslim did not write, a file): refused, ``overwrite`` or not.

An output that lies inside one of the step's inputs, or holds one (or holds the current
directory), is refused before any work starts. The replacement is an atomic exchange of the
two directories (``renameat2(RENAME_EXCHANGE)``), so after a kill at any instant the old or the
new output is at the final path; where the file system cannot exchange, two renames are used
and the next run restores whatever a kill left between them. Each run starts by tidying what
killed runs left beside its output, and says what it did.

Directories that grow over several runs (a model directory, ``eval --watch``) carry the same
marker and are claimed with ``claim_dir``.
"""

import contextlib
import ctypes
import errno
import json
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kubeslim import __version__
from kubeslim.addresses import is_uri
from kubeslim.errors import KubeslimError

MARKER_FILE = ".kubeslim-output.json"
WRITING, COMPLETE, DISCARDING = "writing", "complete", "discarding"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2

log = logging.getLogger(__name__)

Inputs = Mapping[str, "str | os.PathLike | None"]
"""A step's inputs for the nesting check: what names each (a flag) -> its path (None, or a
``gs://``-style address, is skipped)."""


def read_marker(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The kubeslim marker of ``directory``, or None where it has none (or an unreadable one)."""
    try:
        return parse_marker((Path(directory) / MARKER_FILE).read_text())
    except (OSError, UnicodeDecodeError):
        return None


def parse_marker(text: str) -> dict[str, Any] | None:
    """A marker file's content as a dict, or None where it is not a kubeslim marker."""
    try:
        marker = json.loads(text)
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("kind"), str) else None


def marker_text(kind: str, state: str) -> str:
    """A marker: while the output is being written it names the writing process; a complete
    output's marker is the same for every run (outputs stay byte-identical)."""
    marker = {"kind": kind, "state": state, "written_by": f"kubeslim {__version__}"}
    if state == WRITING:
        marker.update(host=socket.gethostname(), pid=os.getpid())
    return json.dumps(marker, indent=2) + "\n"


def _write_marker(directory: Path, kind: str, state: str) -> None:
    write_text_atomic(directory / MARKER_FILE, marker_text(kind, state))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Writes ``path`` through a temporary sibling and a rename: a reader, or a kill, never
    sees half of it."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        with partial.open("w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def writable_location(path: str | os.PathLike, what: str = "output directory") -> Path:
    """Checks that a directory can be created (or written) at ``path``; returns it absolute.

    Raises:
      KubeslimError: the path is an object-store address, a file, or below a file, or the
        nearest existing parent is not writable.
    """
    if is_uri(path):
        raise KubeslimError(
            f"{what} {path}: this step writes a local directory; only the Beam jobs (convert, "
            "convert-text, analyze) write to an object store"
        )
    out = Path(path).absolute()
    if out.exists() and not out.is_dir():
        raise KubeslimError(f"{what} {out} exists and is not a directory")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise KubeslimError(f"cannot create {what} {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise KubeslimError(f"cannot create {what} {out}: {parent} is not writable")
    return out


def check_not_nested(out: Path, inputs: Inputs, what: str) -> None:
    """Refuses an output that is, lies inside, or holds one of ``inputs`` or the current
    directory: replacing it would delete them.

    Raises:
      KubeslimError: naming the output and the input.
    """
    real = out.resolve()
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise KubeslimError(
            f"{what} {out} is the current directory or holds it; choose a directory below it"
        )
    for name, path in inputs.items():
        if path is None or str(path) == "" or is_uri(path):
            continue
        given = Path(urlparse(str(path)).path if str(path).startswith("file:") else path)
        source = given.absolute().resolve()
        if real == source:
            raise KubeslimError(f"{what} {out} is the same directory as {name} {given}")
        if source in real.parents:
            raise KubeslimError(f"{what} {out} lies inside {name} {given}; choose another place")
        if real in source.parents:
            raise KubeslimError(
                f"{what} {out} holds {name} {given}: replacing it would delete it; choose "
                "another place"
            )


def _refusal(out: Path, what: str, kind: str, overwrite: bool) -> str | None:
    """Why the existing ``out`` may not be replaced by an output of ``kind``, or None."""
    if not out.exists():
        return None
    if not out.is_dir():
        return f"{what} {out} exists and is not a directory"
    if not any(out.iterdir()):
        return None
    marker = read_marker(out)
    if marker is None:
        return (
            f"{what} {out} exists and was not written by kubeslim (it has no {MARKER_FILE}); "
            "kubeslim never replaces a directory it did not write: choose a new path or "
            "remove it yourself"
        )
    if marker["kind"] != kind and not overwrite:
        return (
            f"{what} {out} holds a kubeslim {marker['kind']} output, not a {kind}; pass "
            "--overwrite to replace it, or choose a new path"
        )
    return None


def pid_alive(pid: Any) -> bool:
    """Whether ``pid`` is another live process on this host."""
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_output(directory: Path) -> None:
    """Deletes a kubeslim output, its marker last (marked as being discarded first), so a kill
    halfway leaves a directory the next run still recognizes as its own."""
    marker = read_marker(directory)
    if marker is not None and marker.get("state") != DISCARDING:
        _write_marker(directory, marker["kind"], DISCARDING)
    for entry in directory.iterdir():
        if entry.name == MARKER_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (directory / MARKER_FILE).unlink(missing_ok=True)
    directory.rmdir()


def _leftovers(final: Path) -> list[Path]:
    names = (f".{final.name}.tmp-*", f".{final.name}.old-*")
    return sorted(p for pattern in names for p in final.parent.glob(pattern) if p.is_dir())


def recover(final: Path) -> None:
    """Tidies what killed runs left beside ``final``, saying what it does: an unfinished
    output is removed, a previous output that was replaced is removed, and an output that a
    kill left outside ``final`` (between the two renames of a replacement) is moved back.

    Raises:
      KubeslimError: another live kubeslim process is writing ``final`` now.
    """
    complete = []
    for leftover in _leftovers(final):
        marker = read_marker(leftover)
        if marker is None:
            if all(p.name.startswith(f".{MARKER_FILE}.partial-") for p in leftover.iterdir()):
                shutil.rmtree(leftover)  # killed between creating it and marking it
            else:
                log.warning("left %s alone: it is not a kubeslim output", leftover)
            continue
        state = marker.get("state")
        if state == WRITING and marker.get("host") == socket.gethostname():
            if pid_alive(marker.get("pid")):
                raise KubeslimError(
                    f"{final} is being written by another kubeslim process (pid "
                    f"{marker['pid']}); wait for it to finish or stop it"
                )
        if state == COMPLETE:
            # A finished new output (.tmp-) is preferred to the one it was replacing (.old-).
            complete.append((".tmp-" in leftover.name, leftover.name, leftover))
            continue
        log.warning("removing %s, left unfinished by an earlier run that was killed", leftover)
        _remove_output(leftover)
    complete.sort(reverse=True)
    if complete and (not final.exists() or (final.is_dir() and not any(final.iterdir()))):
        *_, chosen = complete.pop(0)
        os.replace(chosen, final)
        log.warning("restored %s from %s, where a killed run had left it", final, chosen.name)
    for *_, leftover in complete:
        log.warning("removing %s, an output replaced by an earlier run that was killed", leftover)
        _remove_output(leftover)


def _renameat2() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None


_RENAMEAT2 = _renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swaps the directories at ``a`` and ``b``; False where the kernel or file
    system cannot (the caller then renames twice)."""
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _move_into_place(staged: Path, final: Path) -> None:
    """Moves the complete ``staged`` to ``final``, replacing a previous output there."""
    if not final.exists() or (final.is_dir() and not any(final.iterdir())):
        os.replace(staged, final)  # rename(2) replaces an empty directory atomically
        return
    if _exchange(staged, final):
        _remove_output(staged)  # now the previous output
        return
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(final, old)
    os.replace(staged, final)
    _remove_output(old)


class OutputDir:
    """An output directory of one kind, checked when made and written through ``staging``.

    Args:
      path: the final directory.
      kind: what the step writes (``dataset``, ``saved_model``, ...), recorded in the marker.
      overwrite: also replace a kubeslim output of another kind.
      inputs: the step's inputs (flag -> path); the output may not hold or lie in them.
      what: how messages name the output (its flag).

    Raises:
      KubeslimError: the output may not be written there (see the module docstring).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        kind: str,
        *,
        overwrite: bool = False,
        inputs: Inputs | None = None,
        what: str = "--output_dir",
    ):
        self.path = writable_location(path, what)
        self.kind, self._overwrite, self._what = kind, overwrite, what
        check_not_nested(self.path, inputs or {}, what)
        if self.path.parent.exists():
            recover(self.path)
        if problem := _refusal(self.path, what, kind, overwrite):
            raise KubeslimError(problem)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """Yields a temporary sibling of the output to write into, then moves it into place.

        On an exception the temporary directory is removed and the final path is left as it
        was.
        """
        final = self.path
        final.parent.mkdir(parents=True, exist_ok=True)
        staged = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            staged.mkdir()
        except OSError as e:
            raise KubeslimError(f"cannot create {self._what} {final}: {e.strerror}") from e
        try:
            _write_marker(staged, self.kind, WRITING)
            yield staged
            _write_marker(staged, self.kind, COMPLETE)
        except BaseException:
            _remove_output(staged)
            raise
        if problem := _refusal(final, self._what, self.kind, self._overwrite):
            _remove_output(staged)  # something else appeared there while we worked
            raise KubeslimError(problem)
        _move_into_place(staged, final)

    local_staging = staging  # as ``output_dirs.ObjectStoreOutputDir``'s: the output is local


def check_claim(
    path: str | os.PathLike,
    kind: str,
    *,
    inputs: Inputs | None = None,
    what: str = "directory",
) -> Path:
    """Checks that ``claim_dir`` may claim ``path``, writing nothing; returns it absolute.

    Raises:
      KubeslimError: as ``claim_dir``.
    """
    out = writable_location(path, what)
    check_not_nested(out, inputs or {}, what)
    if problem := _refusal(out, what, kind, overwrite=False):
        raise KubeslimError(problem)
    return out


def claim_dir(
    path: str | os.PathLike,
    kind: str,
    *,
    inputs: Inputs | None = None,
    what: str = "directory",
) -> Path:
    """Makes ``path`` a kubeslim directory of ``kind`` that runs add to (a model directory):
    a new or empty directory is marked as one; one already marked so is used as it is.

    Returns:
      The path, absolute.

    Raises:
      KubeslimError: the path holds something else (a directory kubeslim did not write, or a
        kubeslim output of another kind), or is nested with an input.
    """
    out = check_claim(path, kind, inputs=inputs, what=what)
    out.mkdir(parents=True, exist_ok=True)
    if read_marker(out) is None:
        _write_marker(out, kind, COMPLETE)
    return out
