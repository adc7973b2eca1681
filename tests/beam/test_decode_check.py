"""The converter's decode check agrees with TensorFlow itself, image by image."""

import io

import numpy as np
import tensorflow as tf
from PIL import Image

from kubeslim.beam.decode_check import undecodable

from .fakes import jpeg_bytes, jpeg_tensorflow_rejects, png_bytes


def _tensorflow_decodes(data: bytes) -> bool:
    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
    except tf.errors.InvalidArgumentError:
        return False
    return True


def test_a_batch_is_judged_image_by_image_as_tensorflow_judges_them():
    rng = np.random.default_rng(0)
    good = [jpeg_bytes(rng), png_bytes(rng), jpeg_bytes(rng, mode="L")]
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (9, 9), dtype=np.uint8)).save(buffer, "GIF")
    truncated_png = png_bytes(rng)[:-30]
    batch = [good[0], jpeg_tensorflow_rejects(), good[1], truncated_png, good[2], b"text"]
    batch.append(buffer.getvalue())  # a GIF decodes too
    failed = undecodable(batch, channels=3)
    assert sorted(failed) == [i for i, data in enumerate(batch) if not _tensorflow_decodes(data)]
    assert sorted(failed) == [1, 3, 5]
    assert all(reason.startswith("TensorFlow cannot decode it (") for reason in failed.values())
    assert undecodable(good, channels=3) == {} and undecodable([], channels=1) == {}
