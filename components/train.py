"""Trains a network from the nets factory on a converted data set (TF-Slim's
``train_image_classifier.py``, in Keras).

Checkpoints go to ``model_dir`` every epoch, so a restarted run resumes from the last one;
TensorBoard logs go to ``model_dir/logs``.
"""

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.components.model_dir import (
    CHECKPOINT_PREFIX,
    LOGS_DIR,
    TRAINING_FILE,
    ModelConfig,
    copy_transform,
    load_transform,
)
from kubeslim.components.nets import nets_factory
from kubeslim.errors import KubeslimError

log = logging.getLogger(__name__)

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}


class _CheckpointEveryEpoch(keras.callbacks.Callback):
    def __init__(self, manager: tf.train.CheckpointManager, step: tf.Variable):
        super().__init__()
        self._manager = manager
        self._step = step

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        path = self._manager.save(checkpoint_number=int(self._step.numpy()))
        log.info("epoch %d: saved %s", epoch + 1, path)


def _merge_history(
    record_path: Path, initial_epoch: int, new: dict[str, list[float]]
) -> dict[str, list[float]]:
    """Per-epoch history of a resumed run: the earlier run's first epochs, then the new ones."""
    old = json.loads(record_path.read_text())["history"] if record_path.is_file() else {}
    return {k: old.get(k, [])[:initial_epoch] + [float(v) for v in vs] for k, vs in new.items()}


def train(
    dataset_dir: str | Path,
    model_dir: str | Path,
    *,
    model_name: str = "lenet",
    preprocessing_name: str | None = None,
    image_size: int | None = None,
    batch_size: int = 32,
    num_epochs: int = 10,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    weight_decay: float = 4e-5,
    seed: int = 0,
    transform_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Trains ``model_name`` on the train split of ``dataset_dir``.

    Args:
      dataset_dir: a directory written by ``kubeslim convert``.
      model_dir: where checkpoints, logs and the model config go; training resumes from the
        latest checkpoint found there.
      model_name: a name in ``nets_factory``.
      preprocessing_name: a name in ``preprocessing_factory``; the network's own by default.
      image_size: network input size; the network's default by default.
      batch_size: examples per step.
      num_epochs: passes over the training split.
      optimizer: one of ``OPTIMIZERS``.
      learning_rate: the optimizer's learning rate.
      weight_decay: L2 scale on the weights (TF-Slim's default, 4e-5).
      seed: initialization and shuffle seed.
      transform_dir: a ``kubeslim analyze`` output; its statistics feed the preprocessing, and
        a copy goes into the model directory for evaluation and export.

    Returns:
      The training record written to ``training.json``: hyper-parameters and per-epoch history.
    """
    net_fn = nets_factory.get_network_fn(model_name)
    if optimizer not in OPTIMIZERS:
        raise KubeslimError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if batch_size < 1 or num_epochs < 1:
        raise KubeslimError("--batch_size and --num_epochs must be at least 1")
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    model_dir = Path(model_dir)
    if model_dir.exists() and not model_dir.is_dir():
        raise KubeslimError(f"model directory {model_dir} exists and is not a directory")
    model_dir.mkdir(parents=True, exist_ok=True)

    config = ModelConfig(
        model_name=model_name,
        preprocessing_name=preprocessing_name or net_fn.preprocessing_name,
        image_size=image_size or net_fn.default_image_size,
        channels=descriptor["image_shape"][-1],
        num_classes=descriptor["num_classes"],
        class_names=tuple(descriptor["class_names"]),
        dataset_name=descriptor["name"],
        uses_transform=transform_dir is not None,
    )
    if transform_dir is not None:
        copy_transform(transform_dir, model_dir)
    config.save(model_dir)
    transform = load_transform(model_dir, config)

    keras.utils.set_random_seed(seed)
    model = config.build(weight_decay=weight_decay)
    opt = OPTIMIZERS[optimizer](learning_rate=learning_rate)
    model.compile(
        optimizer=opt,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train_ds = config.make_dataset(
        dataset_dir,
        "train",
        batch_size=batch_size,
        is_training=True,
        seed=seed,
        transform=transform,
    )
    num_examples = descriptor["splits"]["train"]["num_examples"]
    steps_per_epoch = math.ceil(num_examples / batch_size)

    model.build((None, config.image_size, config.image_size, config.channels))
    opt.build(model.trainable_variables)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=opt)
    manager = tf.train.CheckpointManager(
        checkpoint, str(model_dir), max_to_keep=5, checkpoint_name=CHECKPOINT_PREFIX
    )
    initial_epoch = 0
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        initial_epoch = int(opt.iterations.numpy()) // steps_per_epoch
        log.info("resuming from %s (epoch %d)", manager.latest_checkpoint, initial_epoch)

    log.info(
        "training %s on %s: %d examples, %d classes, %dx%dx%d inputs, %d epochs of %d steps",
        model_name,
        config.dataset_name,
        num_examples,
        config.num_classes,
        config.image_size,
        config.image_size,
        config.channels,
        num_epochs,
        steps_per_epoch,
    )
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        epochs=num_epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # the tf.data pipeline shuffles; Keras's own flag does not apply to it
        verbose=2,
        callbacks=[
            _CheckpointEveryEpoch(manager, opt.iterations),
            keras.callbacks.TensorBoard(log_dir=str(model_dir / LOGS_DIR)),
        ],
    )
    seconds = time.perf_counter() - start
    epochs_run = num_epochs - initial_epoch
    record = {
        "dataset_dir": str(dataset_dir),
        "model_name": model_name,
        "batch_size": batch_size,
        "num_epochs": num_epochs,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "seed": seed,
        "steps": int(opt.iterations.numpy()),
        "checkpoint": manager.latest_checkpoint,
        "seconds": round(seconds, 2),
        "examples_per_second": round(epochs_run * num_examples / seconds, 1) if epochs_run else 0,
        "history": _merge_history(model_dir / TRAINING_FILE, initial_epoch, history.history),
    }
    (model_dir / TRAINING_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record
