"""Keras weight files as checkpoints: a ``.weights.h5`` file saved from a kubeslim net, and the
weight files Keras Applications publishes (``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``
and the like, Keras's legacy HDF5 layout) for the nets Keras ships in TF-Slim's design:
Inception V3, Inception-ResNet-v2, MobileNet (``alpha`` 1.0, 0.75, 0.5, 0.25), MobileNetV2
(1.0, 1.4), VGG 16 and 19.

Keras stores a legacy file's layers in the model's topological order and loads them back by
that order; kubeslim's TF-Slim-named nets create the same layers in the same order, so layer
``i`` with weights in the file is layer ``i`` with weights here (the auxiliary head, which
Keras's nets lack, left out). Where Keras has a dense layer and TF-Slim a convolution (VGG's
fc6-fc8, MobileNet's logits), the kernel is reshaped: Keras flattens [height, width, channels],
the order of a convolution's kernel.
"""

import re
from pathlib import Path
from typing import BinaryIO

import h5py
import keras
import numpy as np

from kubeslim.components.nets.nets_factory import aux_head_layers
from kubeslim.errors import KubeslimError

_KERAS_NETS = (
    "Keras ships inception_v3, inception_resnet_v2, mobilenet_v1 and mobilenet_v2 at any alpha, "
    "vgg_16 and vgg_19 in TF-Slim's design"
)


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _saved_weights_values(f: h5py.File, model: keras.Model) -> dict[str, np.ndarray]:
    """A ``.weights.h5`` file written by ``model.save_weights``: Keras stores layer ``i`` of
    each class as ``layers/<class>_<i>``."""
    values = {}
    seen: dict[str, int] = {}
    for layer in model.layers:
        name = _snake_case(type(layer).__name__)
        seen[name] = seen.get(name, -1) + 1
        key = f"layers/{name}" + (f"_{seen[name]}" if seen[name] else "") + "/vars"
        stored = f.get(key)
        for i, variable in enumerate(layer.weights):
            if stored is not None and str(i) in stored:
                values[variable.path] = stored[str(i)][()]
    return values


def _text(name: bytes | str) -> str:
    return name.decode() if isinstance(name, bytes) else name


def _legacy_values(weights: h5py.Group, model: keras.Model, source: str) -> dict[str, np.ndarray]:
    """Keras Applications' layout: ``layer_names`` in order, each with its ``weight_names``.
    A file without the classifier (Keras's ``_notop`` files) leaves the net's head out; a
    classifier of another size is left as stored, for the restore to name (or exclude)."""
    stored = []
    for name in weights.attrs["layer_names"]:
        group = weights[_text(name)]
        if arrays := [group[_text(n)][()] for n in group.attrs["weight_names"]]:
            stored.append((_text(name), arrays))
    aux = aux_head_layers(model)
    ours = [layer for layer in model.layers if layer.weights and layer.name not in aux]
    if len(stored) > len(ours):
        raise KubeslimError(
            f"--checkpoint_path {source}: a Keras weights file of {len(stored)} layers with "
            f"weights, where {model.name} has {len(ours)}: not Keras Applications' weights of "
            f"this network ({_KERAS_NETS})"
        )
    values = {}
    # A _notop file is shorter: the head's layers are left out.
    for i, (layer, (stored_name, arrays)) in enumerate(zip(ours, stored, strict=False)):
        fits = [int(np.prod(v.shape)) for v in layer.weights] == [a.size for a in arrays]
        if len(arrays) != len(layer.weights) or (not fits and i < len(stored) - 1):
            raise KubeslimError(
                f"--checkpoint_path {source}: Keras layer {stored_name} "
                f"{[list(a.shape) for a in arrays]} does not fit {model.name}'s "
                f"{layer.name.replace('.', '/')} {[list(v.shape) for v in layer.weights]}: "
                f"not Keras Applications' weights of this network ({_KERAS_NETS})"
            )
        for variable, array in zip(layer.weights, arrays, strict=True):
            values[variable.path] = array.reshape(variable.shape) if fits else array
    return values


def read_keras_weights(
    source: str, file: Path | BinaryIO, model: keras.Model
) -> dict[str, np.ndarray]:
    """Values of ``model``'s variables in a Keras weights file, keyed by ``variable.path``:
    Keras Applications' legacy HDF5 layout (``layer_names`` at the root, or under
    ``model_weights`` in a whole saved model), else a ``.weights.h5`` file of this net.

    Raises:
      KubeslimError: a legacy file whose layers do not fit ``model``'s, naming the first.
    """
    with h5py.File(file, "r") as f:
        weights = f["model_weights"] if "model_weights" in f else f
        if "layer_names" in weights.attrs:
            return _legacy_values(weights, model, source)
        return _saved_weights_values(f, model)
