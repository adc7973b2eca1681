"""TF-Slim's own nets (the ``tf-slim`` 1.1.0 package) built in ``tf.compat.v1`` graph mode
with their own arg scopes, given random weights and saved by a TF1 ``Saver`` under TF-Slim's
variable names: the real counterpart kubeslim's nets are checked against.

Run as a script (``python tests/tf_slim_graphs.py OUT NAME:CLASSES:SIZE...``) it saves each
net's checkpoint and what its graph computed under ``OUT/NAME`` in TF1 mode, which builds
graphs faster, so a test can build kubeslim's nets while it works (``BackgroundGraphs``)."""

import importlib
import json
import shutil
import subprocess
import sys
import time
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


def _build(name: str, num_classes: int, shape: tuple[int, ...], **net_kwargs):
    """TF-Slim's ``name`` in a new graph, for inference unless ``net_kwargs`` say otherwise:
    the graph, its input placeholder, logits and end points."""
    slim = import_tf_slim()
    net_fn, arg_scope = _net_and_scope(name)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        inputs = tf.compat.v1.placeholder(tf.float32, shape)
        with slim.arg_scope(arg_scope):
            kwargs = {"is_training": False, **net_kwargs}
            logits, points = net_fn(inputs, num_classes=num_classes, **kwargs)
    return graph, inputs, logits, points


def run_tf_slim_checkpoint(
    name: str, num_classes: int, checkpoint: str, images: np.ndarray, **net_kwargs
) -> np.ndarray:
    """TF-Slim's ``name`` (for inference, or as ``net_kwargs`` build it, e.g.
    ``spatial_squeeze=False``) restored from ``checkpoint`` by a TF1 ``Saver``: its logits for
    ``images``."""
    graph, inputs, logits, _ = _build(name, num_classes, images.shape, **net_kwargs)
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        tf.compat.v1.train.Saver().restore(session, checkpoint)
        return session.run(logits, {inputs: images})


def save_tf_slim_checkpoint(
    name: str, num_classes: int, image_size: int, directory: Path, end_points: bool = False
) -> SlimGraph:
    """Builds TF-Slim's ``name`` for inference, gives it random weights (batch norm's moving
    statistics, scale and offset too, so no batch norm is an identity), saves it and runs it
    on two random images in [-1, 1], fetching its end points too when asked."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, image_size, image_size, 3)).astype(np.float32)
    graph, inputs, logits, points = _build(name, num_classes, images.shape)
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
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


def _save(graph: SlimGraph, name: str, directory: Path) -> None:
    """What a test needs of ``graph``, with the end points of the top-level blocks only, keyed
    without the net's scope (ResNet's and VGG's ``resnet_v1_50/block1`` is ``block1``)."""
    points = {key.removeprefix(f"{name}/"): value for key, value in graph.end_points.items()}
    points = {f"end_point:{key}": value for key, value in points.items() if "/" not in key}
    np.savez(directory / "graph.npz", images=graph.images, logits=graph.logits, **points)
    (directory / "variables.json").write_text(json.dumps(graph.variables))
    (directory / "done").write_text(graph.checkpoint)


# Every net the tf-slim package ships, as the tests build it: name -> (image size, classes).
# VGG, AlexNet and OverFeat run at their default sizes (their fc6 kernels are fixed); the
# ResNets are fully convolutional, so a small input is enough.
SHIPPED = {
    "alexnet_v2": (224, 1000),
    "overfeat": (231, 1000),
    "vgg_a": (224, 1000),
    "vgg_16": (224, 1000),
    "vgg_19": (224, 1000),
    "inception_v1": (224, 1001),
    "inception_v2": (224, 1001),
    "inception_v3": (299, 1001),
    **{f"resnet_v1_{depth}": (64, 1000) for depth in (50, 101, 152, 200)},
    **{f"resnet_v2_{depth}": (64, 1001) for depth in (50, 101, 152, 200)},
}


class BackgroundGraphs:
    """TF-Slim's graph of every ``SHIPPED`` net, saved one after another in ``directory`` by
    a separate process (started as soon as the session knows it will need them, so the
    work overlaps other tests); ``get`` waits for one. Any process may read the directory
    (pytest-xdist's workers read what the controller's process saves); only the one that
    called ``start`` owns the process."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.log = directory / "log.txt"
        self.process: subprocess.Popen | None = None

    @classmethod
    def start(cls, directory: Path) -> "BackgroundGraphs":
        graphs = cls(directory)
        args = [f"{name}:{classes}:{size}" for name, (size, classes) in sorted(SHIPPED.items())]
        with graphs.log.open("w") as log:
            graphs.process = subprocess.Popen(
                [sys.executable, __file__, str(directory), *args], stdout=log, stderr=log
            )
        return graphs

    def get(self, name: str, timeout: float = 900) -> SlimGraph:
        done = self.directory / name / "done"
        deadline = time.monotonic() + timeout
        while not done.exists():
            exited = (self.directory / _EXITED).exists() and not done.exists()
            if exited or time.monotonic() > deadline:
                log = self.log.read_text()[-2000:] if self.log.exists() else "(never started)"
                raise RuntimeError(f"TF-Slim's {name} was not saved: {log}")
            time.sleep(0.2)
        saved = np.load(self.directory / name / "graph.npz")
        points = {
            key.removeprefix("end_point:"): saved[key]
            for key in saved.files
            if key.startswith("end_point:")
        }
        return SlimGraph(
            checkpoint=done.read_text(),
            images=saved["images"],
            logits=saved["logits"],
            end_points=points,
            variables=json.loads((self.directory / name / "variables.json").read_text()),
        )

    def release(self, name: str) -> None:
        """Deletes ``name``'s files (VGG's checkpoint alone is half a gigabyte)."""
        shutil.rmtree(self.directory / name)

    def close(self) -> None:
        """Stops the process this object started and deletes what it saved."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


_EXITED = "exited"  # written by the saving process when it stops, saved all or not


if __name__ == "__main__":
    tf.compat.v1.disable_v2_behavior()
    out = Path(sys.argv[1])
    try:
        for spec in sys.argv[2:]:
            net, classes, size = spec.split(":")
            (out / net).mkdir(parents=True)
            graph = save_tf_slim_checkpoint(net, int(classes), int(size), out / net, True)
            _save(graph, net, out / net)
    finally:
        (out / _EXITED).touch()
