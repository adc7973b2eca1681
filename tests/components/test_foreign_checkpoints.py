"""Checkpoints without a model directory, TF-Slim's own, through TF-Slim's workflow:
``kubeslim eval --checkpoint_path CKPT --model_name NAME`` evaluates all of its variables to
the loss TF-Slim's own graph gives on the same images, and refuses one that does not restore
fully, naming what is missing; ``kubeslim export --model_name`` (TF-Slim's
``export_inference_graph``) labels a 1,001-class model with ImageNet's names, and its frozen
graph runs by TF-Slim's tensor names as ``label_image`` runs it."""

import json

import numpy as np
import pytest
from PIL import Image

from kubeslim.cli import main
from kubeslim.components.model_dir import ModelConfig
from kubeslim.model_spec import servable_dir

from ..tf_slim_graphs import run_tf_slim_checkpoint, save_tf_slim_checkpoint

CLASSES = 3  # the photos_dataset fixture's


@pytest.fixture(scope="module")
def tf_slim_checkpoint(tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("tf_slim_inception_v1")
    return save_tf_slim_checkpoint("inception_v1", CLASSES, 224, directory).checkpoint


def test_a_tf_slim_checkpoint_evaluates_to_tf_slims_own_loss(
    photos_dataset, tf_slim_checkpoint, tmp_path, capsys
):
    out = tmp_path / "eval"
    args = ["--dataset_dir", photos_dataset, "--output_dir", str(out), "--batch_size", "4"]
    flags = ["--checkpoint_path", tf_slim_checkpoint, "--model_name", "inception_v1"]
    assert main(["eval", *flags, *args]) == 0
    metrics = json.loads((out / "metrics.json").read_text())

    config = ModelConfig("inception_v1", "inception", 224, 3, CLASSES, (), "image_folder")
    ds = config.make_dataset(photos_dataset, "validation", batch_size=64, is_training=False)
    images, labels = (np.concatenate([b[i].numpy() for b in ds]) for i in (0, 1))
    logits = run_tf_slim_checkpoint("inception_v1", CLASSES, tf_slim_checkpoint, images)
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert metrics["num_examples"] == len(labels)
    assert metrics["loss"] == pytest.approx(
        -log_probs[np.arange(len(labels)), labels].mean(), rel=1e-4
    )
    assert metrics["top1_accuracy"] == pytest.approx(np.mean(logits.argmax(1) == labels))

    assert main(["eval", *flags, *args, "--max_num_batches", "1", "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["num_examples"] == 4


def test_a_checkpoint_that_does_not_restore_fully_is_refused(
    photos_dataset, tf_slim_checkpoint, tmp_path, capsys
):
    out = tmp_path / "eval"
    code = main(
        [
            "eval",
            "--checkpoint_path",
            tf_slim_checkpoint,
            "--model_name",
            "inception_v2",
            "--dataset_dir",
            photos_dataset,
            "--output_dir",
            str(out),
        ]
    )
    error = capsys.readouterr().err
    assert code != 0
    assert f"--checkpoint_path {tf_slim_checkpoint}" in error
    assert "InceptionV2/" in error and "Traceback" not in error
    assert not out.exists()


@pytest.fixture(scope="module")
def imagenet_labels(tmp_path_factory) -> str:
    """ImageNet's two label files in their real formats: 1,000 synset ids, and
    ``synset<TAB>name`` lines (with a synset the list does not use, as the real file has)."""
    directory = tmp_path_factory.mktemp("imagenet_labels")
    synsets = [f"n{i:08d}" for i in range(1, 1001)]
    (directory / "imagenet_lsvrc_2015_synsets.txt").write_text("\n".join(synsets) + "\n")
    metadata = [f"{s}\tthing number {i}, a thing" for i, s in enumerate(synsets, start=1)]
    (directory / "imagenet_metadata.txt").write_text("\n".join(["n99999999\tunused", *metadata]))
    return str(directory)


def test_export_by_model_name_is_tf_slims_with_imagenet_names_and_tf_slim_tensor_names(
    tmp_path, imagenet_labels, capsys, monkeypatch
):
    import tensorflow as tf

    monkeypatch.setenv("KUBESLIM_CACHE", str(tmp_path / "cache"))
    slim = save_tf_slim_checkpoint("inception_v1", 1001, 224, tmp_path / "ckpt")
    export = tmp_path / "export"
    flags = ["--model_name", "inception_v1", "--checkpoint_path", slim.checkpoint]
    assert (
        main(["export", *flags, "--export_dir", str(export), "--label_source", imagenet_labels])
        == 0
    )

    image = tmp_path / "photo.png"
    pixels = np.random.default_rng(2).integers(0, 256, (80, 60, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(image)
    config = ModelConfig.load(servable_dir(export))
    assert config.num_classes == 1001 and config.class_names[0] == "background"
    preprocessed = config.preprocess_encoded(tf.constant(image.read_bytes())).numpy()[None]
    theirs = run_tf_slim_checkpoint("inception_v1", 1001, slim.checkpoint, preprocessed)[0]
    best = int(theirs.argmax())

    capsys.readouterr()
    assert main(["predict", "--model", str(export), str(image)]) == 0
    top = capsys.readouterr().out.splitlines()[1]
    assert top.endswith(f"thing number {best}, a thing")

    frozen = tmp_path / "frozen"
    assert main(["freeze", "--export_dir", str(export), "--output_dir", str(frozen)]) == 0
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((frozen / "frozen_graph.pb").read_bytes())
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        tf.compat.v1.import_graph_def(graph_def, name="")
        probabilities = session.run(
            "InceptionV1/Predictions/Reshape_1:0", {"input:0": preprocessed}
        )[0]
    expected = np.exp(theirs - theirs.max()) / np.exp(theirs - theirs.max()).sum()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_export_batch_size_and_is_training_are_tf_slims_training_graph(
    tmp_path, imagenet_labels, monkeypatch
):
    """ResNet V1 (batch norm, no dropout) exported as TF-Slim's training graph gives TF-Slim's
    ``is_training=True`` logits, from each batch's own statistics, and never updates the
    moving averages."""
    import tensorflow as tf

    monkeypatch.setenv("KUBESLIM_CACHE", str(tmp_path / "cache"))
    slim = save_tf_slim_checkpoint("resnet_v1_50", 1000, 64, tmp_path / "ckpt")
    export = tmp_path / "export"
    flags = ["--model_name", "resnet_v1_50", "--checkpoint_path", slim.checkpoint]
    flags += ["--image_size", "64", "--labels_offset", "1", "--label_source", imagenet_labels]
    assert (
        main(["export", *flags, "--batch_size", "2", "--is_training", "--export_dir", str(export)])
        == 0
    )
    classify = tf.saved_model.load(str(servable_dir(export))).signatures["classify_images"]
    assert classify.structured_input_signature[1]["images"].shape == (2, 64, 64, 3)
    functions = [classify.graph.as_graph_def(), *classify.graph.as_graph_def().library.function]
    ops = {
        getattr(n, "op", None) for f in functions for n in getattr(f, "node", None) or f.node_def
    }
    assert not {op for op in ops if op and op.startswith("Assign")}

    theirs = run_tf_slim_checkpoint(
        "resnet_v1_50", 1000, slim.checkpoint, slim.images, is_training=True
    ).reshape(2, 1000)  # ResNet's [N, 1, 1, C]
    scale = np.abs(theirs).max()
    for _ in range(2):  # the same each call: nothing was updated
        ours = classify(images=tf.constant(slim.images))["logits"].numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-4 * scale)
    inference = slim.logits
    assert np.abs(inference - theirs).max() > 1e-2 * scale
