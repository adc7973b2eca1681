"""Training the seq2seq tutorial's translation model (its ``translate.py --train``): batches
from the tutorial's buckets (each pair goes to the smallest bucket that holds its source and
its target plus EOS, is padded to that bucket's sizes, and each step draws a bucket at random
in proportion to its size), the tutorial's learning-rate decay, resume from the latest
checkpoint, and loading the trained model back."""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from kubeslim.components.distribute import strategy_from_environment
from kubeslim.components.text.epoch_log import EpochLog, trained_record
from kubeslim.components.text.seq2seq_model import Seq2Seq, build, loss_sum, make_optimizer
from kubeslim.components.text.translation_data import (
    SOURCE,
    TARGET,
    copy_corpus_assets,
    read_parallel_descriptor,
    training_batches,
    vocabulary_sizes,
)
from kubeslim.components.text.translation_options import TranslationConfig
from kubeslim.errors import KubeslimError
from kubeslim.fileio import claim_dir

RECORD_FILE = "translation.json"
CHECKPOINT_PREFIX = "translate.ckpt"

log = logging.getLogger(__name__)


def validation_loss(model: Seq2Seq, batches: tf.data.Dataset) -> Callable[[], float]:
    """A function giving the mean full-softmax cross-entropy per target token of ``batches``
    (``training_batches``) for ``model`` as it is when called; its step is traced once, for
    the batches' spec, not once per batch shape (a partial batch, another bucket)."""
    step = tf.function(
        lambda e, d, t: loss_sum(model, e, d, t, False), input_signature=batches.element_spec
    )

    def mean_loss() -> float:
        total = count = 0.0
        for encoder_inputs, decoder_inputs, targets in batches:
            summed, n = step(encoder_inputs, decoder_inputs, targets)
            total, count = total + float(summed), count + float(n)
        return total / count

    return mean_loss


def train_translation_model(
    corpus_dir: str | Path,
    model_dir: str | Path,
    config: TranslationConfig,
    *,
    strategy: tf.distribute.Strategy | None = None,
) -> dict[str, Any]:
    """Trains on the train split epoch by epoch, resuming from the latest checkpoint in
    ``model_dir``; reports loss and perplexity (train, and valid if the corpus has it), and
    applies the tutorial's decay: the learning rate shrinks by ``learning_rate_decay_factor``
    when an epoch's loss is above all of the last three. Batches are split over the
    ``strategy``'s replicas (default: ``MirroredStrategy`` over several local GPUs, else one
    device).

    Returns:
      The record written to ``translation.json``.
    """
    corpus_dir = Path(corpus_dir)
    descriptor = read_parallel_descriptor(corpus_dir)
    model_dir = claim_dir(
        model_dir, "translation_model", inputs={"--corpus_dir": corpus_dir}, what="--model_dir"
    )
    copy_corpus_assets(corpus_dir, model_dir)
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or strategy_from_environment()
    with strategy.scope():
        model = Seq2Seq(*vocabulary_sizes(model_dir), config)
        build(model)
        optimizer = make_optimizer(config)
        optimizer.build(model.trainable_variables)
    epoch_var = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_var)
    manager = tf.train.CheckpointManager(
        checkpoint, str(model_dir), max_to_keep=3, checkpoint_name=CHECKPOINT_PREFIX
    )
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log.info("resuming from %s (epoch %d)", manager.latest_checkpoint, int(epoch_var))
    batches, steps, sizes = training_batches(corpus_dir, config)
    log.info(
        "train pairs per bucket %s: %s; %d fit none and are left out; %d steps an epoch",
        list(config.bucket_sizes),
        sizes[:-1].tolist(),
        sizes[-1],
        steps,
    )
    # Built once: counting the pairs per bucket is a pass over the split.
    valid_loss = (
        validation_loss(model, training_batches(corpus_dir, config, "valid")[0])
        if "valid" in descriptor["splits"]
        else None
    )
    variables = model.trainable_variables

    def replica_step(encoder_inputs, decoder_inputs, targets):
        """Each replica's share of the batch; the loss is its part of the global mean."""
        with tf.GradientTape() as tape:
            summed, local_count = loss_sum(model, encoder_inputs, decoder_inputs, targets, True)
            count = tf.distribute.get_replica_context().all_reduce("SUM", local_count)
            loss = summed / tf.maximum(count, 1.0)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss, count

    distributed = strategy.experimental_distribute_dataset(batches)

    # Traced once, for the batches' spec, not once per batch shape.
    @tf.function(input_signature=[distributed.element_spec])
    def train_step(batch):
        loss, count = strategy.run(replica_step, args=batch)
        # count is already the global one on every replica
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("MEAN", count, axis=None)

    log.info("training on %d replica(s)", strategy.num_replicas_in_sync)

    record = {
        "corpus_dir": str(corpus_dir),
        "corpus": descriptor["name"],
        "config": asdict(config),
        "vocabulary_sizes": dict(zip((SOURCE, TARGET), vocabulary_sizes(model_dir), strict=True)),
    }
    epoch_log = EpochLog(model_dir, RECORD_FILE, record, int(epoch_var))
    history = epoch_log.history
    for epoch in range(int(epoch_var), config.epochs):
        total = count = 0.0
        start = last_report = time.perf_counter()
        for step, batch in enumerate(distributed, 1):
            loss, n = train_step(batch)
            total, count = total + float(loss) * float(n), count + float(n)
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                log.info("epoch %d: step %d/%d, loss %.4f", epoch + 1, step, steps, total / count)
        train_loss = total / count
        if not math.isfinite(train_loss):
            raise KubeslimError(
                f"training loss became {train_loss} in epoch {epoch + 1}; the last good "
                f"checkpoint is kept: {manager.latest_checkpoint}"
            )
        entry = {
            "epoch": epoch + 1,
            "learning_rate": float(optimizer.learning_rate.numpy()),
            "train_loss": train_loss,
            "train_perplexity": math.exp(min(train_loss, 50.0)),
            "target_words_per_second": round(count / (time.perf_counter() - start), 1),
        }
        if valid_loss is not None:
            entry["valid_perplexity"] = math.exp(min(valid_loss(), 50.0))
        previous = [h["train_loss"] for h in history[-3:]]
        if len(previous) == 3 and train_loss > max(previous):
            optimizer.learning_rate.assign(
                optimizer.learning_rate * config.learning_rate_decay_factor
            )
        epoch_log.end_epoch(entry, epoch_var, manager)
    return epoch_log.save()


def load_model(model_dir: str | Path) -> tuple[Seq2Seq, TranslationConfig]:
    """The trained model of ``model_dir`` and its configuration.

    Raises:
      KubeslimError: there is none.
    """
    record, checkpoint = trained_record(model_dir, RECORD_FILE, "translation model")
    saved = record["config"]
    config = TranslationConfig(**saved)
    model = Seq2Seq(*vocabulary_sizes(model_dir), config)
    build(model)
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    return model, config
