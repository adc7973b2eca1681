"""TF-Slim's LeNet preprocessing: crop or pad to the output size, scale to [-1, 1)."""

from collections.abc import Mapping

import tensorflow as tf


def preprocess_image(
    image: tf.Tensor,
    output_height: int,
    output_width: int,
    is_training: bool = False,
    statistics: Mapping[str, tf.Tensor] | None = None,
) -> tf.Tensor:
    """Preprocesses one image; training and evaluation are the same for LeNet.

    Args:
      image: uint8 [height, width, channels].
      output_height: height of the result.
      output_width: width of the result.
      is_training: unused; LeNet has no training distortions.
      statistics: unused; the scaling is fixed.

    Returns:
      float32 [output_height, output_width, channels], ``(pixel - 128) / 128``; padding
      becomes -1 (black).
    """
    del is_training, statistics
    image = tf.cast(image, tf.float32)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return (image - 128.0) / 128.0
