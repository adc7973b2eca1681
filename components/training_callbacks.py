"""The Keras callbacks of ``train``: a checkpoint every epoch, a clear stop on a non-finite
loss, TensorBoard's learning rate and speed, ``max_steps``, and ``training.json`` kept current
epoch by epoch."""

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from kubeslim.errors import KubeslimError
from kubeslim.fileio import write_text_atomic

log = logging.getLogger(__name__)


class CheckpointEveryEpoch(keras.callbacks.Callback):
    def __init__(self, manager: tf.train.CheckpointManager, step: tf.Variable):
        super().__init__()
        self._manager = manager
        self._step = step

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        path = self._manager.save(checkpoint_number=int(self._step.numpy()))
        log.info("epoch %d: saved %s", epoch + 1, path)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Ends training with a clear error when the loss becomes NaN or infinite; the epoch's
    checkpoint is not written, so the last good one stays the latest."""

    def __init__(self, manager: tf.train.CheckpointManager, step: tf.Variable):
        super().__init__()
        self._manager = manager
        self._step = step

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            last = self._manager.latest_checkpoint or "none (no epoch finished)"
            raise KubeslimError(
                f"loss became {float(loss)} at step {int(self._step.numpy())}; training "
                f"stopped and the last good checkpoint is kept: {last}. Lower "
                "--learning_rate or check the input data."
            )


class TrainingSummaries(keras.callbacks.Callback):
    """Writes the learning rate and images per second to TensorBoard each epoch."""

    def __init__(self, log_dir: Path, batch_size: int, steps_per_epoch: int):
        super().__init__()
        self._writer = tf.summary.create_file_writer(str(log_dir / "train"))
        self._images = batch_size * steps_per_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        images_per_second = self._images / (time.perf_counter() - self._start)
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        with self._writer.as_default(step=epoch):
            tf.summary.scalar("learning_rate", learning_rate)
            tf.summary.scalar("images_per_second", images_per_second)
        self._writer.flush()
        if logs is not None:  # the history keeps the learning rate; speed is not reproducible
            logs["learning_rate"] = learning_rate


class StopAtStep(keras.callbacks.Callback):
    def __init__(self, max_steps: int, step: tf.Variable):
        super().__init__()
        self._max_steps = max_steps
        self._step = step

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if int(self._step.numpy()) >= self._max_steps:
            self.model.stop_training = True


class TrainingRecord(keras.callbacks.Callback):
    """Keeps ``training.json`` current after every epoch: the run's settings and the per-epoch
    history, which starts with the earlier run's epochs when this one resumed, so a killed run
    loses no history. It runs before the epoch's checkpoint is saved: a kill between the two
    redoes the epoch and loses no entry."""

    def __init__(self, path: Path, record: dict[str, Any], initial_epoch: int):
        super().__init__()
        self.path = path
        earlier = json.loads(path.read_text())["history"] if path.is_file() else {}
        self.record = {
            **record,
            "history": {k: v[:initial_epoch] for k, v in earlier.items()},
        }

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        for key, value in (logs or {}).items():
            self.record["history"].setdefault(key, []).append(float(value))
        self.save()

    def save(self, **fields: Any) -> dict[str, Any]:
        """Adds ``fields`` to the record and writes it; returns it."""
        self.record.update(fields)
        write_text_atomic(self.path, json.dumps(self.record, indent=2) + "\n")
        return self.record
