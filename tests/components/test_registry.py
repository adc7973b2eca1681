"""The model registry: each promotion a new version laid out as TF Serving serves it, with its
evaluation, ``latest`` moved last; the gate's default baseline; a directory kubeslim did not
make is never written into."""

import json

import pytest
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.components import input_pipeline
from kubeslim.components.options import GateOptions
from kubeslim.components.quality_gate import baseline_fingerprint, check_evaluation
from kubeslim.components.registry import latest_evaluation, latest_version, promote
from kubeslim.errors import KubeslimError

from ..serving import assert_served_as_loaded, session_outputs


def _evaluation(path, top1: float):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"top1_accuracy": top1}))
    return path


@pytest.mark.parametrize("where", ["local", "ram"])
def test_promotions_are_new_versions_and_latest_moves_last(tmp_path, export_dir, where):
    registry = str(tmp_path / "registry") if where == "local" else "ram://registry/image"
    assert latest_version(registry) is None and latest_evaluation(registry) is None
    first = _evaluation(tmp_path / "e1", 0.95)
    assert promote(registry, str(export_dir), str(first)) == 1
    # The same model and evaluation again (a re-run whose steps came from the cache): nothing
    # new; a new evaluation of it is a new version.
    assert promote(registry, str(export_dir), str(first)) == 1
    assert promote(registry, str(export_dir), str(_evaluation(tmp_path / "e2", 0.97))) == 2
    assert latest_version(registry) == 2
    with tf.io.gfile.GFile(latest_evaluation(registry)) as f:
        assert json.load(f)["top1_accuracy"] == 0.97
    listing = set(tf.io.gfile.listdir(registry))
    assert {"1", "2", "latest", "evaluations", "kubeslim-registry.json"} <= {
        name.rstrip("/") for name in listing
    }
    assert not any(name.startswith(".") for name in listing)  # nothing staged is left
    for version in ("1", "2"):
        assert tf.io.gfile.exists(f"{registry}/{version}/saved_model.pb")
        assert tf.io.gfile.exists(f"{registry}/{version}/labels.txt")


def test_the_registry_is_a_tf_serving_base_path_serving_the_export(
    tmp_path, export_dir, digits_dir
):
    registry = tmp_path / "registry"
    promote(str(registry), str(export_dir), str(_evaluation(tmp_path / "e", 0.9)))
    files = dataset_spec.split_files(digits_dir, dataset_spec.read_descriptor(digits_dir), "test")
    records = tf.data.TFRecordDataset(files).map(input_pipeline.parse_example).batch(8)
    inputs = {"image_bytes": next(iter(records))[0].numpy()}
    served = assert_served_as_loaded(registry, "serving_default", inputs)  # the base path
    exported = session_outputs(export_dir, "serving_default", inputs)
    assert (served["probabilities"] == exported["probabilities"]).all()


def test_the_gate_compares_with_the_registrys_latest_by_default(tmp_path, export_dir):
    registry = str(tmp_path / "registry")
    new = _evaluation(tmp_path / "new", 0.96)
    options = GateOptions(accuracy_threshold=0.5, model_registry=registry)
    assert check_evaluation(new, options)[0]  # nothing promoted yet: the threshold alone
    assert baseline_fingerprint(options) == "none"
    promote(registry, str(export_dir), str(_evaluation(tmp_path / "prod", 0.98)))
    blessed, reason = check_evaluation(new, options)
    assert not blessed and "worse than the blessed model's 0.9800" in reason
    # A new model in production is a new cache key for the gate; the same one is not.
    first = baseline_fingerprint(options)
    assert first.startswith("sha256:") and baseline_fingerprint(options) == first
    promote(registry, str(export_dir), str(_evaluation(tmp_path / "prod2", 0.99)))
    assert baseline_fingerprint(options) not in (first, "none")
    explicit = _evaluation(tmp_path / "older", 0.9)
    options = GateOptions(0.5, blessed_evaluation=str(explicit), model_registry=registry)
    assert check_evaluation(new, options)[0]  # an explicit evaluation wins


def test_a_directory_kubeslim_did_not_make_is_refused(tmp_path, export_dir):
    mine = tmp_path / "models"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    with pytest.raises(KubeslimError, match="is not a kubeslim model registry"):
        promote(str(mine), str(export_dir), str(_evaluation(tmp_path / "e", 0.9)))
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]
    with pytest.raises(KubeslimError, match="the evaluation .* is missing"):
        promote(str(tmp_path / "r"), str(export_dir), str(tmp_path / "none"))
