"""TF-Slim's Inception preprocessing.

Training: a random crop from ``tf.image.sample_distorted_bounding_box`` (covering at least 10%
of the image, aspect ratio 3/4 to 4/3, 5% to 100% of the area), resized to the output size,
random horizontal flip, random colour distortion (brightness, saturation, hue, contrast in a
random one of two orders). Evaluation: central crop of 87.5% of the image, resized to the
output size. Both scale the pixels to [-1, 1].
"""

from collections.abc import Mapping

import tensorflow as tf

_CENTRAL_FRACTION = 0.875


def _distort_color(image: tf.Tensor) -> tf.Tensor:
    def brightness_first(x: tf.Tensor) -> tf.Tensor:
        x = tf.image.random_brightness(x, max_delta=32.0 / 255.0)
        x = tf.image.random_saturation(x, lower=0.5, upper=1.5)
        x = tf.image.random_hue(x, max_delta=0.2)
        return tf.image.random_contrast(x, lower=0.5, upper=1.5)

    def saturation_first(x: tf.Tensor) -> tf.Tensor:
        x = tf.image.random_saturation(x, lower=0.5, upper=1.5)
        x = tf.image.random_brightness(x, max_delta=32.0 / 255.0)
        x = tf.image.random_contrast(x, lower=0.5, upper=1.5)
        return tf.image.random_hue(x, max_delta=0.2)

    image = tf.cond(
        tf.random.uniform([]) < 0.5,
        lambda: brightness_first(image),
        lambda: saturation_first(image),
    )
    return tf.clip_by_value(image, 0.0, 1.0)


def preprocess_image(
    image: tf.Tensor,
    output_height: int,
    output_width: int,
    is_training: bool = False,
    statistics: Mapping[str, tf.Tensor] | None = None,
) -> tf.Tensor:
    """Preprocesses one uint8 [h, w, c] image to float32 [output_height, output_width, c] in
    [-1, 1]; colour distortion applies to RGB images only."""
    image = tf.image.convert_image_dtype(image, tf.float32)  # [0, 1]
    channels = image.shape[-1]
    if is_training:
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            tf.shape(image),
            bounding_boxes=tf.constant([0.0, 0.0, 1.0, 1.0], shape=[1, 1, 4]),
            min_object_covered=0.1,
            aspect_ratio_range=(0.75, 1.33),
            area_range=(0.05, 1.0),
            max_attempts=100,
            use_image_if_no_bounding_boxes=True,
        )
        image = tf.slice(image, begin, size)
        image = tf.image.resize(image, [output_height, output_width], method="bilinear")
        image = tf.image.random_flip_left_right(image)
        if channels == 3:
            image = _distort_color(image)
    else:
        image = tf.image.central_crop(image, central_fraction=_CENTRAL_FRACTION)
        image = tf.image.resize(image, [output_height, output_width], method="bilinear")
    image = tf.ensure_shape(image, [output_height, output_width, channels])
    return (image - 0.5) * 2.0
