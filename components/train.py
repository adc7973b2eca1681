"""Trains a network from the nets factory on a converted data set (TF-Slim's
``train_image_classifier.py``, in Keras).

Checkpoints go to ``model_dir`` every epoch, so a restarted run resumes from the last one;
TensorBoard logs (loss, accuracy, learning rate, images per second) go to ``model_dir/logs``.
Across several local GPUs the model is mirrored; across the workers ``TF_CONFIG`` describes
it is trained with ``MultiWorkerMirroredStrategy`` and only the chief writes the model
directory (see ``distribute``).
"""

import contextlib
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.components import distribute, fine_tune
from kubeslim.components.model_dir import (
    CHECKPOINT_PREFIX,
    CONFIG_FILE,
    LOGS_DIR,
    MODEL_DIR_KIND,
    TRAINING_FILE,
    ModelConfig,
    check_transform_dir,
    copy_transform,
    load_transform,
)
from kubeslim.components.nets import nets_factory
from kubeslim.components.optimization import OptimizerOptions, make_optimizer
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError
from kubeslim.fileio import claim_dir, write_text_atomic

log = logging.getLogger(__name__)

# What a resumed run must share with the run that wrote the model directory.
_RESUME_MUST_MATCH = (
    "model_name",
    "preprocessing_name",
    "image_size",
    "channels",
    "num_classes",
    "class_names",
    "labels_offset",
    "uses_transform",
    "uses_moving_averages",
)


class SparseCrossentropy(keras.losses.Loss):
    """Softmax cross-entropy on integer labels with TF-Slim's label smoothing."""

    def __init__(self, num_classes: int, label_smoothing: float = 0.0):
        super().__init__(name="cross_entropy")
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        labels = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), self.num_classes)
        return keras.losses.categorical_crossentropy(
            labels, y_pred, from_logits=True, label_smoothing=self.label_smoothing
        )


class _CheckpointEveryEpoch(keras.callbacks.Callback):
    def __init__(self, manager: tf.train.CheckpointManager, step: tf.Variable):
        super().__init__()
        self._manager = manager
        self._step = step

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        path = self._manager.save(checkpoint_number=int(self._step.numpy()))
        log.info("epoch %d: saved %s", epoch + 1, path)


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
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


class _TrainingSummaries(keras.callbacks.Callback):
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


class _StopAtStep(keras.callbacks.Callback):
    def __init__(self, max_steps: int, step: tf.Variable):
        super().__init__()
        self._max_steps = max_steps
        self._step = step

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if int(self._step.numpy()) >= self._max_steps:
            self.model.stop_training = True


@contextlib.contextmanager
def _precision_policy(mixed_precision: bool) -> Iterator[str]:
    """``mixed_float16`` on GPU, ``mixed_bfloat16`` on CPU, for the duration of training."""
    previous = keras.mixed_precision.global_policy().name
    policy = "float32"
    if mixed_precision:
        policy = "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


class _TrainingRecord(keras.callbacks.Callback):
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


def _check_resumable(model_dir: Path, config: ModelConfig) -> None:
    """Refuses to train into a model directory whose model differs from the one asked for.

    Raises:
      KubeslimError: naming each differing setting, its value there and the value asked for.
    """
    if not (model_dir / CONFIG_FILE).is_file():
        return
    existing = ModelConfig.load(model_dir)
    differences = [
        f"{name} {getattr(existing, name)!r} there, {getattr(config, name)!r} now"
        for name in _RESUME_MUST_MATCH
        if getattr(existing, name) != getattr(config, name)
    ]
    if differences:
        raise KubeslimError(
            f"--model_dir {model_dir} holds a different model ({'; '.join(differences)}): "
            "training there would resume it; give the same flags to resume it, or a new "
            "--model_dir to start another model"
        )


def _split_scopes(scopes: str | list[str] | None) -> list[str]:
    if not scopes:
        return []
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    return [s.strip() for s in scopes if s.strip()]


def train(
    dataset_dir: str | Path,
    model_dir: str | Path,
    *,
    model_name: str = "lenet",
    preprocessing_name: str | None = None,
    image_size: int | None = None,
    batch_size: int = 32,
    num_epochs: int = 10,
    max_steps: int | None = None,
    weight_decay: float = 4e-5,
    label_smoothing: float = 0.0,
    labels_offset: int = 0,
    checkpoint_path: str | None = None,
    checkpoint_exclude_scopes: str | list[str] | None = None,
    trainable_scopes: str | list[str] | None = None,
    ignore_missing_vars: bool = False,
    mixed_precision: bool = False,
    seed: int = 0,
    transform_dir: str | Path | None = None,
    **optimizer_flags: Any,
) -> dict[str, Any]:
    """Trains ``model_name`` on the train split of ``dataset_dir``.

    Args:
      dataset_dir: a directory written by ``kubeslim convert``.
      model_dir: where checkpoints, logs and the model config go; training resumes from the
        latest checkpoint found there.
      model_name: a name in ``nets_factory``.
      preprocessing_name: a name in ``preprocessing_factory``; the network's own by default.
      image_size: network input size; the network's default by default.
      batch_size: examples per step, over all replicas.
      num_epochs: passes over the training split.
      max_steps: stop after this many steps in all, if sooner than ``num_epochs``.
      weight_decay: L2 scale on the kernels (TF-Slim's default, 4e-5).
      label_smoothing: TF-Slim's label smoothing of the one-hot targets.
      labels_offset: subtracted from every label (1 drops a background class 0); examples
        with a smaller label are skipped.
      checkpoint_path: fine-tune from this TF checkpoint or Keras weights file; used only
        when ``model_dir`` has no checkpoint yet (step 0), as in TF-Slim.
      checkpoint_exclude_scopes: comma-separated scopes not restored from it
        (``InceptionV3/Logits``).
      trainable_scopes: comma-separated scopes to train; all when empty.
      ignore_missing_vars: initialize variables the checkpoint lacks instead of failing.
      mixed_precision: compute in float16 on GPU (bfloat16 on CPU), keep float32 weights.
      seed: initialization and shuffle seed.
      transform_dir: a ``kubeslim analyze`` output; its statistics feed the preprocessing, and
        a copy goes into the model directory for evaluation and export.
      **optimizer_flags: fields of ``OptimizerOptions`` (``optimizer``, ``learning_rate``,
        ``learning_rate_decay_type``, ``moving_average_decay``...).

    Returns:
      The training record written to ``training.json``: hyper-parameters and per-epoch history.
    """
    strategy = distribute.strategy_from_environment()  # first, before any TensorFlow op
    try:
        options = OptimizerOptions(**optimizer_flags)
    except TypeError as e:
        raise KubeslimError(f"unknown training option: {e}") from None
    options.check()
    net_fn = nets_factory.get_network_fn(model_name)
    if batch_size < 1 or num_epochs < 1 or (max_steps is not None and max_steps < 1):
        raise KubeslimError("--batch_size, --num_epochs and --max_steps must be at least 1")
    if not 0 <= label_smoothing < 1:
        raise KubeslimError(f"--label_smoothing must be in [0, 1), got {label_smoothing}")
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    if not 0 <= labels_offset < descriptor["num_classes"] - 1:
        raise KubeslimError(
            f"--labels_offset {labels_offset} leaves fewer than 2 of the "
            f"{descriptor['num_classes']} classes"
        )
    config = ModelConfig(
        model_name=model_name,
        preprocessing_name=preprocessing_name or net_fn.preprocessing_name,
        image_size=image_size or net_fn.default_image_size,
        channels=descriptor["image_shape"][-1],
        num_classes=descriptor["num_classes"] - labels_offset,
        class_names=tuple(descriptor["class_names"][labels_offset:]),
        dataset_name=descriptor["name"],
        uses_transform=transform_dir is not None,
        labels_offset=labels_offset,
        uses_moving_averages=options.moving_average_decay is not None,
    )
    preprocessing_factory.get_preprocessing(config.preprocessing_name)
    if config.image_size < 1:
        raise KubeslimError(f"--image_size must be at least 1, got {config.image_size}")
    if transform_dir is not None:
        check_transform_dir(transform_dir)
    per_class = descriptor["splits"]["train"]["examples_per_class"]
    num_examples = sum(per_class.get(name, 0) for name in config.class_names)
    if not num_examples:
        raise KubeslimError(f"the train split of {dataset_dir} has no examples to train on")
    model_dir = Path(model_dir)
    _check_resumable(model_dir, config)
    chief = distribute.is_chief(strategy)
    if chief:
        claim_dir(
            model_dir,
            MODEL_DIR_KIND,
            inputs={
                "--dataset_dir": dataset_dir,
                "--transform_dir": transform_dir,
                "--checkpoint_path": checkpoint_path,
            },
            what="--model_dir",
        )
    write_dir = model_dir if chief else Path(tempfile.mkdtemp(prefix="kubeslim-worker-"))
    if transform_dir is not None:
        copy_transform(transform_dir, write_dir)
    if chief:
        config.save(model_dir)
    transform = load_transform(write_dir, config)

    steps_per_epoch = math.ceil(num_examples / batch_size)
    if max_steps is not None:
        num_epochs = min(num_epochs, math.ceil(max_steps / steps_per_epoch))
    keras.utils.set_random_seed(seed)
    with _precision_policy(mixed_precision) as policy, strategy.scope():
        model = config.build(weight_decay=weight_decay)
        opt = make_optimizer(options, steps_per_epoch)
        trainable = fine_tune.set_trainable_scopes(model, _split_scopes(trainable_scopes))
        loss = SparseCrossentropy(config.num_classes, label_smoothing)
        model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        opt = model.optimizer  # a LossScaleOptimizer wraps it under mixed_float16
        opt.build(model.trainable_variables)
    train_ds = config.make_dataset(
        dataset_dir,
        "train",
        batch_size=batch_size,
        is_training=True,
        seed=seed,
        transform=transform,
    )

    checkpoint = tf.train.Checkpoint(model=model, optimizer=opt)
    manager = tf.train.CheckpointManager(
        checkpoint, str(write_dir), max_to_keep=5, checkpoint_name=CHECKPOINT_PREFIX
    )
    initial_epoch = 0
    latest = tf.train.latest_checkpoint(str(model_dir))
    if latest:
        try:
            checkpoint.restore(latest).assert_existing_objects_matched().expect_partial()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise KubeslimError(
                f"cannot resume {latest} with these flags (the optimizer and its settings "
                f"must be those of the run that wrote it; or give a new --model_dir): "
                f"{str(e).splitlines()[0]}"
            ) from None
        initial_epoch = int(opt.iterations.numpy()) // steps_per_epoch
        log.info("resuming from %s (epoch %d)", latest, initial_epoch)
        if options.learning_rate_decay_type == "fixed":  # the flag wins over the restored value
            opt.learning_rate = options.learning_rate
        if checkpoint_path:
            log.info("--checkpoint_path %s ignored: resuming instead", checkpoint_path)
    elif checkpoint_path:
        fine_tune.restore_for_fine_tuning(
            model, checkpoint_path, _split_scopes(checkpoint_exclude_scopes), ignore_missing_vars
        )

    log.info(
        "training %s on %s: %d examples, %d classes, %dx%dx%d inputs, %d epochs of %d steps, "
        "%d trainable variables, %s, %d replica(s), %s",
        model_name,
        config.dataset_name,
        num_examples,
        config.num_classes,
        config.image_size,
        config.image_size,
        config.channels,
        num_epochs,
        steps_per_epoch,
        trainable,
        options.optimizer,
        strategy.num_replicas_in_sync,
        policy,
    )
    record = _TrainingRecord(
        write_dir / TRAINING_FILE,
        {
            "dataset_dir": str(dataset_dir),
            "model_name": model_name,
            "batch_size": batch_size,
            "num_epochs": num_epochs,
            "max_steps": max_steps,
            "weight_decay": weight_decay,
            "label_smoothing": label_smoothing,
            "labels_offset": labels_offset,
            "checkpoint_path": checkpoint_path,
            "checkpoint_exclude_scopes": _split_scopes(checkpoint_exclude_scopes),
            "trainable_scopes": _split_scopes(trainable_scopes),
            "precision_policy": policy,
            "replicas": strategy.num_replicas_in_sync,
            "seed": seed,
            **vars(options),
        },
        initial_epoch,
    )
    callbacks = [
        _StopOnNonFiniteLoss(manager, opt.iterations),
        _TrainingSummaries(write_dir / LOGS_DIR, batch_size, steps_per_epoch),
        record,  # after the summaries (which add the learning rate), before the checkpoint
        _CheckpointEveryEpoch(manager, opt.iterations),
        keras.callbacks.TensorBoard(log_dir=str(write_dir / LOGS_DIR)),
    ]
    if max_steps is not None:
        callbacks.insert(0, _StopAtStep(max_steps, opt.iterations))
    start = time.perf_counter()
    if distribute.is_multi_worker(strategy):
        distribute.fit_multi_worker(
            model,
            loss,
            train_ds,
            strategy,
            batch_size=batch_size,
            epochs=num_epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=callbacks,
        )
    else:
        model.fit(
            train_ds,
            epochs=num_epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            shuffle=False,  # the tf.data pipeline shuffles; Keras's own flag does not apply
            verbose=2,
            callbacks=callbacks,
        )
    seconds = time.perf_counter() - start
    steps = int(opt.iterations.numpy())
    result = record.save(
        steps=steps,
        checkpoint=manager.latest_checkpoint,
        seconds=round(seconds, 2),
        examples_per_second=round(
            (steps - initial_epoch * steps_per_epoch) * batch_size / seconds, 1
        )
        if seconds
        else 0,
    )
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
    return result
