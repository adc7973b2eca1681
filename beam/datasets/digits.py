"""scikit-learn's embedded 8x8 handwritten digits: the default data set, no download needed.

1,797 images of 10 classes with pixel values 0..16. Pixels are stored as 8-bit PNG with
``round(v * 255 / 16)``, which maps the 17 levels to distinct bytes; ``round(p * 16 / 255)``
recovers the source values exactly. The test split is a stratified 20% (``validation_size``).
"""

import functools
from collections.abc import Sequence

import numpy as np

from kubeslim.beam.datasets.base import ArrayDataset
from kubeslim.errors import KubeslimError

_SOURCE_LEVELS = 16


@functools.cache
def _load() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * 255.0 / _SOURCE_LEVELS).astype(np.uint8)[..., np.newaxis]
    return pixels, digits.target.astype(np.int64)


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Splits indices so each class keeps its share in both parts; deterministic for a seed.

    Returns:
      (train_indices, test_indices), each sorted.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(members) * test_fraction))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


class Digits(ArrayDataset):
    name = "digits"
    image_shape = (8, 8, 1)
    default_num_shards = {"train": 2, "test": 1}

    def __init__(self, validation_size: float = 0.2):
        if not 0 < validation_size < 1:
            raise KubeslimError(f"--validation_size {validation_size}: digits needs a fraction")
        self._test_fraction = validation_size

    def class_names(self) -> list[str]:
        return [str(d) for d in range(10)]

    def splits(self) -> list[str]:
        return ["train", "test"]

    def split_records(self, seed: int) -> dict[str, Sequence[int]]:
        train, test = stratified_split(_load()[1], self._test_fraction, seed)
        return {"train": train, "test": test}

    def open_split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """All 1,797 digits: the records of both splits index into them."""
        return _load()
