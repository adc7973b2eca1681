"""Fine-tuning from a checkpoint, as TF-Slim's ``train_image_classifier.py`` did it: restore
every variable outside ``--checkpoint_exclude_scopes`` at step 0, and train only the
variables inside ``--trainable_scopes``.

Checkpoints are read variable by variable, so a head of another size can be excluded:
a TF checkpoint written by ``kubeslim train`` (matched through its object graph), a
name-based checkpoint written by TF-Slim itself (matched by scope: the hand-written nets keep
TF-Slim's names), or a Keras weights file: a kubeslim net's ``.weights.h5``, or Keras
Applications' published weights of the nets Keras ships (``keras_weights``).
"""

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from kubeslim import storage
from kubeslim.components.keras_weights import read_keras_weights
from kubeslim.components.nets.nets_factory import aux_head_layers, in_scopes, layer_scope
from kubeslim.errors import KubeslimError

log = logging.getLogger(__name__)

_OBJECT_GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"


def _tf_checkpoint_values(prefix: str, model: keras.Model) -> dict[str, np.ndarray]:
    """Values of ``model``'s variables in a TF checkpoint saved as ``Checkpoint(model=...)``,
    keyed by ``variable.path``; variables the checkpoint lacks are left out."""
    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(_OBJECT_GRAPH))

    def child(node_id: int | None, *names: str) -> int | None:
        if node_id is None:
            return None
        for ref in graph.nodes[node_id].children:
            if ref.local_name in names:
                return ref.node_id
        return None

    operations = child(child(0, "model"), "_operations")
    values = {}
    for index, layer in enumerate(model.operations):
        layer_id = child(operations, str(index))
        for variable in layer.weights:
            var_id = child(layer_id, variable.name, "_" + variable.name)
            if var_id is not None and graph.nodes[var_id].attributes:
                key = graph.nodes[var_id].attributes[0].checkpoint_key
                values[variable.path] = reader.get_tensor(key)
    return values


# Keras variable name -> TF-Slim's, for checkpoints saved by TF-Slim itself (by name).
_SLIM_VARIABLE_NAMES = {
    "kernel": "weights",
    "bias": "biases",
    "depthwise_kernel": "depthwise_weights",
    "pointwise_kernel": "pointwise_weights",
}


def tf_slim_variable_names(model: keras.Model) -> dict[str, keras.Variable]:
    """``model``'s variables by the names TF-Slim gives them
    (``InceptionV1/Mixed_3b/Branch_0/Conv2d_0a_1x1/weights``): the nets keep TF-Slim's
    scopes, and Keras's ``kernel``/``bias`` are TF-Slim's ``weights``/``biases``."""
    names = {}
    for layer in model.layers:
        for v in layer.weights:
            name = _SLIM_VARIABLE_NAMES.get(v.name, v.name)
            if isinstance(layer, keras.layers.DepthwiseConv2D):  # its kernel is named "kernel"
                name = "depthwise_weights"
            names[f"{layer_scope(model, layer)}/{name}"] = v
    return names


def _tf_slim_checkpoint_values(prefix: str, model: keras.Model) -> dict[str, np.ndarray]:
    """Values of ``model``'s variables in a name-based checkpoint written by TF-Slim, each
    found by its TF-Slim name."""
    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    stored = reader.get_variable_to_shape_map()
    return {
        variable.path: reader.get_tensor(name)
        for name, variable in tf_slim_variable_names(model).items()
        if name in stored
    }


def read_checkpoint(path: str | Path, model: keras.Model) -> dict[str, np.ndarray]:
    """Values for ``model``'s variables from a TF checkpoint (a prefix, or a directory whose
    latest checkpoint is used) or a Keras weights file (``keras_weights``).

    Raises:
      KubeslimError: ``path`` is neither.
    """
    path = str(path)  # a local path or a gs:// URI, read through tf.io.gfile
    storage.check_tensorflow_can_read(path, "--checkpoint_path")
    if path.endswith(".h5"):
        if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
            raise KubeslimError(f"--checkpoint_path {path}: no such Keras weights file")
        with tf.io.gfile.GFile(path, "rb") as f:
            return read_keras_weights(path, f, model)
    prefix = path
    if not tf.io.gfile.exists(path + ".index") and tf.io.gfile.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
    if prefix is None or not tf.io.gfile.exists(prefix + ".index"):
        raise KubeslimError(
            f"--checkpoint_path {path}: not a TF checkpoint prefix, a directory holding one, "
            "or a Keras .h5 weights file"
        )
    # Readers open the prefix itself: tf.train.load_checkpoint would take a prefix that an
    # object store also reports as a directory (every key below it) for that directory.
    if _OBJECT_GRAPH in tf.compat.v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map():
        return _tf_checkpoint_values(prefix, model)
    return _tf_slim_checkpoint_values(prefix, model)


def _variable_scope(model: keras.Model, layer: keras.layers.Layer, variable) -> str:
    return f"{layer_scope(model, layer)}/{variable.name}"


def restore_for_fine_tuning(
    model: keras.Model,
    checkpoint_path: str | Path,
    exclude_scopes: list[str] | None = (),
    ignore_missing_vars: bool = False,
) -> int:
    """Assigns every variable of ``model`` outside ``exclude_scopes`` from the checkpoint
    (``None``: no scope is excluded, and nothing may be missing).

    Returns:
      The number of variables restored.

    Raises:
      KubeslimError: a variable's shape differs from the checkpoint's (the message names each
        one and the scope to exclude, and explains a 1,001-vs-1,000 class head), or a
        variable is missing and ``ignore_missing_vars`` is off.
    """
    values = read_checkpoint(checkpoint_path, model)
    mismatched, missing, assignments = [], [], []
    for layer in model.layers:
        if in_scopes(layer_scope(model, layer), exclude_scopes or ()):
            continue
        for variable in layer.weights:
            scope = _variable_scope(model, layer, variable)
            if variable.path not in values:
                missing.append((layer.name, scope))
            elif (value := _fit_shape(values[variable.path], tuple(variable.shape))) is None:
                mismatched.append((layer, scope, variable.shape, values[variable.path].shape))
            else:
                assignments.append((variable, value))
    if mismatched:
        raise KubeslimError(_mismatch_message(model, checkpoint_path, mismatched))
    aux = {layer.name for layer in model.layers if layer.weights} & aux_head_layers(model)
    if exclude_scopes is None and aux and {layer for layer, _ in missing} == aux:
        log.info(
            "%s has no auxiliary head (Keras's nets have none): %s/AuxLogits, which the "
            "logits do not use, is left as initialized",
            checkpoint_path,
            model.name,
        )
        missing = []
    missing = [scope for _, scope in missing]
    if missing and not ignore_missing_vars:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        shown = ", ".join(missing[:5]) + more
        hint = "" if exclude_scopes is None else " (--ignore_missing_vars initializes them instead)"
        raise KubeslimError(
            f"--checkpoint_path {checkpoint_path} lacks {len(missing)} of the "
            f"{len(model.weights)} variables of {model.name}: {shown}; is it a checkpoint of "
            f"this network?{hint}"
        )
    for variable, value in assignments:
        variable.assign(value)
    log.info(
        "fine-tuning from %s: restored %d variables, excluded scopes %s, %d missing",
        checkpoint_path,
        len(assignments),
        list(exclude_scopes or ()) or "none",
        len(missing),
    )
    return len(assignments)


def restore_checkpoint(model: keras.Model, checkpoint_path: str | Path) -> int:
    """Restores every variable of ``model`` from a checkpoint that need not be kubeslim's (a
    TF-Slim checkpoint, say), as evaluation and export need them.

    Returns:
      The number of variables restored: all of them.

    Raises:
      KubeslimError: a variable is missing or does not fit, naming them.
    """
    return restore_for_fine_tuning(model, checkpoint_path, exclude_scopes=None)


def _fit_shape(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` in ``shape``: as it is, or without TF-Slim's 1x1 spatial axes (its logits
    are [1, 1, C, N] convolutions where ours are [C, N] dense layers); None if it does not
    fit."""
    if tuple(value.shape) == shape:
        return value
    if [d for d in value.shape if d != 1] == [d for d in shape if d != 1]:
        return value.reshape(shape)
    return None


def _mismatch_message(model: keras.Model, checkpoint_path, mismatched) -> str:
    lines = [f"--checkpoint_path {checkpoint_path} does not fit {model.name}:"]
    for _, scope, shape, stored in mismatched:
        lines.append(f"  {scope}: model {list(shape)}, checkpoint {list(stored)}")
    scopes = sorted({f"{model.name}/{layer.name.split('.')[0]}" for layer, *_ in mismatched})
    lines.append(f"Exclude them: --checkpoint_exclude_scopes={','.join(scopes)}")
    heads = {(shape[-1], stored[-1]) for _, _, shape, stored in mismatched if len(shape) == 1}
    for classes, stored_classes in heads:
        if stored_classes - classes in (1, -1):
            lines.append(
                f"The checkpoint's head has {stored_classes} classes and the model's "
                f"{classes}: TF-Slim's ImageNet checkpoints differ by the background class "
                "0 (Inception and MobileNet have 1,001 outputs, VGG and ResNet v1 1,000). "
                "--labels_offset=1 drops class 0 of a data set that has it; otherwise "
                "exclude the head and train a new one."
            )
    return "\n".join(lines)


def set_trainable_scopes(model: keras.Model, trainable_scopes: list[str]) -> int:
    """Freezes every layer with weights outside ``trainable_scopes`` (all layers train when
    it is empty).

    Returns:
      The number of trainable variables left.

    Raises:
      KubeslimError: no layer is in the scopes.
    """
    if not trainable_scopes:
        return len(model.trainable_weights)
    for layer in model.layers:
        if layer.weights:
            layer.trainable = in_scopes(layer_scope(model, layer), trainable_scopes)
    if not model.trainable_weights:
        raise KubeslimError(
            f"--trainable_scopes {','.join(trainable_scopes)} match no layer of {model.name} "
            f"(scopes look like {layer_scope(model, model.layers[-1])})"
        )
    return len(model.trainable_weights)
