"""SavedModels that TF Serving can serve.

TF Serving, KServe's TensorFlow runtime and ``saved_model_cli`` load a SavedModel with the
session-based loader (``tf.compat.v1.saved_model.loader``). A Keras 3 model saved inside a
``tf.Module`` with ``tf.saved_model.save`` does not load there ("Could not find variable
fc4/bias": tensorflow/tensorflow#72963, keras-team/keras#20095, tensorflow/serving#2226), so
every export is written through Keras's own ``ExportArchive``, which does.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf


def write_servable(
    directory: str | Path,
    endpoints: Mapping[str, tf.types.experimental.GenericFunction],
    tracked: Sequence[Any],
) -> None:
    """Writes a SavedModel whose signatures are ``endpoints`` (name -> a ``tf.function`` with
    an input signature; ``serving_default`` among them).

    Args:
      directory: where to write (a version directory of an export).
      endpoints: the signatures.
      tracked: the Keras models and layers, and the modules holding lookup tables or other
        resources, that the endpoints use.
    """
    archive = keras.export.ExportArchive()
    for resource in tracked:
        archive.track(resource)
    for name, function in endpoints.items():
        function.get_concrete_function()  # traced once, as the archive needs it
        archive.add_endpoint(name, function)
    archive.write_out(str(directory), verbose=False)
