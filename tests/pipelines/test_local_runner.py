"""The whole DAG runs on this machine with kfp.local, leaves every artifact, and says what
happened plainly: a line per task, then a summary; kfp.local's own output in a log file."""

import json
import re

import pytest

from kubeslim.cli import main
from kubeslim.errors import KubeslimError
from kubeslim.pipelines.local_runner import run_local


def test_run_local_produces_all_artifacts(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")  # a pipeline root kubeslim did not make
    registry = tmp_path.parent / f"{tmp_path.name}-registry"
    argv = ["run-local", "--pipeline_root", str(tmp_path), "--num_epochs", "3"]
    assert main([*argv, "--accuracy_threshold", "0.5", "--model_registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "Test top-1 accuracy: " in out and "on 359 digits test images" in out
    assert (tmp_path / "notes.txt").read_text() == "mine"
    (run_dir,) = (p for p in tmp_path.iterdir() if p.is_dir())
    assert len(out.splitlines()) < 40 and "executor_input" not in out
    assert "executor_input" in (run_dir / "kfp-local.log").read_text()
    steps = "fingerprint-inputs convert-dataset analyze-dataset train-model evaluate-model"
    steps += " gate-model export-model promote-model freeze-model"
    steps += " convert-tflite"
    for task in steps.split():
        assert re.search(rf"^  {task} +SUCCESS +\d+\.\d s$", out, re.MULTILINE), task
    assert "Quality gate: blessed: top-1 accuracy" in out
    assert f"Promoted: {registry}/1" in out
    assert (registry / "1" / "saved_model.pb").is_file()
    assert (registry / "latest").read_text() == "1\n"
    assert f"Report: {run_dir / 'report.html'}" in out
    page = (run_dir / "report.html").read_text()
    assert "<title>kubeslim: lenet on digits</title>" in page
    assert "training loss: cross-entropy + weight decay" in page
    expected = {
        "convert-dataset/dataset": ["dataset.json", "labels.txt"],
        "analyze-dataset/transform": ["statistics.json", "transform_fn/saved_model.pb"],
        "train-model/model": [
            "model_config.json",
            "model.ckpt-135.index",
            "transform/statistics.json",
        ],
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
            assert (run_dir / output / name).is_file(), f"{output}/{name}"
    report = (run_dir / "evaluate-model/report").read_text()
    assert "Training curves" in report and report.count("data:image/png;base64,") == 2
    assert "**Blessed**" in (run_dir / "gate-model/decision").read_text()
    metrics = json.loads((run_dir / "evaluate-model/evaluation/metrics.json").read_text())
    assert metrics["top1_accuracy"] >= 0.8
    assert f"{metrics['top1_accuracy']:.4f}" in out
    freeze = json.loads((run_dir / "freeze-model/executor_output.json").read_text())
    (frozen,) = freeze["artifacts"]["frozen_model"]["artifacts"]
    assert frozen["metadata"]["max_abs_difference"] <= 1e-5
    tflite = json.loads((run_dir / "convert-tflite/executor_output.json").read_text())
    (converted,) = tflite["artifacts"]["tflite_model"]["artifacts"]
    checks = converted["metadata"]["checks"]
    assert checks["float32"]["max_abs_difference"] <= 1e-5
    assert checks["int8"]["top1_agreement"] >= 0.97


def test_a_model_below_the_threshold_is_not_exported_and_fail_on_gate_says_so(
    tmp_path, digits_dir, capsys
):
    argv = ["run-local", "--pipeline_root", str(tmp_path), "--converted_dataset", str(digits_dir)]
    argv += ["--num_epochs", "1", "--accuracy_threshold", "1.0"]
    assert main([*argv, "--fail_on_gate"]) == 2
    captured = capsys.readouterr()
    assert re.search(r"^  condition-1 +SKIPPED", captured.out, re.MULTILINE)
    assert "Quality gate: not blessed, so not exported: top-1 accuracy" in captured.out
    assert "--fail_on_gate: the quality gate said not blessed" in captured.err
    (run_dir,) = (p for p in tmp_path.iterdir() if p.is_dir())
    copied = run_dir / "convert-dataset/dataset"
    assert (copied / "dataset.json").read_text() == (digits_dir / "dataset.json").read_text()
    assert len(list(copied.glob("*.tfrecord"))) == len(list(digits_dir.glob("*.tfrecord")))
    decision = (run_dir / "gate-model/decision").read_text()
    assert "**Not blessed**" in decision and "below the threshold 1.0000" in decision
    convert = json.loads((run_dir / "convert-dataset/executor_output.json").read_text())
    (dataset,) = convert["artifacts"]["dataset"]["artifacts"]
    assert dataset["metadata"]["source_fingerprint"].startswith("converted sha256:")
    assert not any(
        p.name.startswith(("export", "freeze", "convert-tflite")) for p in run_dir.iterdir()
    )


def test_a_failing_task_fails_the_run_with_a_clear_error(tmp_path):
    photos = tmp_path / "photos"
    (photos / "cats").mkdir(parents=True)
    (photos / "cats" / "1.png").write_bytes(b"")  # valid flags, a folder of one class
    with pytest.raises(KubeslimError) as raised:
        run_local(tmp_path / "runs", dataset_name="image_folder", source=str(photos))
    message = str(raised.value)
    assert "failed: 'convert-dataset'" in message and "It said: KubeslimError: " in message
    assert f"{photos}: found 1 class folder(s)" in message and "kfp-local.log" in message
