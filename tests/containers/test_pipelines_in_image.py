"""The container tier (`make test-containers`): both pipelines run end to end in the component
image through kfp.local's DockerRunner, as a cluster runs them, and their outputs are checked
as the local tests check them."""

import json
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.model_spec import METRICS_FILE, servable_dir
from kubeslim.pipelines.local_runner import run_local

from ..serving import assert_served_as_loaded

IMAGE = os.environ.get("KUBESLIM_TEST_IMAGE")
pytestmark = pytest.mark.skipif(
    not IMAGE, reason="the container tier: `make test-containers` builds the image and runs it"
)


def _in_image(*command: str) -> str:
    done = subprocess.run(
        ["docker", "run", "--rm", IMAGE, *command], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_image_runs_as_a_numeric_non_root_user_without_a_source_tree():
    assert _in_image("id", "-u").strip() == "1000"
    listing = _in_image("sh", "-c", "pwd; ls -A")
    assert "kubeslim" not in listing.split()[1:]  # nothing shadows the installed package
    assert "pytest" not in _in_image("pip", "list")  # runtime dependencies only
    assert "kubeslim 0.1.0" in _in_image("kubeslim", "--version")


def test_the_image_classifier_pipeline_runs_in_the_image(tmp_path):
    run = run_local(tmp_path / "runs", runner="docker", image=IMAGE, num_epochs=6)
    metrics = run.metrics
    assert metrics["top1_accuracy"] >= 0.9 and metrics["num_examples"] == 359
    saved_model = servable_dir(run.outputs["export-model/saved_model"])
    assert (saved_model / "saved_model.pb").is_file()
    executor = json.loads((run.run_dir / "freeze-model" / "executor_output.json").read_text())
    (frozen,) = executor["artifacts"]["frozen_model"]["artifacts"]
    assert frozen["metadata"]["max_abs_difference"] <= 1e-5
    executor = json.loads((run.run_dir / "convert-tflite" / "executor_output.json").read_text())
    (tflite,) = executor["artifacts"]["tflite_model"]["artifacts"]
    assert tflite["metadata"]["checks"]["float32"]["max_abs_difference"] <= 1e-5
    assert tflite["metadata"]["checks"]["int8"]["top1_agreement"] >= 0.97
    # The export the image wrote runs in TF Serving's session-based loader.
    dataset = run.outputs["convert-dataset/dataset"]
    files = dataset_spec.split_files(dataset, dataset_spec.read_descriptor(dataset), "test")
    encoded = [
        tf.train.Example.FromString(record.numpy())
        .features.feature["image/encoded"]
        .bytes_list.value[0]
        for record in tf.data.TFRecordDataset(files).take(8)
    ]
    served = assert_served_as_loaded(
        run.outputs["export-model/saved_model"],
        "serving_default",
        {"image_bytes": np.array(encoded, dtype=object)},
    )
    assert served["probabilities"].shape == (8, 10)


def test_the_translation_pipeline_runs_in_the_image(tmp_path):
    run = run_local(
        tmp_path / "runs",
        "translation",
        runner="docker",
        image=IMAGE,
        config_overrides="epochs=2",
    )
    assert run.metrics["exact_match"] >= 0.9
    (evaluation,) = run.run_dir.glob(f"evaluate-translation/evaluation/{METRICS_FILE}")
    translations = (evaluation.parent / "translations.txt").read_text().splitlines()
    assert len(translations) == run.metrics["sentences"]
    assert (
        servable_dir(run.outputs["export-translation/saved_model"]) / "saved_model.pb"
    ).is_file()
