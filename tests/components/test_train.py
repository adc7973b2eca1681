"""Real training on the digits: it learns, checkpoints, logs and resumes."""

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from kubeslim.components.evaluate import evaluate
from kubeslim.components.model_dir import ModelConfig
from kubeslim.components.options import TrainOptions
from kubeslim.components.train import train
from kubeslim.errors import KubeslimError

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
    first = train(digits_dir, model_dir, TrainOptions(num_epochs=1, batch_size=128))
    assert first["steps"] == 12
    resumed = train(digits_dir, model_dir, TrainOptions(num_epochs=2, batch_size=128))
    assert resumed["steps"] == 24
    assert len(resumed["history"]["loss"]) == 2
    assert resumed["history"]["loss"][0] == first["history"]["loss"][0]


def test_the_same_seed_reproduces_training_exactly(digits_dir, tmp_path):
    runs = [
        train(digits_dir, tmp_path / f"run{i}", TrainOptions(num_epochs=1, batch_size=128, seed=3))
        for i in range(2)
    ]
    assert runs[0]["history"] == runs[1]["history"]


def _kernel(model_dir, layer_name):
    from kubeslim.components.model_dir import load_model

    model, _, _ = load_model(model_dir)
    return model.get_layer(layer_name).kernel.numpy()


def test_tf_slim_options_train_and_are_recorded(digits_dir, tmp_path):
    record = train(
        digits_dir,
        tmp_path / "model",
        TrainOptions(
            num_epochs=3,
            max_steps=20,
            batch_size=128,
            optimizer="momentum",
            learning_rate=0.01,
            learning_rate_decay_type="exponential",
            num_epochs_per_decay=1.5,
            learning_rate_decay_factor=0.5,
            label_smoothing=0.1,
        ),
    )
    assert record["steps"] == 20  # max_steps cut the second 12-step epoch short
    # The rate halves every 18 steps: epoch 1 ends at step 12, epoch 2 at step 20.
    assert record["history"]["learning_rate"] == pytest.approx([0.01, 0.005])
    assert (record["optimizer"], record["label_smoothing"]) == ("momentum", 0.1)
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]


def test_tensorboard_gets_learning_rate_and_images_per_second(digits_dir, tmp_path):
    import tensorflow as tf

    train(digits_dir, tmp_path / "model", TrainOptions(num_epochs=1, batch_size=128))
    tags = set()
    for events in (tmp_path / "model" / "logs" / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            tags.update(value.tag for value in event.summary.value)
    assert {"learning_rate", "images_per_second", "epoch_loss", "epoch_accuracy"} <= tags


@pytest.mark.parametrize("decay_type", ["fixed", "exponential", "polynomial"])
def test_moving_averages_are_what_evaluation_restores(digits_dir, tmp_path, decay_type):
    import tensorflow as tf

    from kubeslim.components.model_dir import load_model

    model_dir = tmp_path / "model"
    options = TrainOptions(
        num_epochs=1,
        batch_size=64,
        moving_average_decay=0.9,
        learning_rate_decay_type=decay_type,
    )
    train(digits_dir, model_dir, options)
    averaged, config, checkpoint = load_model(model_dir)
    assert config.uses_moving_averages
    raw = config.build()
    tf.train.Checkpoint(model=raw).restore(checkpoint).expect_partial()
    raw_kernel = raw.get_layer("fc3").kernel.numpy()
    averaged_kernel = averaged.get_layer("fc3").kernel.numpy()
    assert not np.allclose(raw_kernel, averaged_kernel)
    # The averages trail the weights: closer to the weights than the initial values are.
    assert np.abs(averaged_kernel - raw_kernel).max() < np.abs(raw_kernel).max()


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(digits_dir, tmp_path):
    model_dir = tmp_path / "model"
    train(digits_dir, model_dir, TrainOptions(num_epochs=1, batch_size=128))
    good = sorted(p.name for p in model_dir.glob("model.ckpt-*.index"))
    with pytest.raises(KubeslimError, match=r"loss became (nan|inf).*model\.ckpt-12"):
        train(
            digits_dir,
            model_dir,
            TrainOptions(num_epochs=3, batch_size=128, optimizer="sgd", learning_rate=1e12),
        )
    assert sorted(p.name for p in model_dir.glob("model.ckpt-*.index")) == good


def test_mixed_precision_trains_with_float32_weights(digits_dir, tmp_path):
    record = train(
        digits_dir,
        tmp_path / "model",
        TrainOptions(num_epochs=1, batch_size=64, mixed_precision=True),
    )
    assert record["precision_policy"] in ("mixed_bfloat16", "mixed_float16")
    assert np.isfinite(record["history"]["loss"][0])
    assert _kernel(tmp_path / "model", "fc3").dtype == np.float32


def test_labels_offset_drops_class_zero(digits_dir, tmp_path):
    record = train(
        digits_dir, tmp_path / "model", TrainOptions(num_epochs=1, batch_size=128, labels_offset=1)
    )
    assert record["steps"] == 11  # the 1,295 training images of classes 1-9, not all 1,437
    config = ModelConfig.load(tmp_path / "model")
    assert (config.num_classes, config.class_names[0], config.labels_offset) == (9, "1", 1)
    metrics = evaluate(digits_dir, tmp_path / "model", tmp_path / "eval")
    assert metrics["num_examples"] == 359 - 36  # the test split's zeros are skipped


def test_a_different_model_in_the_model_dir_is_one_error_and_changes_nothing(
    digits_dir, model_dir, tmp_path
):
    from kubeslim.components.export import export_saved_model

    copy = tmp_path / "lenet"
    shutil.copytree(model_dir, copy)
    before = {p.name: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    with pytest.raises(KubeslimError) as error:
        train(digits_dir, copy, TrainOptions(model_name="cifarnet", num_epochs=1))
    message = str(error.value)
    assert "\n" not in message
    assert "model_name 'lenet' there, 'cifarnet' now" in message
    assert "preprocessing_name 'lenet' there, 'cifarnet' now" in message
    assert "image_size 28 there, 32 now" in message and "new --model_dir" in message
    assert {p.name: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before
    assert evaluate(digits_dir, copy, tmp_path / "eval")["top1_accuracy"] >= 0.9
    export_saved_model(copy, tmp_path / "export")


def test_a_directory_that_is_not_a_model_dir_is_refused_before_anything_is_written(
    digits_dir, tmp_path
):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    with pytest.raises(KubeslimError, match="was not written by kubeslim"):
        train(digits_dir, home, TrainOptions(num_epochs=1))
    assert [p.name for p in home.iterdir()] == ["notes.txt"]
    with pytest.raises(KubeslimError, match="lies inside --dataset_dir"):
        train(digits_dir, digits_dir / "model", TrainOptions(num_epochs=1))
    assert not (digits_dir / "model").exists()


_KILLABLE_TRAINING = """
import sys, time
from kubeslim.components import train as training
from kubeslim.components.options import TrainOptions


class WaitForTheKill(training.keras.callbacks.Callback):
    # stands in for the max_steps callback: two epochs done and checkpointed, then a pause
    def __init__(self, *args):
        super().__init__()

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            open(sys.argv[3], "w").close()
            time.sleep(600)


training.StopAtStep = WaitForTheKill
training.train(
    sys.argv[1],
    sys.argv[2],
    TrainOptions(num_epochs=4, batch_size=128, max_steps=10**6),
)
"""


def test_history_survives_a_sigkill_and_a_resume(digits_dir, tmp_path):
    """A run killed in its third epoch, then resumed: training.json holds all four epochs."""
    model_dir = tmp_path / "model"
    killable = tmp_path / "killable"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE_TRAINING, str(digits_dir), str(model_dir), killable],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not killable.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert killable.exists(), "the training child never reached its third epoch"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    killed = json.loads((model_dir / "training.json").read_text())
    assert len(killed["history"]["loss"]) == 2
    resumed = train(digits_dir, model_dir, TrainOptions(num_epochs=4, batch_size=128))
    assert resumed["steps"] == 48
    assert len(resumed["history"]["loss"]) == 4
    assert resumed["history"]["loss"][:2] == killed["history"]["loss"]
