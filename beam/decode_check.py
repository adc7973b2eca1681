"""Whether image bytes decode the way training reads them (``input_pipeline.decode_image``,
that is ``tf.io.decode_image``).

Pillow and TensorFlow disagree on some damaged files: about one random byte corruption of a
JPEG in ten still opens in Pillow and fails in TensorFlow, which would stop training halfway
through an epoch. The converter therefore checks every image it takes from source files with
TensorFlow itself, in the Beam workers. TensorFlow is imported on first use, so jobs whose
images the converter encodes itself (MNIST, CIFAR-10, the digits) never pay for it.
"""

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

_OP_NOISE = re.compile(r"^\{\{[^}]*\}\}\s*|\s*\[Op:\w+\].*$")


@functools.cache
def _decoders(channels: int) -> tuple[Callable[[Any], Any], Callable[[bytes], Any], Any]:
    """(check of a batch, check of one image, the error type) for ``channels``."""
    from kubeslim.quiet_tensorflow import import_tensorflow

    tf = import_tensorflow()

    from kubeslim.components.input_pipeline import decode_image

    def decoded_size(encoded: tf.Tensor) -> tf.Tensor:
        return tf.size(decode_image(encoded, channels))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def decode_all(batch: tf.Tensor) -> tf.Tensor:
        return tf.map_fn(decoded_size, batch, fn_output_signature=tf.int32)

    return decode_all, lambda data: decoded_size(tf.constant(data)), tf.errors.OpError


def undecodable(images: Sequence[bytes], channels: int) -> dict[int, str]:
    """The images TensorFlow cannot decode to ``channels`` channels, by index, with its reason.

    One graph call checks the whole batch; only a batch with a bad image is checked again
    image by image.
    """
    if not images:
        return {}
    decode_all, decode_one, error = _decoders(channels)
    try:
        decode_all(list(images))
        return {}
    except error:
        pass
    bad = {}
    for index, data in enumerate(images):
        try:
            decode_one(data)
        except error as e:
            reason = _OP_NOISE.sub("", e.message.strip().splitlines()[0]).strip()
            bad[index] = f"TensorFlow cannot decode it ({reason})"
    return bad
