"""The model registry: each promotion a new version laid out as TF Serving serves it, with its
evaluation, ``latest`` moved last; the gate's default baseline; a directory kubeslim did not
make is never written into."""

import json
from pathlib import Path

import pytest
import tensorflow as tf

from kubeslim import dataset_spec, storage
from kubeslim.components import input_pipeline
from kubeslim.components.options import GateOptions
from kubeslim.components.quality_gate import baseline_fingerprint, check_evaluation
from kubeslim.components.registry import latest_evaluation, latest_version, promote
from kubeslim.errors import KubeslimError

from .. import s3
from ..serving import assert_served_as_loaded, session_outputs


def _evaluation(path, top1: float):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"top1_accuracy": top1}))
    return path


def _registry_files(registry: str, s3_endpoint: str | None) -> set[str]:
    """Every file in the registry, as the file system or the S3 server lists it."""
    if s3_endpoint is None:
        root = Path(registry)
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    prefix = registry.removeprefix(f"s3://{s3.BUCKET}/") + "/"
    return {key.removeprefix(prefix) for key in s3.keys(s3_endpoint, prefix)}


@pytest.mark.parametrize("where", ["local", "s3"])
def test_promotions_are_new_versions_and_latest_moves_last(tmp_path, export_dir, where, request):
    if where == "s3":  # the promote step's pod: S3 reached through boto3's environment
        endpoint = request.getfixturevalue("s3_environment")
        registry = f"s3://{s3.BUCKET}/registry"
    else:
        endpoint, registry = None, str(tmp_path / "registry")
    assert latest_version(registry) is None and latest_evaluation(registry) is None
    first = _evaluation(tmp_path / "e1", 0.95)
    assert promote(registry, str(export_dir), str(first)) == 1
    # The same model and evaluation again (a re-run whose steps came from the cache): nothing
    # new; a new evaluation of it is a new version.
    assert promote(registry, str(export_dir), str(first)) == 1
    assert promote(registry, str(export_dir), str(_evaluation(tmp_path / "e2", 0.97))) == 2
    assert latest_version(registry) == 2
    assert json.loads(storage.read_bytes(latest_evaluation(registry)))["top1_accuracy"] == 0.97
    files = _registry_files(registry, endpoint)
    exported = _registry_files(str(export_dir / "1"), None)
    assert {"saved_model.pb", "labels.txt"} <= exported
    assert files == {
        "kubeslim-registry.json",
        "latest",
        *(f"{v}/{name}" for v in (1, 2) for name in exported),
        *(f"evaluations/{v}/{name}" for v in (1, 2) for name in ("metrics.json", "promoted.txt")),
    }  # nothing staged is left
    assert storage.read_bytes(storage.join(registry, "latest")) == b"2\n"
    options = GateOptions(accuracy_threshold=0.5, model_registry=registry)
    assert not check_evaluation(_evaluation(tmp_path / "new", 0.96), options)[0]
    assert baseline_fingerprint(options).startswith("sha256:")


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
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(KubeslimError, match="a-file is a file, not a directory"):
        promote(str(tmp_path / "a-file"), str(export_dir), str(_evaluation(tmp_path / "f", 0.9)))
    assert latest_version(str(tmp_path / "a-file")) is None
    with pytest.raises(KubeslimError, match="the evaluation .* is missing"):
        promote(str(tmp_path / "r"), str(export_dir), str(tmp_path / "none"))
