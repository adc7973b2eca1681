"""TF-Slim's CifarNet preprocessing.

Training: pad by 4 pixels, random crop back to the output size, random horizontal flip,
random brightness (max delta 63) and contrast (0.2 to 1.8), per-image standardization.
Evaluation: central crop or pad to the output size, per-image standardization.
"""

from collections.abc import Mapping

import tensorflow as tf

_PADDING = 4


def preprocess_image(
    image: tf.Tensor,
    output_height: int,
    output_width: int,
    is_training: bool = False,
    statistics: Mapping[str, tf.Tensor] | None = None,
) -> tf.Tensor:
    """Preprocesses one uint8 [h, w, c] image to float32 [output_height, output_width, c],
    standardized to zero mean and unit variance per image."""
    image = tf.cast(image, tf.float32)
    if not is_training:
        image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
        return tf.image.per_image_standardization(image)
    channels = image.shape[-1]
    image = tf.pad(image, [[_PADDING, _PADDING], [_PADDING, _PADDING], [0, 0]])
    image = tf.image.resize_with_crop_or_pad(
        image, output_height + 2 * _PADDING, output_width + 2 * _PADDING
    )
    image = tf.image.random_crop(image, [output_height, output_width, channels])
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, max_delta=63)
    image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
    return tf.image.per_image_standardization(image)
