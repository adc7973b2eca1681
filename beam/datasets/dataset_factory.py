"""Maps data set names to their converter modules."""

from kubeslim.beam.datasets import digits
from kubeslim.beam.datasets.base import ImageDataset
from kubeslim.errors import KubeslimError

DATASETS: dict[str, type[ImageDataset]] = {
    "digits": digits.Digits,
}


def get_dataset(name: str) -> ImageDataset:
    """Returns the converter for data set ``name``.

    Raises:
      KubeslimError: ``name`` is not a registered data set.
    """
    if name not in DATASETS:
        raise KubeslimError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()
