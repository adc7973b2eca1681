"""Freezes an exported SavedModel into a single GraphDef with the variables folded into
constants (TF-Slim's ``freeze_graph`` step), and loads it back for inference.

Writes ``frozen_graph.pb`` and ``frozen_graph.json``, which records the input and output
tensor names (what ``summarize_graph`` told TF-Slim users). The names are TF-Slim's: the
input ``input``, the probabilities ``<Scope>/Predictions/Reshape_1`` (``InceptionV3/...``).
"""

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2,
)

from kubeslim import dataset_spec
from kubeslim.components import input_pipeline
from kubeslim.components.export import IMAGES_SIGNATURE
from kubeslim.components.model_dir import ModelConfig, load_transform
from kubeslim.components.options import FreezeOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir
from kubeslim.model_spec import servable_dir

GRAPH_FILE = "frozen_graph.pb"
NODES_FILE = "frozen_graph.json"

log = logging.getLogger(__name__)


def frozen_signature(export_dir: str | Path) -> tuple[Any, Any]:
    """The ``classify_images`` signature of ``export_dir`` and its frozen counterpart, a
    concrete function with the variables folded into constants.

    Raises:
      KubeslimError: ``export_dir`` is not an export with that signature.
    """
    loaded = tf.saved_model.load(str(servable_dir(export_dir)))
    if IMAGES_SIGNATURE not in loaded.signatures:
        raise KubeslimError(f"{export_dir} has no {IMAGES_SIGNATURE!r} signature")
    signature = loaded.signatures[IMAGES_SIGNATURE]
    return signature, convert_variables_to_constants_v2(signature)


def output_tensor_names(signature: Any, frozen: Any) -> dict[str, str]:
    """Output name (``probabilities``, ``logits``) -> the frozen graph's tensor name."""
    outputs = tf.nest.pack_sequence_as(signature.structured_outputs, frozen.outputs)
    return {name: t.name for name, t in outputs.items()}


TF_SLIM_INPUT = "input"


def _tensor_node(name: str) -> str:
    return name.lstrip("^").split(":")[0]


def with_tf_slim_names(
    graph_def: tf.compat.v1.GraphDef, input_tensor: str, probabilities_tensor: str, scope: str
) -> tuple[str, str]:
    """Names the frozen graph's tensors as TF-Slim's README does, so its ``freeze_graph`` and
    ``label_image`` instructions work: the input placeholder ``input`` and the probabilities
    ``<Scope>/Predictions/Reshape_1`` (an Identity of them).

    Returns:
      The input's and the probabilities' new tensor names.
    """
    old = _tensor_node(input_tensor)
    if any(node.name == TF_SLIM_INPUT for node in graph_def.node):
        raise KubeslimError(f"the graph already has a node named {TF_SLIM_INPUT!r}")
    for node in graph_def.node:
        if node.name == old:
            node.name = TF_SLIM_INPUT
        node.input[:] = [
            name.replace(old, TF_SLIM_INPUT, 1) if _tensor_node(name) == old else name
            for name in node.input
        ]
    predictions = graph_def.node.add()
    predictions.name = f"{scope}/Predictions/Reshape_1"
    predictions.op = "Identity"
    node, _, index = probabilities_tensor.partition(":")
    predictions.input.append(node if index in ("", "0") else f"{node}:{index}")
    predictions.attr["T"].type = tf.float32.as_datatype_enum
    return f"{TF_SLIM_INPUT}:0", f"{predictions.name}:0"


def freeze_saved_model(
    export_dir: str | Path,
    output_dir: str | Path,
    options: FreezeOptions | None = None,
    *,
    check_dataset_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Freezes the ``classify_images`` signature of ``export_dir`` into ``output_dir`` (see
    ``fileio.OutputDir``). Given ``check_dataset_dir``, the frozen graph is compared with the
    SavedModel on its held-out split first, and nothing is written unless they agree within
    ``options.max_difference``.

    Raises:
      KubeslimError: an input is not what it should be, or the check fails.

    Returns:
      The record written to ``frozen_graph.json``: tensor names, and the difference found by
      the check (``max_abs_difference``) when there was one.
    """
    options = options or FreezeOptions()
    output = OutputDir(
        output_dir,
        "frozen_graph",
        overwrite=options.overwrite,
        inputs={"--export_dir": export_dir, "--check_dataset_dir": check_dataset_dir},
    )
    if check_dataset_dir is not None:  # before any work
        dataset_spec.held_out_split(dataset_spec.read_descriptor(check_dataset_dir))
    signature, frozen = frozen_signature(export_dir)
    graph_def = frozen.graph.as_graph_def()
    outputs = output_tensor_names(signature, frozen)
    scope = ModelConfig.load(servable_dir(export_dir)).build().name
    input_name, outputs["probabilities"] = with_tf_slim_names(
        graph_def, frozen.inputs[0].name, outputs["probabilities"], scope
    )
    record = {
        "inputs": {frozen.inputs[0].name.split(":")[0]: input_name},
        "outputs": outputs,
        "input_shape": frozen.inputs[0].shape.as_list(),
        "num_nodes": len(graph_def.node),
        "source": str(export_dir),
    }
    with output.staging() as tmp:
        (tmp / GRAPH_FILE).write_bytes(graph_def.SerializeToString())
        (tmp / NODES_FILE).write_text(json.dumps(record, indent=2) + "\n")
        if check_dataset_dir is not None:
            difference = max_abs_difference(tmp, export_dir, check_dataset_dir)
            if difference > options.max_difference:
                raise KubeslimError(
                    f"the frozen graph differs from the SavedModel by {difference:.3g} > "
                    f"--max_difference {options.max_difference} on the held-out split of "
                    f"{check_dataset_dir}; nothing was written"
                )
            record["max_abs_difference"] = difference
            (tmp / NODES_FILE).write_text(json.dumps(record, indent=2) + "\n")
    log.info(
        "froze %s: %d nodes, inputs %s, outputs %s",
        export_dir,
        record["num_nodes"],
        ", ".join(record["inputs"].values()),
        ", ".join(f"{k}={v}" for k, v in record["outputs"].items()),
    )
    return record


def load_frozen_graph(frozen_dir: str | Path) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """Loads a frozen graph as a function from preprocessed images to its named outputs."""
    frozen_dir = Path(frozen_dir)
    record = json.loads((frozen_dir / NODES_FILE).read_text())
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((frozen_dir / GRAPH_FILE).read_bytes())
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), []
    )
    names = list(record["outputs"])
    graph = wrapped.graph
    pruned = wrapped.prune(
        feeds=[graph.get_tensor_by_name(n) for n in record["inputs"].values()],
        fetches=[graph.get_tensor_by_name(record["outputs"][n]) for n in names],
    )

    def run(images: np.ndarray) -> dict[str, np.ndarray]:
        values = pruned(tf.constant(images, tf.float32))
        return {n: v.numpy() for n, v in zip(names, values, strict=True)}

    return run


def preprocessed_images(
    export_dir: str | Path, dataset_dir: str | Path, split: str, limit: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(encoded image bytes, preprocessed float images) of ``split``, in batches of 64,
    preprocessed by the export's own config and transform."""
    export_dir = servable_dir(export_dir)
    config = ModelConfig.load(export_dir)
    transform = load_transform(export_dir, config)
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    files = dataset_spec.split_files(dataset_dir, descriptor, split)
    ds = tf.data.TFRecordDataset(files).map(input_pipeline.parse_example)
    if limit is not None:
        ds = ds.take(limit)
    for encoded, _ in ds.batch(64):
        images = tf.map_fn(
            lambda e: config.preprocess_encoded(e, False, transform),
            encoded,
            fn_output_signature=tf.float32,
        )
        yield encoded.numpy(), images.numpy()


def max_abs_difference(
    frozen_dir: str | Path,
    export_dir: str | Path,
    dataset_dir: str | Path,
    split: str | None = None,
) -> float:
    """Largest difference between the frozen graph's and the SavedModel's probabilities.

    The SavedModel is fed the split's encoded image bytes (by default the held-out split)
    through ``serving_default``; the frozen graph is fed the same images decoded and
    preprocessed as in evaluation.
    """
    from kubeslim.components.export import SERVING_SIGNATURE

    serving = tf.saved_model.load(str(servable_dir(export_dir))).signatures[SERVING_SIGNATURE]
    frozen = load_frozen_graph(frozen_dir)
    split = split or dataset_spec.held_out_split(dataset_spec.read_descriptor(dataset_dir))
    worst = 0.0
    for encoded, images in preprocessed_images(export_dir, dataset_dir, split):
        expected = serving(image_bytes=tf.constant(encoded))["probabilities"].numpy()
        worst = max(worst, float(np.abs(frozen(images)["probabilities"] - expected).max()))
    return worst
