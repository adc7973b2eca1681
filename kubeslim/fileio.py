"""Output directories that appear whole or not at all."""

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from kubeslim.errors import KubeslimError

log = logging.getLogger(__name__)


def check_output_dir(path: str | os.PathLike) -> Path:
    """Checks that ``path`` can become an output directory, before any work is done.

    Args:
      path: the directory to (re)create. It may exist (it is then replaced as a whole).

    Returns:
      The path, absolute.

    Raises:
      KubeslimError: the path is a file, or a parent is a file, or the parent is not writable.
    """
    out = Path(path).absolute()
    if out.exists() and not out.is_dir():
        raise KubeslimError(f"output directory {out} exists and is not a directory")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise KubeslimError(f"cannot create output directory {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise KubeslimError(f"cannot create output directory {out}: {parent} is not writable")
    return out


@contextlib.contextmanager
def atomic_output_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary sibling of ``path`` to write into; moves it to ``path`` on success.

    On an exception the temporary directory is removed and ``path`` is left as it was, so a
    failed or killed job never leaves half-written output under the final name; what a killed
    run left beside it is removed by the next run. An existing ``path`` is replaced only once
    the new contents are complete.
    """
    final = check_output_dir(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        log.warning("removing %s, left by an earlier run that did not finish", stale)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir()
    except OSError as e:
        raise KubeslimError(f"cannot create output directory {final}: {e.strerror}") from e
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, final)


def replace_dir(src: Path, dst: Path) -> None:
    """Moves directory ``src`` to ``dst``, replacing an existing ``dst`` as a whole."""
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)
