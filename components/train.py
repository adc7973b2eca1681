"""Trains a network from the nets factory on a converted data set (TF-Slim's
``train_image_classifier.py``, in Keras).

Checkpoints go to ``model_dir`` every epoch, so a restarted run resumes from the last one;
TensorBoard logs (loss, accuracy, learning rate, images per second) go to ``model_dir/logs``.
Across several local GPUs the model is mirrored; across the workers ``TF_CONFIG`` describes
it is trained with ``MultiWorkerMirroredStrategy`` and only the chief writes the model
directory (see ``distribute``).
"""

import contextlib
import dataclasses
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

from kubeslim import dataset_spec, storage
from kubeslim.components import distribute, fine_tune
from kubeslim.components.model_dir import (
    CHECKPOINT_PREFIX,
    MODEL_DIR_KIND,
    ModelConfig,
    check_transform_dir,
    copy_transform,
    load_transform,
)
from kubeslim.components.nets import nets_factory
from kubeslim.components.optimization import make_optimizer
from kubeslim.components.options import TrainOptions
from kubeslim.components.resources import check_batch_fits
from kubeslim.components.training_callbacks import (
    CheckpointEveryEpoch,
    StopAtStep,
    StopOnNonFiniteLoss,
    TrainingRecord,
    TrainingSummaries,
)
from kubeslim.errors import KubeslimError
from kubeslim.fileio import check_claim, claim_dir
from kubeslim.model_spec import CONFIG_FILE, LOGS_DIR, TRAINING_FILE

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


class AuxiliaryLossModel(keras.Model):
    """A net with an auxiliary head, trained as TF-Slim's ``train_image_classifier.py`` trained
    it: its outputs are [logits, auxiliary logits], its loss adds ``AUX_LOSS_WEIGHT`` times the
    auxiliary logits' cross-entropy to the logits', and its accuracy is the logits'."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits, aux_logits = y_pred
        loss = super().compute_loss(x, y, logits, sample_weight, training)
        return loss + nets_factory.AUX_LOSS_WEIGHT * self.loss(y, aux_logits, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y, y_pred[0], sample_weight)


def training_model(model: keras.Model) -> keras.Model:
    """What training fits: ``model`` itself, or, when it has an auxiliary head, a model that
    shares its layers and also outputs the auxiliary logits for the loss."""
    aux_logits = nets_factory.aux_logits(model)
    if aux_logits is None:
        return model
    return AuxiliaryLossModel(model.input, [model.output, aux_logits], name=model.name)


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
    options: TrainOptions | None = None,
    *,
    transform_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Trains ``options.model_name`` on the train split of ``dataset_dir``.

    Args:
      dataset_dir: a directory written by ``kubeslim convert``.
      model_dir: where checkpoints, logs and the model config go; training resumes from the
        latest checkpoint found there (the model there must be the one ``options`` asks for).
      options: TF-Slim's training flags (``TrainOptions``; its defaults if None).
      transform_dir: a ``kubeslim analyze`` output; its statistics feed the preprocessing, and
        a copy goes into the model directory for evaluation and export.

    Returns:
      The training record written to ``training.json``: hyper-parameters and per-epoch history.

    Raises:
      KubeslimError: an input is not what it should be, or the model directory holds another
        model; nothing is written then.
    """
    strategy = distribute.strategy_from_environment()  # first, before any TensorFlow op
    options = options or TrainOptions()
    net_fn = nets_factory.get_network_fn(options.model_name)
    storage.check_tensorflow_can_read(str(dataset_dir), "--dataset_dir")
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    labels_offset = options.labels_offset
    if labels_offset >= descriptor["num_classes"] - 1:
        raise KubeslimError(
            f"--labels_offset {labels_offset} leaves fewer than 2 of the "
            f"{descriptor['num_classes']} classes"
        )
    config = ModelConfig(
        model_name=options.model_name,
        preprocessing_name=options.preprocessing_name or net_fn.preprocessing_name,
        image_size=options.image_size or net_fn.default_image_size,
        channels=descriptor["image_shape"][-1],
        num_classes=descriptor["num_classes"] - labels_offset,
        class_names=tuple(descriptor["class_names"][labels_offset:]),
        dataset_name=descriptor["name"],
        uses_transform=transform_dir is not None,
        labels_offset=labels_offset,
        uses_moving_averages=options.moving_average_decay > 0,
    )
    if transform_dir is not None:
        check_transform_dir(transform_dir)
    per_class = descriptor["splits"]["train"]["examples_per_class"]
    num_examples = sum(per_class.get(name, 0) for name in config.class_names)
    if not num_examples:
        raise KubeslimError(f"the train split of {dataset_dir} has no examples to train on")
    batch_size, num_epochs, max_steps = options.batch_size, options.num_epochs, options.max_steps
    if batch_size > num_examples:
        raise KubeslimError(
            f"--batch_size {batch_size} is larger than the {num_examples} training examples of "
            f"{dataset_dir}: give --batch_size {num_examples} or less"
        )
    model_dir = Path(model_dir)
    _check_resumable(model_dir, config)
    claim = {
        "kind": MODEL_DIR_KIND,
        "inputs": {
            "--dataset_dir": dataset_dir,
            "--transform_dir": transform_dir,
            "--checkpoint_path": options.checkpoint_path,
        },
        "what": "--model_dir",
    }
    check_claim(model_dir, **claim)

    steps_per_epoch = math.ceil(num_examples / batch_size)
    if max_steps:
        num_epochs = min(num_epochs, math.ceil(max_steps / steps_per_epoch))
    keras.utils.set_random_seed(options.seed)
    with _precision_policy(options.mixed_precision) as policy, strategy.scope():
        model = config.build(weight_decay=options.weight_decay)
        check_batch_fits(model, batch_size, policy)  # before anything is written
        opt = make_optimizer(options, steps_per_epoch)
        trainable = fine_tune.set_trainable_scopes(model, _split_scopes(options.trainable_scopes))
        loss = SparseCrossentropy(config.num_classes, options.label_smoothing)
        fitted = training_model(model)
        # A metric made here, not named: Keras would make it inside the first trace of the
        # train step, and TensorFlow traces a function that creates variables twice.
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        fitted.compile(optimizer=opt, loss=loss, metrics=[accuracy])
        opt = fitted.optimizer  # a LossScaleOptimizer wraps it under mixed_float16
        opt.build(model.trainable_variables)

    # Resume, or start from --checkpoint_path: both fail before anything is written.
    checkpoint = tf.train.Checkpoint(model=model, optimizer=opt)
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
        if options.checkpoint_path:
            log.info("--checkpoint_path %s ignored: resuming instead", options.checkpoint_path)
    elif options.checkpoint_path:
        fine_tune.restore_for_fine_tuning(
            model,
            options.checkpoint_path,
            _split_scopes(options.checkpoint_exclude_scopes),
            options.ignore_missing_vars,
        )

    chief = distribute.is_chief(strategy)
    if chief:
        claim_dir(model_dir, **claim)
    write_dir = model_dir if chief else Path(tempfile.mkdtemp(prefix="kubeslim-worker-"))
    if transform_dir is not None:
        copy_transform(transform_dir, write_dir)
    if chief:
        config.save(model_dir)
    transform = load_transform(write_dir, config)
    manager = tf.train.CheckpointManager(
        checkpoint, str(write_dir), max_to_keep=5, checkpoint_name=CHECKPOINT_PREFIX
    )
    train_ds = config.make_dataset(
        dataset_dir,
        "train",
        batch_size=batch_size,
        is_training=True,
        seed=options.seed,
        transform=transform,
    )

    log.info(
        "training %s on %s: %d examples, %d classes, %dx%dx%d inputs, %d epochs of %d steps, "
        "%d trainable variables, %s, %d replica(s), %s",
        options.model_name,
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
    record = TrainingRecord(
        write_dir / TRAINING_FILE,
        {
            "dataset_dir": str(dataset_dir),
            **dataclasses.asdict(options),
            "num_epochs": num_epochs,  # as max_steps cut it
            "auxiliary_loss_weight": nets_factory.AUX_LOSS_WEIGHT if fitted is not model else 0.0,
            "precision_policy": policy,
            "replicas": strategy.num_replicas_in_sync,
        },
        initial_epoch,
    )
    callbacks = [
        StopOnNonFiniteLoss(manager, opt.iterations),
        TrainingSummaries(write_dir / LOGS_DIR, batch_size, steps_per_epoch),
        record,  # after the summaries (which add the learning rate), before the checkpoint
        CheckpointEveryEpoch(manager, opt.iterations),
        keras.callbacks.TensorBoard(log_dir=str(write_dir / LOGS_DIR)),
    ]
    if max_steps:
        callbacks.insert(0, StopAtStep(max_steps, opt.iterations))
    start = time.perf_counter()
    try:
        if distribute.is_multi_worker(strategy):
            distribute.fit_multi_worker(
                fitted,
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
            fitted.fit(
                train_ds,
                epochs=num_epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps_per_epoch,
                shuffle=False,  # the tf.data pipeline shuffles; Keras's own flag does not apply
                verbose=2,
                callbacks=callbacks,
            )
    except tf.errors.ResourceExhaustedError:
        raise KubeslimError(
            f"--batch_size {batch_size}: training {options.model_name} ran out of memory; "
            f"lower --batch_size (the last good checkpoint is kept: "
            f"{manager.latest_checkpoint or 'none'})"
        ) from None
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
