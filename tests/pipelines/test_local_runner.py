"""The whole DAG runs on this machine with kfp.local, leaves every artifact, and says what
happened plainly: a line per task, then a summary; kfp.local's own output in a log file. With
the cache, a re-run on the same data reuses every step keyed by it, and grown data retrains."""

import json
import re
from pathlib import Path

import pytest

from kubeslim.cli import main
from kubeslim.errors import KubeslimError
from kubeslim.pipelines.local_runner import run_local


def _digit_photos(folder: Path, indices: range) -> None:
    """sklearn's 8x8 digits as PNG files, a folder per class, as a user's own images are."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i in indices:
        (folder / str(digits.target[i])).mkdir(parents=True, exist_ok=True)
        pixels = (digits.images[i] * 16).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / str(digits.target[i]) / f"{i}.png")


def _statuses(out: str) -> dict[str, str]:
    return dict(re.findall(r"^  ([\w-]+) +(SUCCESS|FAILURE|SKIPPED|CACHED)\b", out, re.M))


ALL_TASKS = (
    "fingerprint-inputs convert-dataset analyze-dataset train-model evaluate-model gate-model "
    "export-model promote-model freeze-model convert-tflite"
).split()


def test_run_local_produces_all_artifacts_then_reuses_them_until_the_data_grows(tmp_path, capsys):
    root, photos, registry = tmp_path / "runs", tmp_path / "photos", tmp_path / "registry"
    root.mkdir()
    (root / "notes.txt").write_text("mine")  # a pipeline root kubeslim did not make
    _digit_photos(photos, range(1700))
    argv = ["run-local", "--pipeline_root", str(root), "--dataset_name", "image_folder"]
    argv += ["--source", str(photos), "--num_epochs", "3", "--cache"]
    argv += ["--model_registry", str(registry)]
    assert main([*argv, "--accuracy_threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "on 170 image_folder validation images" in out
    assert (root / "notes.txt").read_text() == "mine"
    (first,) = (p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(out.splitlines()) < 40 and "executor_input" not in out
    assert "executor_input" in (first / "kfp-local.log").read_text()
    for task in ALL_TASKS:
        assert re.search(rf"^  {task} +SUCCESS +\d+\.\d s$", out, re.MULTILINE), task
    assert "Quality gate: blessed: top-1 accuracy" in out
    assert f"Promoted: {registry}/1" in out
    assert (registry / "1" / "saved_model.pb").is_file()
    assert (registry / "latest").read_text() == "1\n"
    assert f"Report: {first / 'report.html'}" in out
    page = (first / "report.html").read_text()
    assert "<title>kubeslim: lenet on image_folder</title>" in page
    assert "training loss: cross-entropy + weight decay" in page
    expected = {
        "convert-dataset/dataset": ["dataset.json", "labels.txt"],
        "analyze-dataset/transform": ["statistics.json", "transform_fn/saved_model.pb"],
        "train-model/model": ["model_config.json", "transform/statistics.json"],
        "evaluate-model/evaluation": ["metrics.json", "confusion_matrix.png"],
        "evaluate-model/report": [],
        "gate-model/decision": [],
        "export-model/saved_model": ["1/saved_model.pb", "1/labels.txt"],
        "freeze-model/frozen_model": ["frozen_graph.pb", "frozen_graph.json"],
        "convert-tflite/tflite_model": ["model_float32.tflite", "model_int8.tflite"],
    }
    for output, files in expected.items():
        assert re.search(rf"^  {output}$", out, re.MULTILINE), output
        for name in files:
            assert (first / output / name).is_file(), f"{output}/{name}"
    assert list((first / "train-model/model").glob("model.ckpt-*.index"))
    report = (first / "evaluate-model/report").read_text()
    assert "Training curves" in report and report.count("data:image/png;base64,") == 2
    assert "**Blessed**" in (first / "gate-model/decision").read_text()
    metrics = json.loads((first / "evaluate-model/evaluation/metrics.json").read_text())
    assert metrics["top1_accuracy"] >= 0.8
    assert f"{metrics['top1_accuracy']:.4f}" in out
    freeze = json.loads((first / "freeze-model/executor_output.json").read_text())
    (frozen,) = freeze["artifacts"]["frozen_model"]["artifacts"]
    assert frozen["metadata"]["max_abs_difference"] <= 1e-5
    tflite = json.loads((first / "convert-tflite/executor_output.json").read_text())
    (converted,) = tflite["artifacts"]["tflite_model"]["artifacts"]
    checks = converted["metadata"]["checks"]
    assert checks["float32"]["max_abs_difference"] <= 1e-5
    assert checks["int8"]["top1_agreement"] >= 0.97

    # The same data again: everything keyed by it comes from the cache. The fingerprints are
    # taken anew; the gate runs again because production moved (this model is it now), and
    # promoting the model production already is adds no version.
    assert main([*argv, "--accuracy_threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    statuses = _statuses(out)
    ran = {"fingerprint-inputs", "gate-model", "promote-model"}
    assert statuses == {t: "SUCCESS" if t in ran else "CACHED" for t in ALL_TASKS}
    assert "10 tasks (7 from the cache)" in out
    assert f"and the blessed model's {metrics['top1_accuracy']:.4f}" in out
    assert f"Promoted: {registry}/1" in out and not (registry / "2").exists()
    assert f"  train-model/model  (cached: {first / 'train-model/model'})" in out
    second = {p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")} - {first}
    assert not list(next(iter(second)).glob("train-model"))

    # A grown folder: converted, analyzed, trained and evaluated again. Evaluated on the
    # training split against a threshold of 1.0, the model is not blessed: --fail_on_gate.
    _digit_photos(photos, range(1700, 1797))
    argv += ["--eval_split", "train", "--accuracy_threshold", "1.0", "--fail_on_gate"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    statuses = _statuses(captured.out)
    for task in ALL_TASKS[:6]:
        assert statuses[task] == "SUCCESS", task
    assert statuses["condition-1"] == "SKIPPED"
    assert "Quality gate: not blessed, so not exported: top-1 accuracy" in captured.out
    assert "--fail_on_gate: the quality gate said not blessed" in captured.err
    (third,) = {p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")} - {
        first,
        *second,
    }
    decision = (third / "gate-model/decision").read_text()
    assert "**Not blessed**" in decision and "below the threshold 1.0000" in decision
    convert = json.loads((third / "convert-dataset/executor_output.json").read_text())
    (dataset,) = convert["artifacts"]["dataset"]["artifacts"]
    assert dataset["metadata"]["source_fingerprint"].endswith(" 1797 files")
    assert not any(
        p.name.startswith(("export", "freeze", "convert-tflite")) for p in third.iterdir()
    )
    assert (registry / "latest").read_text() == "1\n"


def test_a_failing_task_fails_the_run_with_a_clear_error(tmp_path, monkeypatch):
    temp = tmp_path / "temp"  # the tasks' code goes into mktemp folders kubeslim removes
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    photos = tmp_path / "photos"
    (photos / "cats").mkdir(parents=True)
    (photos / "cats" / "1.png").write_bytes(b"")  # valid flags, a folder of one class
    with pytest.raises(KubeslimError) as raised:
        run_local(tmp_path / "runs", dataset_name="image_folder", source=str(photos))
    message = str(raised.value)
    assert "failed: 'convert-dataset'" in message and "It said: KubeslimError: " in message
    assert f"{photos}: found 1 class folder(s)" in message and "kfp-local.log" in message
    assert not list(temp.iterdir())
