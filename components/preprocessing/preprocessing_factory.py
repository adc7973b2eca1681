"""Maps preprocessing names to functions
``(image, height, width, is_training, statistics=None) -> image``; ``statistics`` are the
tensorflow-transform outputs (``pixel_mean``, ``pixel_std``) for preprocessings that
normalize with data set statistics."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubeslim.registry import LazyRegistry

if TYPE_CHECKING:
    import tensorflow as tf

PreprocessFn = Callable[..., "tf.Tensor"]

PREPROCESSING = LazyRegistry(
    "kubeslim.components.preprocessing",
    {
        "cifarnet": "cifarnet_preprocessing:preprocess_image",
        "inception": "inception_preprocessing:preprocess_image",
        "lenet": "lenet_preprocessing:preprocess_image",
        "vgg": "vgg_preprocessing:preprocess_image",
    },
    "preprocessing",
)


def get_preprocessing(name: str) -> PreprocessFn:
    """Returns preprocessing ``name``.

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    return PREPROCESSING.get_entry(name)
