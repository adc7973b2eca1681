"""What a data set module provides to the shared converter (``kubeslim.beam.convert``)."""

import abc
import os
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from kubeslim.errors import KubeslimError

RecordRef = Hashable
"""A small, picklable handle on one source image within its split (an index, a path, an
archive member); ``str(ref)`` names the image in error messages and the job summary."""


@dataclass(frozen=True)
class SourceImage:
    """One source image, as pixels or as the bytes of an image file.

    Attributes:
      label: class id in [0, num_classes).
      pixels: uint8 [height, width, channels] (PNG-encoded by the converter), or None.
      encoded: the bytes of an image file (kept as they are when they are a JPEG or PNG that
        decodes, re-encoded otherwise, skipped when they do not decode), or None.
    """

    label: int
    pixels: np.ndarray | None = None
    encoded: bytes | None = None


class ImageDataset(abc.ABC):
    """A data set the converter can turn into TFRecords.

    The driver calls ``prepare`` (the download stage), ``class_names`` and ``split_records``;
    Beam workers call ``read`` on chunks of record handles, so instances must pickle small.

    Attributes:
      name: the registry name, also the shard file prefix.
      image_shape: [height, width, channels]; None for a dimension that varies.
      default_num_shards: shards per split.
      background_class: class 0 is TF-Slim's "background" and labels start at 1 (ImageNet's
        1,001 classes); a net trained for 1,000 classes then needs ``labels_offset=1``.
    """

    name: str
    image_shape: tuple[int | None, int | None, int]
    default_num_shards: dict[str, int]
    background_class: bool = False

    def prepare(self, cache_dir: Path, source: str | None) -> None:  # noqa: B027
        """Downloads or locates the raw data. ``source`` overrides the canonical address."""

    @abc.abstractmethod
    def class_names(self) -> list[str]:
        """Human-readable class names, indexed by class id."""

    @abc.abstractmethod
    def split_records(self, seed: int) -> dict[str, Sequence[RecordRef]]:
        """The records of each split, as handles for ``read``; deterministic for a seed.

        A numpy array of ints is the compact choice for indexed records: shards then carry
        index arrays, not millions of Python objects.
        """

    @abc.abstractmethod
    def read(self, split: str, refs: Sequence[RecordRef]) -> Iterator[SourceImage]:
        """Reads the images behind ``refs`` of ``split``, in order."""


def check_class_folders(files_per_class: Mapping[str, int], where: str) -> None:
    """Refuses a class-folder tree with an empty class or fewer than two classes.

    Raises:
      KubeslimError: naming the empty folder, or the tree.
    """
    empty = sorted(name for name, n in files_per_class.items() if n == 0)
    if empty:
        raise KubeslimError(f"{where}: class folder {empty[0]!r} has no image files")
    if len(files_per_class) < 2:
        raise KubeslimError(
            f"{where}: found {len(files_per_class)} class folder(s); need at least two "
            "(ROOT/CLASS_NAME/image files)"
        )


def split_off(refs: Sequence[RecordRef], count: int, seed: int) -> tuple[list, list]:
    """Shuffles ``refs`` with ``seed`` and splits off the first ``count``: (rest, split_off)."""
    order = np.random.default_rng(seed).permutation(len(refs))
    shuffled = [refs[i] for i in order]
    return shuffled[count:], shuffled[:count]


_BLOCK_BYTES = 4 << 20


class RecordFile:
    """Fixed-size uint8 records in a file, indexed like a numpy array.

    Not a memory map: shuffled access to a map pages in the whole file in every worker, so
    memory would grow with the data set. Indexing with an array of indices (a shard's worth)
    reads the records in file order through a few large reads and returns them in the order
    asked, holding only those records.
    """

    def __init__(self, path: str | Path, offset: int, shape: tuple[int, ...]):
        self._path, self._offset = str(path), offset
        self._record_shape = shape[1:]
        self._record_size = int(np.prod(shape[1:]))
        self._count = shape[0]

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int | np.ndarray) -> np.ndarray:
        """One record [*shape], or records [k, *shape] for an array of k indices."""
        indices = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if indices.size and (indices.min() < 0 or indices.max() >= self._count):
            raise IndexError(f"{self._path}: index out of range [0, {self._count})")
        order = np.argsort(indices, kind="stable")
        wanted = indices[order]
        out = np.empty((len(indices), *self._record_shape), np.uint8)
        per_block = max(1, _BLOCK_BYTES // self._record_size)
        start = 0
        with open(self._path, "rb") as f:
            while start < len(wanted):
                first = int(wanted[start])
                end = min(first + per_block, self._count)
                stop = int(np.searchsorted(wanted, end))
                data = os.pread(
                    f.fileno(),
                    (end - first) * self._record_size,
                    self._offset + first * self._record_size,
                )
                block = np.frombuffer(data, np.uint8).reshape(-1, *self._record_shape)
                out[order[start:stop]] = block[wanted[start:stop] - first]
                start = stop
        return out if np.ndim(index) else out[0]


class ArrayDataset(ImageDataset):
    """A data set whose splits are uint8 images with int labels; records are indices."""

    @abc.abstractmethod
    def open_split(self, split: str) -> tuple[Sequence[np.ndarray], np.ndarray]:
        """(images, each uint8 [h, w, c]; labels int [n]) of ``split``."""

    def split_records(self, seed: int) -> dict[str, Sequence[int]]:
        return {split: np.arange(len(self.open_split(split)[1])) for split in self.splits()}

    @abc.abstractmethod
    def splits(self) -> list[str]:
        """The split names (after ``prepare``)."""

    def read(self, split: str, refs: Sequence[int]) -> Iterator[SourceImage]:
        images, labels = self.open_split(split)
        indices = np.asarray(refs, dtype=np.int64)
        for pixels, label in zip(images[indices], labels[indices], strict=True):
            yield SourceImage(label=int(label), pixels=pixels)


class LabeledRef(NamedTuple):
    """A record handle with its class id; prints as the handle (a path or archive member)."""

    label: int
    handle: Hashable

    def __str__(self) -> str:
        return str(self.handle)


class ClassFolderDataset(ImageDataset):
    """Images in ``CLASS_NAME/`` folders, with a held-out split cut from them.

    Subclasses list the folders (``list_class_files``, after ``prepare``) and read file bytes
    (``read_files``). Class ids follow the sorted folder names, as TF-Slim assigned them.
    """

    image_shape = (None, None, 3)
    held_out_split = "validation"

    def __init__(self, validation_size: float):
        if validation_size <= 0:
            raise KubeslimError(f"--validation_size {validation_size}: must be positive")
        self._validation_size = validation_size

    @abc.abstractmethod
    def list_class_files(self) -> dict[str, list[Hashable]]:
        """Class folder name -> its files (hidden files left out), empty folders included."""

    @abc.abstractmethod
    def read_files(self, handles: Sequence[Hashable]) -> Iterator[bytes]:
        """The bytes of each file, in order."""

    def class_names(self) -> list[str]:
        return sorted(self.list_class_files())

    def split_records(self, seed: int) -> dict[str, Sequence[LabeledRef]]:
        files = self.list_class_files()
        check_class_folders({name: len(f) for name, f in files.items()}, self.describe())
        refs = [
            LabeledRef(label, handle)
            for label, name in enumerate(sorted(files))
            for handle in sorted(files[name])
        ]
        size = self._validation_size
        count = int(size) if size >= 1 else max(1, round(size * len(refs)))
        if count >= len(refs):
            raise KubeslimError(
                f"{self.describe()}: --validation_size {size} leaves no training images "
                f"({len(refs)} in all)"
            )
        train, held_out = split_off(refs, count, seed)
        return {"train": train, self.held_out_split: held_out}

    def read(self, split: str, refs: Sequence[LabeledRef]) -> Iterator[SourceImage]:
        for ref, data in zip(refs, self.read_files([r.handle for r in refs]), strict=True):
            yield SourceImage(label=ref.label, encoded=data)

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the class folders are, for messages."""
