"""The whole DAG runs on this machine with kfp.local and leaves every artifact."""

import json

import pytest

from kubeslim.cli import main
from kubeslim.errors import KubeslimError
from kubeslim.pipelines.local_runner import run_local


def test_run_local_produces_all_artifacts(tmp_path, capsys):
    assert main(["run-local", "--pipeline_root", str(tmp_path), "--num_epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "Test top-1 accuracy: " in out
    (run_dir,) = tmp_path.iterdir()
    expected = {
        "convert-dataset/dataset": ["dataset.json", "labels.txt"],
        "analyze-dataset/transform": ["statistics.json", "transform_fn/saved_model.pb"],
        "train-model/model": [
            "model_config.json",
            "model.ckpt-135.index",
            "transform/statistics.json",
        ],
        "evaluate-model/evaluation": ["metrics.json", "confusion_matrix.png"],
        "export-model/saved_model": ["saved_model.pb", "labels.txt"],
        "freeze-model/frozen_model": ["frozen_graph.pb", "frozen_graph.json"],
        "convert-tflite/tflite_model": ["model_float32.tflite", "model_int8.tflite"],
    }
    for output, files in expected.items():
        assert str(run_dir / output) in out
        for name in files:
            assert (run_dir / output / name).is_file(), f"{output}/{name}"
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


def test_a_failing_task_fails_the_run_with_a_clear_error(tmp_path):
    with pytest.raises(KubeslimError, match="local pipeline run failed.*train-model"):
        run_local(tmp_path, model_name="no_such_net")
