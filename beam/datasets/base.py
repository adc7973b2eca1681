"""What a data set module provides to the shared converter (``kubeslim.beam.convert``)."""

import abc
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RecordRef = Hashable
"""A small, picklable handle on one source image (an index, a path, an archive member)."""


@dataclass(frozen=True)
class SourceImage:
    """One decoded source image.

    Attributes:
      pixels: uint8 array of shape [height, width, channels].
      label: class id in [0, num_classes).
    """

    pixels: np.ndarray
    label: int


class ImageDataset(abc.ABC):
    """A data set the converter can turn into TFRecords.

    The driver calls ``prepare`` (the download stage), ``class_names`` and ``split_records``;
    Beam workers call ``read`` on chunks of record handles, so instances must pickle small.
    """

    name: str
    image_shape: tuple[int, int, int]
    default_num_shards: dict[str, int]

    def prepare(self, cache_dir: Path, source: str | None) -> None:  # noqa: B027
        """Downloads or locates the raw data. ``source`` overrides the canonical address."""

    @abc.abstractmethod
    def class_names(self) -> list[str]:
        """Human-readable class names, indexed by class id."""

    @abc.abstractmethod
    def split_records(self, seed: int) -> dict[str, Sequence[RecordRef]]:
        """The records of each split, as handles for ``read``; deterministic for a seed."""

    @abc.abstractmethod
    def read(self, refs: Sequence[RecordRef]) -> Iterator[SourceImage]:
        """Reads the images behind ``refs``, in order."""
