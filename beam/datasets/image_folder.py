"""A user's own images: ``ROOT/CLASS_NAME/*`` with one folder per class.

``ROOT`` is the ``--source``: a local directory or an object-store prefix (``gs://``,
``s3://``) that Beam's file systems can list. Every non-hidden file in a class folder is a
record; files that do not decode as images are skipped and listed in the job summary. The
validation split is ``validation_size`` of the files (a fraction, or a count if >= 1), chosen
deterministically by the seed.
"""

import os
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

from kubeslim.beam.datasets.base import ClassFolderDataset
from kubeslim.errors import KubeslimError


class ImageFolder(ClassFolderDataset):
    name = "image_folder"
    default_num_shards = {"train": 4, "validation": 1}

    def __init__(self, validation_size: float = 0.1):
        super().__init__(validation_size)

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        if not source:
            raise KubeslimError("image_folder needs --source ROOT (a folder of class folders)")
        self._root = source.rstrip("/")
        if urlparse(self._root).scheme in ("", "file"):
            self._classes = _list_local(Path(urlparse(self._root).path or self._root))
        else:
            self._classes = _list_object_store(self._root)

    def list_class_files(self) -> dict[str, list[Hashable]]:
        return self._classes

    def read_files(self, handles: Sequence[Hashable]) -> Iterator[bytes]:
        from apache_beam.io.filesystems import FileSystems

        for path in handles:
            with FileSystems.open(path, compression_type="uncompressed") as f:
                yield f.read()

    def describe(self) -> str:
        return self._root


def _list_local(root: Path) -> dict[str, list[Hashable]]:
    if not root.is_dir():
        raise KubeslimError(f"image_folder: {root} is not a directory")
    return {
        entry.name: sorted(
            str(f) for f in Path(entry.path).iterdir() if f.is_file() and not f.name.startswith(".")
        )
        for entry in os.scandir(root)
        if entry.is_dir() and not entry.name.startswith(".")
    }


def _list_object_store(root: str) -> dict[str, list[Hashable]]:
    from apache_beam.io.filesystems import FileSystems

    classes: dict[str, list[Hashable]] = {}
    for match in FileSystems.match([f"{root}/*/*"]):
        for metadata in match.metadata_list:
            class_name, file_name = metadata.path[len(root) + 1 :].split("/", 1)
            if "/" not in file_name and not file_name.startswith("."):
                classes.setdefault(class_name, []).append(metadata.path)
    if not classes:
        raise KubeslimError(f"image_folder: no files under {root}/CLASS_NAME/")
    return classes
