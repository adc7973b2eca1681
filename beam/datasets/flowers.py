"""Flowers: TensorFlow's ``flower_photos.tgz``, five class folders of JPEGs (3,670 images).

As in TF-Slim, the files are shuffled with the seed and 350 go to the validation split; five
shards each. JPEG bytes are kept as they are when they decode; files that do not decode (the
archive's stray files, or corrupt JPEGs) are skipped and listed in the job summary.
"""

import posixpath
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path

from kubeslim.beam import archives
from kubeslim.beam.datasets.base import ClassFolderDataset
from kubeslim.beam.download import RemoteFile, fetch

CANONICAL_FILE = RemoteFile(
    "http://download.tensorflow.org/example_images/flower_photos.tgz",
    228_813_984,
    "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
)
_ROOT = "flower_photos"
_NUM_VALIDATION = 350


class Flowers(ClassFolderDataset):
    name = "flowers"
    default_num_shards = {"train": 5, "validation": 5}

    def __init__(self, file: RemoteFile | None = None, validation_size: float = _NUM_VALIDATION):
        """``file``: the archive to fetch (the canonical one by default)."""
        super().__init__(validation_size)
        self._file = file or CANONICAL_FILE

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        gz = fetch(self._file, cache_dir, source)
        self._tar = str(archives.gunzip(gz, cache_dir / gz.with_suffix(".tar").name))
        self._classes: dict[str, list[Hashable]] = {}
        for member in archives.index_tar(self._tar, include_dirs=True):
            parts = posixpath.normpath(member.name).split("/")
            if parts[0] != _ROOT or parts[-1].startswith("."):
                continue
            if len(parts) == 2 and member.is_dir:  # a class folder, maybe empty
                self._classes.setdefault(parts[1], [])
            elif len(parts) == 3 and not member.is_dir:  # a file in a class folder
                self._classes.setdefault(parts[1], []).append(member)

    def list_class_files(self) -> dict[str, list[Hashable]]:
        return self._classes

    def read_files(self, handles: Sequence[Hashable]) -> Iterator[bytes]:
        return archives.read_members(self._tar, handles)

    def describe(self) -> str:
        return f"{self._tar}:{_ROOT}/"
