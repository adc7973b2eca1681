"""Classifies image files with an exported model (the tutorials' ``classify_image.py``)."""

from pathlib import Path
from typing import Any

import tensorflow as tf

from kubeslim.components.export import SERVING_SIGNATURE
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import servable_dir


def predict(export_dir: str | Path, image_paths: list[str | Path]) -> list[dict[str, Any]]:
    """The top classes of each image file: ``[{"image", "top": [(class name, probability)]}]``.

    Raises:
      KubeslimError: ``export_dir`` is not an export, or an image cannot be read or decoded
        (the message names the file).
    """
    serving = tf.saved_model.load(str(servable_dir(export_dir))).signatures[SERVING_SIGNATURE]
    results = []
    for path in image_paths:
        try:
            encoded = Path(path).read_bytes()
        except OSError as e:
            raise KubeslimError(f"{path}: {e.strerror}") from None
        try:
            outputs = serving(image_bytes=tf.constant([encoded]))
        except tf.errors.InvalidArgumentError:
            raise KubeslimError(f"{path}: not a PNG or JPEG image the model can decode") from None
        names = [n.decode() for n in outputs["top_k_class_names"].numpy()[0]]
        scores = outputs["top_k_probabilities"].numpy()[0].tolist()
        results.append({"image": str(path), "top": list(zip(names, scores, strict=True))})
    return results
