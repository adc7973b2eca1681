"""``kubeslim eval --checkpoint_path CKPT --model_name NAME``: a checkpoint without a model
directory (TF-Slim's own) is evaluated with all of its variables, to the loss TF-Slim's own
graph gives on the same images; one that does not restore fully is refused, naming what is
missing, and nothing is written."""

import json

import numpy as np
import pytest
from PIL import Image

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.options import ConvertOptions
from kubeslim.cli import main
from kubeslim.components.model_dir import ModelConfig

from ..tf_slim_graphs import run_tf_slim_checkpoint, save_tf_slim_checkpoint

CLASSES = 3


@pytest.fixture(scope="module")
def photos_dataset(tmp_path_factory) -> str:
    """Three classes of random RGB photos of assorted sizes, converted as an image folder."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    for c in range(CLASSES):
        (root / "photos" / f"class_{c}").mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 256, (rng.integers(30, 60), rng.integers(30, 60), 3))
            Image.fromarray(pixels.astype(np.uint8)).save(
                root / "photos" / f"class_{c}" / f"{i}.png"
            )
    options = ConvertOptions(
        dataset_name="image_folder", source=str(root / "photos"), validation_size=0.5
    )
    convert_dataset(root / "data", options)
    return str(root / "data")


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
