"""TF-Slim's own nets (the ``tf-slim`` 1.1.0 package) built in ``tf.compat.v1`` graph mode
with their own arg scopes, given random weights and saved by a TF1 ``Saver`` under TF-Slim's
variable names: the real counterpart kubeslim's nets are checked against."""

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf


def import_tf_slim():
    """``tf_slim`` under TF 2.21: TF's legacy ``layers.normalization`` loads
    ``tf_keras.legacy_tf_layers.normalization``, which tf_keras 2.21 ships only under
    ``tf_keras.src``; registering it under the public name is all tf_slim needs."""
    for public in ("tf_keras.legacy_tf_layers", "tf_keras.legacy_tf_layers.normalization"):
        if public not in sys.modules:
            sys.modules[public] = importlib.import_module(public.replace(".", ".src.", 1))
    return importlib.import_module("tf_slim")


@dataclass(frozen=True)
class SlimGraph:
    """A TF-Slim checkpoint and what TF-Slim's graph computed from it."""

    checkpoint: str  # the Saver's prefix
    images: np.ndarray
    logits: np.ndarray
    end_points: dict[str, np.ndarray]
    variables: dict[str, tuple[int, ...]]  # TF-Slim's variable names and shapes


def _net_and_scope(name: str):
    """TF-Slim's builder for ``name`` and the arg scope its checkpoints were trained under."""
    nets = importlib.import_module("tf_slim.nets")
    family = name.rsplit("_", 1)[0] if name.startswith(("resnet", "vgg")) else name
    if family.startswith("resnet"):
        module = getattr(nets, family)
        return getattr(module, name), nets.resnet_utils.resnet_arg_scope()
    if family == "vgg":
        return getattr(nets.vgg, name), nets.vgg.vgg_arg_scope()
    if family.startswith("inception"):
        return getattr(nets.inception, name), getattr(nets.inception, f"{name}_arg_scope")()
    module = getattr(nets, name.removesuffix("_v2"))
    return getattr(module, name), getattr(module, f"{name}_arg_scope")()


def run_tf_slim_checkpoint(
    name: str, num_classes: int, checkpoint: str, images: np.ndarray
) -> np.ndarray:
    """TF-Slim's ``name`` restored from ``checkpoint`` by a TF1 ``Saver``: its logits for
    ``images``."""
    slim = import_tf_slim()
    net_fn, arg_scope = _net_and_scope(name)
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
        with slim.arg_scope(arg_scope):
            logits, _ = net_fn(inputs, num_classes=num_classes, is_training=False)
        tf.compat.v1.train.Saver().restore(session, checkpoint)
        return session.run(logits, {inputs: images})


def save_tf_slim_checkpoint(
    name: str, num_classes: int, image_size: int, directory: Path, end_points: bool = False
) -> SlimGraph:
    """Builds TF-Slim's ``name`` for inference, gives it random weights (batch norm's moving
    statistics, scale and offset too, so no batch norm is an identity), saves it and runs it
    on two random images in [-1, 1], fetching its end points too when asked."""
    slim = import_tf_slim()
    net_fn, arg_scope = _net_and_scope(name)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, image_size, image_size, 3)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        tf.compat.v1.set_random_seed(0)
        inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
        with slim.arg_scope(arg_scope):
            logits, points = net_fn(inputs, num_classes=num_classes, is_training=False)
        variables = tf.compat.v1.global_variables()
        assignments = []
        for variable in variables:
            leaf = variable.op.name.rsplit("/", 1)[-1]
            shape = variable.shape.as_list()
            if leaf in ("moving_variance", "gamma"):
                assignments.append(variable.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32)))
            elif leaf in ("moving_mean", "beta", "biases"):
                assignments.append(variable.assign(rng.normal(0, 0.1, shape).astype(np.float32)))
        session.run(tf.compat.v1.global_variables_initializer())
        session.run(assignments)
        prefix = tf.compat.v1.train.Saver(variables).save(session, str(directory / "model.ckpt"))
        fetched = session.run(
            {"logits": logits, **(points if end_points else {})}, {inputs: images}
        )
    return SlimGraph(
        checkpoint=prefix,
        images=images,
        logits=fetched.pop("logits").reshape(len(images), num_classes),  # ResNet's [N, 1, 1, C]
        end_points=fetched,
        variables={v.op.name: tuple(v.shape.as_list()) for v in variables},
    )
