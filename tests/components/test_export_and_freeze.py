"""The SavedModel serves raw image bytes exactly as training evaluates them, and the frozen
graph matches the SavedModel."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from kubeslim import dataset_spec
from kubeslim.components import input_pipeline
from kubeslim.components.freeze import load_frozen_graph, max_abs_difference
from kubeslim.components.model_dir import load_model
from kubeslim.model_spec import servable_dir

from ..serving import assert_served_as_loaded


def _test_images(digits_dir, n=64):
    files = dataset_spec.split_files(digits_dir, dataset_spec.read_descriptor(digits_dir), "test")
    ds = tf.data.TFRecordDataset(files).map(input_pipeline.parse_example).batch(n)
    encoded, labels = next(iter(ds))
    return encoded, labels.numpy()


def test_serving_signature_equals_the_training_eval_path(digits_dir, model_dir, export_dir):
    encoded, _ = _test_images(digits_dir)
    served = tf.saved_model.load(str(servable_dir(export_dir))).signatures["serving_default"](
        image_bytes=encoded
    )
    model, config, _ = load_model(model_dir)
    ds = config.make_dataset(digits_dir, "test", batch_size=64, is_training=False)
    images, _ = next(iter(ds))
    expected = tf.nn.softmax(model(images, training=False)).numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5, rtol=0)
    class_id = served["class_id"].numpy()
    np.testing.assert_array_equal(class_id, expected.argmax(axis=1))
    names = [n.decode() for n in served["class_name"].numpy()]
    assert names == [config.class_names[i] for i in class_id]


def test_serving_accepts_jpeg_and_png(export_dir):
    pixels = np.zeros((8, 8), np.uint8)
    pixels[1:7, 3:5] = 255  # a "1"
    encoded = []
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        Image.fromarray(pixels, "L").save(buffer, fmt, quality=100)
        encoded.append(buffer.getvalue())
    serving = tf.saved_model.load(str(servable_dir(export_dir))).signatures["serving_default"]
    out = serving(image_bytes=tf.constant(encoded))
    assert out["probabilities"].shape == (2, 10)
    np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_export_dir_carries_config_and_labels(export_dir):
    assert (servable_dir(export_dir) / "labels.txt").read_text().startswith("0:0\n1:1\n")
    assert (
        json.loads((servable_dir(export_dir) / "model_config.json").read_text())["model_name"]
        == "lenet"
    )


def test_frozen_graph_has_no_variables_and_matches_the_saved_model(
    digits_dir, export_dir, frozen_dir
):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((frozen_dir / "frozen_graph.pb").read_bytes())
    ops = {node.op for node in graph_def.node}
    assert "Const" in ops
    assert not ops & {"VarHandleOp", "ReadVariableOp", "VariableV2"}
    record = json.loads((frozen_dir / "frozen_graph.json").read_text())
    assert record["inputs"] == {"images": "input:0"}  # TF-Slim's names
    assert record["outputs"]["probabilities"] == "LeNet/Predictions/Reshape_1:0"
    assert set(record["outputs"]) == {"probabilities", "logits"}
    assert max_abs_difference(frozen_dir, export_dir, digits_dir) <= 1e-5

    encoded, labels = _test_images(digits_dir)
    frozen = load_frozen_graph(frozen_dir)
    serving = tf.saved_model.load(str(servable_dir(export_dir))).signatures["serving_default"]
    # LeNet's preprocessing written out independently: scale to [-1, 1), pad 8x8 to 28x28.
    images = tf.map_fn(
        lambda e: (tf.cast(tf.io.decode_png(e, channels=1), tf.float32) - 128.0) / 128.0,
        encoded,
        fn_output_signature=tf.float32,
    )
    padded = tf.pad(images, [[0, 0], [10, 10], [10, 10], [0, 0]], constant_values=-1.0)
    probabilities = frozen(padded.numpy())["probabilities"]
    expected = serving(image_bytes=encoded)["probabilities"].numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5, rtol=0)
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.9
    # As TF-Slim's label_image runs a frozen graph: a TF1 session, fed and fetched by name.
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        tf.compat.v1.import_graph_def(graph_def, name="")
        by_name = session.run("LeNet/Predictions/Reshape_1:0", {"input:0": padded.numpy()})
    np.testing.assert_allclose(by_name, expected, atol=1e-5, rtol=0)


def test_serving_returns_the_top_five_classes_with_names(digits_dir, export_dir):
    encoded, _ = _test_images(digits_dir, n=8)
    served = tf.saved_model.load(str(servable_dir(export_dir))).signatures["serving_default"](
        image_bytes=encoded
    )
    probabilities = served["probabilities"].numpy()
    ids = served["top_k_class_ids"].numpy()
    assert ids.shape == (8, 5)
    np.testing.assert_array_equal(ids, np.argsort(-probabilities, axis=1)[:, :5])
    np.testing.assert_allclose(
        served["top_k_probabilities"].numpy(), np.take_along_axis(probabilities, ids, 1)
    )
    names = served["top_k_class_names"].numpy().astype(str)
    np.testing.assert_array_equal(names, ids.astype(str))  # the digits are named "0".."9"


def test_tf_servings_loader_runs_the_export_as_tensorflow_does(digits_dir, export_dir):
    encoded, _ = _test_images(digits_dir, n=16)
    images = {"image_bytes": np.asarray(encoded.numpy(), dtype=object)}
    served = assert_served_as_loaded(export_dir, "serving_default", images)
    assert served["probabilities"].shape == (16, 10)
    preprocessed = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    assert_served_as_loaded(export_dir, "classify_images", {"images": preprocessed})


def test_saved_model_cli_runs_the_export(digits_dir, export_dir, tmp_path):
    """``saved_model_cli run``, the tool TF Serving's users check a model with."""
    encoded, _ = _test_images(digits_dir, n=2)
    inputs = tmp_path / "images.npy"
    np.save(inputs, np.asarray(encoded.numpy(), dtype=object), allow_pickle=True)
    command = [
        str(Path(sys.executable).with_name("saved_model_cli")),
        *("run", "--dir", str(servable_dir(export_dir)), "--tag_set", "serve"),
        *("--signature_def", "serving_default", "--inputs", f"image_bytes={inputs}"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Result for output key probabilities" in done.stdout
