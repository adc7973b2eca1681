"""Maps preprocessing names to functions
``(image, height, width, is_training, statistics=None) -> image``; ``statistics`` are the
tensorflow-transform outputs (``pixel_mean``, ``pixel_std``) for preprocessings that
normalize with data set statistics."""

from collections.abc import Callable

import tensorflow as tf

from kubeslim.components.preprocessing import (
    cifarnet_preprocessing,
    inception_preprocessing,
    lenet_preprocessing,
    vgg_preprocessing,
)
from kubeslim.errors import KubeslimError

PreprocessFn = Callable[..., tf.Tensor]

PREPROCESSING: dict[str, PreprocessFn] = {
    "cifarnet": cifarnet_preprocessing.preprocess_image,
    "inception": inception_preprocessing.preprocess_image,
    "lenet": lenet_preprocessing.preprocess_image,
    "vgg": vgg_preprocessing.preprocess_image,
}


def get_preprocessing(name: str) -> PreprocessFn:
    """Returns preprocessing ``name``.

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    if name not in PREPROCESSING:
        raise KubeslimError(
            f"unknown preprocessing {name!r}; known: {', '.join(sorted(PREPROCESSING))}"
        )
    return PREPROCESSING[name]
