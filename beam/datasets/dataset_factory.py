"""Maps data set names to their converter classes."""

from typing import Any

from kubeslim.beam.datasets import cifar10, digits, flowers, image_folder, imagenet, mnist
from kubeslim.beam.datasets.base import ImageDataset
from kubeslim.errors import KubeslimError

DATASETS: dict[str, type[ImageDataset]] = {
    "cifar10": cifar10.Cifar10,
    "digits": digits.Digits,
    "flowers": flowers.Flowers,
    "image_folder": image_folder.ImageFolder,
    "imagenet": imagenet.ImageNet,
    "mnist": mnist.Mnist,
}


def get_dataset(name: str, **options: Any) -> ImageDataset:
    """Returns the converter for data set ``name``, built with ``options``.

    Raises:
      KubeslimError: ``name`` is not registered, or takes none of the given options.
    """
    if name not in DATASETS:
        raise KubeslimError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    try:
        return DATASETS[name](**options)
    except TypeError:
        given = ", ".join(f"--{k}" for k in options)
        raise KubeslimError(f"data set {name!r} does not take {given}") from None
