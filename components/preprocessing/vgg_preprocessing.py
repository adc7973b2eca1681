"""TF-Slim's VGG preprocessing, also used by the ResNet v1 nets.

Training: aspect-preserving resize so the shorter side is a random length in [256, 512], a
random crop to the output size, random horizontal flip. Evaluation: aspect-preserving resize
so the shorter side is 256, central crop. Both subtract per-channel means: the data set's
own from the tensorflow-transform statistics when given, else ImageNet's RGB means.
"""

from collections.abc import Mapping

import tensorflow as tf

_CHANNEL_MEANS = (123.68, 116.78, 103.94)
RESIZE_SIDE_MIN = 256
RESIZE_SIDE_MAX = 512


def _aspect_preserving_resize(image: tf.Tensor, smallest_side: tf.Tensor) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(smallest_side, tf.float32) / tf.reduce_min(shape)
    new_size = tf.cast(tf.math.round(shape * scale), tf.int32)
    return tf.image.resize(image, new_size, method="bilinear")


def _central_crop(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    shape = tf.shape(image)
    top = (shape[0] - height) // 2
    left = (shape[1] - width) // 2
    return image[top : top + height, left : left + width]


def preprocess_image(
    image: tf.Tensor,
    output_height: int,
    output_width: int,
    is_training: bool = False,
    statistics: Mapping[str, tf.Tensor] | None = None,
) -> tf.Tensor:
    """Preprocesses one uint8 [h, w, c] image to float32 [output_height, output_width, c],
    mean-subtracted (with ImageNet's means, values in about [-124, 152]).

    ``statistics["pixel_mean"]`` (float32 [c]), when given, replaces ImageNet's means.
    """
    image = tf.cast(image, tf.float32)
    channels = image.shape[-1]
    if is_training:
        side = tf.random.uniform([], RESIZE_SIDE_MIN, RESIZE_SIDE_MAX + 1, dtype=tf.int32)
        image = _aspect_preserving_resize(image, side)
        image = tf.image.random_crop(image, [output_height, output_width, channels])
        image = tf.image.random_flip_left_right(image)
    else:
        image = _aspect_preserving_resize(image, RESIZE_SIDE_MIN)
        image = _central_crop(image, output_height, output_width)
    image = tf.ensure_shape(image, [output_height, output_width, channels])
    if statistics is not None:
        return image - statistics["pixel_mean"]
    return image - tf.constant(_CHANNEL_MEANS[:channels], tf.float32)
