import json

import numpy as np
import pytest
from PIL import Image

from kubeslim.components.evaluate import classification_metrics, evaluate


def test_metrics_of_known_logits():
    logits = np.array(
        [
            [3.0, 1.0, 0.0, -1.0, -2.0, -3.0],  # true 0, predicted 0
            [3.0, 2.0, 0.0, -1.0, -2.0, -3.0],  # true 1, predicted 0, 1 in top 5
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],  # true 0, not in top 5
        ]
    )
    labels = np.array([0, 1, 0])
    m = classification_metrics(logits, labels, list("abcdef"))
    assert m["top1_accuracy"] == pytest.approx(1 / 3)
    assert m["top5_accuracy"] == pytest.approx(2 / 3)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert m["loss"] == pytest.approx(-np.mean(log_softmax[[0, 1, 2], labels]))
    assert m["confusion_matrix"][0] == [1, 0, 0, 0, 0, 1]
    assert m["confusion_matrix"][1] == [1, 0, 0, 0, 0, 0]
    assert m["per_class_accuracy"] == {"a": 0.5, "b": 0.0, "c": 0, "d": 0, "e": 0, "f": 0}


def test_evaluate_writes_metrics_and_confusion_plot(digits_dir, model_dir, tmp_path):
    out = tmp_path / "eval"
    metrics = evaluate(digits_dir, model_dir, out)
    assert json.loads((out / "metrics.json").read_text()) == metrics
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.sum() == metrics["num_examples"] == 359
    assert np.trace(matrix) / matrix.sum() == pytest.approx(metrics["top1_accuracy"])
    assert metrics["top5_accuracy"] >= metrics["top1_accuracy"]
    with Image.open(out / "confusion_matrix.png") as plot:
        assert plot.width > 300 and plot.height > 300


def test_the_held_out_split_is_test_else_validation():
    from kubeslim import dataset_spec
    from kubeslim.errors import KubeslimError

    assert dataset_spec.held_out_split({"name": "d", "splits": {"train": {}, "test": {}}}) == "test"
    validation = {"name": "f", "splits": {"train": {}, "validation": {}}}
    assert dataset_spec.held_out_split(validation) == "validation"
    with pytest.raises(KubeslimError, match="'t' has no test or validation split"):
        dataset_spec.held_out_split({"name": "t", "splits": {"train": {}}})


def test_eval_loop_evaluates_new_checkpoints_until_the_timeout(digits_dir, tmp_path):
    import threading

    from kubeslim.components.evaluate import evaluate_checkpoints
    from kubeslim.components.options import EvalOptions, TrainOptions
    from kubeslim.components.train import train

    model_dir = tmp_path / "model"
    train(digits_dir, model_dir, TrainOptions(num_epochs=1, batch_size=128))
    # Two more epochs are trained while the loop watches.
    trainer = threading.Thread(
        target=train, args=(digits_dir, model_dir, TrainOptions(num_epochs=3, batch_size=128))
    )
    trainer.start()
    history = evaluate_checkpoints(
        digits_dir,
        model_dir,
        tmp_path / "eval",
        EvalOptions(eval_interval_secs=0.2, timeout_secs=15),
    )
    trainer.join()
    steps = [h["step"] for h in history]
    assert steps[0] in (12, 24) and steps[-1] == 36 and steps == sorted(set(steps))
    assert len(steps) >= 2
    for step in steps:
        assert (tmp_path / "eval" / f"step-{step}" / "metrics.json").is_file()
    assert json.loads((tmp_path / "eval" / "history.json").read_text()) == history
