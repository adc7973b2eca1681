"""A content fingerprint of what a conversion reads, so a retraining run is keyed by its data:
the pipeline passes it to the convert step as an input, and KFP's cache (keyed on inputs)
hits when the data is unchanged and misses when it grew or changed.

A folder (``--source`` of ``image_folder``, a mirror, a ``kubeslim convert`` output; local,
``gs://`` or ``s3://``) is fingerprinted by its listing: every file's path and size, with the
SHA-256 of its content where it is local and at most 16 MiB (an image), and its modification
time otherwise (an object store's object, where a rewrite is a new object, or a large archive
such as ImageNet's, which is not read through on every run). An http(s) mirror, which cannot
be listed, is its address; a data set read from its canonical address is its name: those
archives do not change.
"""

import hashlib

from kubeslim import storage
from kubeslim.addresses import is_uri
from kubeslim.errors import KubeslimError

_CHUNK = 1 << 20
_HASHED_BYTES = 16 << 20


def _file_line(file: "storage.FileInfo", local: bool) -> str:
    if not local or file.size > _HASHED_BYTES:
        return f"{file.relative}\t{file.size}\t{file.mtime_ns}"
    digest = hashlib.sha256()
    with open(file.path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return f"{file.relative}\t{file.size}\t{digest.hexdigest()}"


def folder_fingerprint(root: str) -> str:
    """``sha256:<hex> <n> files`` of every file below ``root``, in a stable order.

    Raises:
      KubeslimError: ``root`` is not a directory (a prefix holding objects), or the store
        cannot be listed.
    """
    root = root.rstrip("/")
    files = storage.list_files(root)
    if not files and not storage.is_dir(root):  # listed twice only when it fails
        raise KubeslimError(f"{root} is not a directory to fingerprint")
    local = not is_uri(root)
    lines = [_file_line(file, local) for file in files]
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return f"sha256:{digest} {len(lines)} files"


def source_fingerprint(dataset_name: str, source: str = "", converted_dataset: str = "") -> str:
    """What the convert step will read, fingerprinted: ``converted_dataset`` when given, else
    ``source``, else the data set's canonical address (its name)."""
    if converted_dataset:
        return f"converted {folder_fingerprint(converted_dataset)}"
    if source.startswith(("http://", "https://")):
        return f"{dataset_name} {source}"
    if source:
        return f"{dataset_name} {folder_fingerprint(source)}"
    return f"{dataset_name} canonical"
