"""Real training on the digits: it learns, checkpoints, logs and resumes."""

import json

from kubeslim.components.evaluate import evaluate
from kubeslim.components.model_dir import ModelConfig
from kubeslim.components.train import train

from ..conftest import TRAIN_EPOCHS


def test_trained_model_beats_chance_by_far(digits_dir, model_dir, tmp_path):
    metrics = evaluate(digits_dir, model_dir, tmp_path / "eval")
    assert metrics["top1_accuracy"] >= 0.9  # chance is 0.1
    record = json.loads((model_dir / "training.json").read_text())
    assert record["steps"] == TRAIN_EPOCHS * 45
    assert len(record["history"]["loss"]) == TRAIN_EPOCHS
    assert record["history"]["loss"][-1] < record["history"]["loss"][0] / 5


def test_model_dir_has_config_checkpoints_and_tensorboard_logs(model_dir):
    config = ModelConfig.load(model_dir)
    assert (config.model_name, config.image_size, config.num_classes) == ("lenet", 28, 10)
    assert (model_dir / f"model.ckpt-{TRAIN_EPOCHS * 45}.index").is_file()
    assert list((model_dir / "logs").rglob("events.out.tfevents.*"))


def test_training_resumes_from_the_latest_checkpoint(digits_dir, tmp_path):
    model_dir = tmp_path / "model"
    first = train(digits_dir, model_dir, num_epochs=1, batch_size=128)
    assert first["steps"] == 12
    resumed = train(digits_dir, model_dir, num_epochs=2, batch_size=128)
    assert resumed["steps"] == 24
    assert len(resumed["history"]["loss"]) == 2
    assert resumed["history"]["loss"][0] == first["history"]["loss"][0]


def test_the_same_seed_reproduces_training_exactly(digits_dir, tmp_path):
    runs = [
        train(digits_dir, tmp_path / f"run{i}", num_epochs=1, batch_size=128, seed=3)
        for i in range(2)
    ]
    assert runs[0]["history"] == runs[1]["history"]
