"""The PTB language model of tensorflow/models' ``ptb_word_lm.py`` (Zaremba et al. 2014) in
TF2: a multi-layer LSTM over word embeddings, trained with truncated back-propagation through
time (the state carried from one batch to the next), SGD with gradient clipping, the
tutorial's learning-rate decay and dropout, and its small, medium and large configurations.
The corpus is read as the tutorial's reader does: all lines of a split joined into one stream
(each ends in ``<eos>``), cut into ``batch_size`` rows and ``num_steps`` windows.
"""

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kubeslim import corpus_spec
from kubeslim.components.serving import write_servable
from kubeslim.components.text.corpus import token_lines, vocabulary_table
from kubeslim.components.text.epoch_log import EpochLog, trained_record
from kubeslim.components.text.layers import LstmStack
from kubeslim.components.text.ptb_lm_options import LanguageModelConfig
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir, claim_dir
from kubeslim.model_spec import METRICS_FILE, SERVABLE_VERSION

RECORD_FILE = "language_model.json"
CHECKPOINT_PREFIX = "ptb_lm.ckpt"

EXPORT_KIND = "language_model_export"  # its kind in the kubeslim marker (``fileio``)
log = logging.getLogger(__name__)


def token_stream(corpus_dir: str | Path, split: str) -> np.ndarray:
    """All ids of ``split``, line after line: int32 [tokens]."""
    return np.concatenate([ids.numpy() for ids in token_lines(corpus_dir, split)]).astype(np.int32)


def windows(stream: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's ``ptb_producer``: inputs and targets [windows, batch_size, num_steps]."""
    batch_len = len(stream) // batch_size
    data = stream[: batch_size * batch_len].reshape(batch_size, batch_len)
    count = (batch_len - 1) // num_steps
    if count < 1:
        raise KubeslimError(
            f"{len(stream)} tokens are too few for batches of {batch_size} x {num_steps}"
        )
    inputs = np.stack([data[:, i * num_steps : (i + 1) * num_steps] for i in range(count)])
    targets = np.stack([data[:, i * num_steps + 1 : (i + 1) * num_steps + 1] for i in range(count)])
    return inputs, targets


class LanguageModel(keras.layers.Layer):
    """Embedding -> LSTM layers -> softmax over the vocabulary. A Keras layer, so that its
    ``trainable_variables`` hold the LSTMs' weights as well as its own."""

    def __init__(self, vocabulary_size: int, config: LanguageModelConfig):
        super().__init__(name="language_model")
        init = keras.initializers.RandomUniform(-config.init_scale, config.init_scale, config.seed)
        self.config = config
        self.embedding = self.add_weight(
            shape=(vocabulary_size, config.hidden_size), initializer=init, name="embedding"
        )
        self.dropout = keras.layers.Dropout(1.0 - config.keep_prob, seed=config.seed)
        self.lstms = LstmStack(
            config.hidden_size,
            config.num_layers,
            dropout=1.0 - config.keep_prob,
            seed=config.seed,
            kernel_initializer=init,
            recurrent_initializer=init,
            unit_forget_bias=False,  # the tutorial's forget_bias=0
            name="lstms",
        )
        self.softmax_w = self.add_weight(
            shape=(config.hidden_size, vocabulary_size), initializer=init, name="softmax_w"
        )
        self.softmax_b = self.add_weight(
            shape=(vocabulary_size,), initializer=init, name="softmax_b"
        )
        self.built = True

    def zero_state(self, batch_size: int) -> list[list[tf.Tensor]]:
        return self.lstms.zero_states(batch_size)

    def call(
        self, ids: tf.Tensor, state: list[list[tf.Tensor]], training: bool = False
    ) -> tuple[tf.Tensor, list[list[tf.Tensor]]]:
        """Logits [batch, steps, vocabulary] and each layer's [h, c] after the last step."""
        x = self.dropout(tf.gather(self.embedding, ids), training=training)
        x, new_state = self.lstms(x, initial_states=state, training=training)
        return tf.tensordot(x, self.softmax_w, 1) + self.softmax_b, new_state


def _token_losses(model: LanguageModel, inputs, targets, state, training):
    logits, state = model(inputs, state, training=training)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return losses, state


def perplexity_of(model: LanguageModel, num_steps: int) -> Callable[[np.ndarray], float]:
    """A function giving exp(mean cross-entropy) of predicting each token of a stream from the
    ones before, in one row, the state carried across windows of ``num_steps``, under
    ``model`` as it is when called; its step is traced once, on the first call, for all."""
    step = tf.function(lambda x, y, s: _token_losses(model, x, y, s, False))

    def perplexity(stream: np.ndarray) -> float:
        inputs, targets = windows(stream, 1, num_steps)
        state, total, count = model.zero_state(1), 0.0, 0
        for x, y in zip(inputs, targets, strict=True):
            losses, state = step(x, y, state)
            total += float(tf.reduce_sum(losses))
            count += losses.shape[0] * losses.shape[1]
        return math.exp(total / count)

    return perplexity


def train_language_model(
    corpus_dir: str | Path, model_dir: str | Path, config: LanguageModelConfig | None = None
) -> dict[str, Any]:
    """Trains on the train split with ``config`` (the small configuration if None), reports
    train, valid and test perplexity per epoch, and resumes from the latest checkpoint in
    ``model_dir``.

    Returns:
      The record written to ``language_model.json``.
    """
    config = config or LanguageModelConfig()
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    vocabulary = corpus_spec.read_vocabulary(corpus_dir)
    model_dir = claim_dir(
        model_dir, "language_model", inputs={"--corpus_dir": corpus_dir}, what="--model_dir"
    )
    corpus_spec.write_vocabulary(model_dir, vocabulary)
    keras.utils.set_random_seed(config.seed)
    model = LanguageModel(len(vocabulary), config)
    epoch_var = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=model, epoch=epoch_var)
    manager = tf.train.CheckpointManager(
        checkpoint, str(model_dir), max_to_keep=3, checkpoint_name=CHECKPOINT_PREFIX
    )
    model(tf.zeros([1, 1], tf.int32), model.zero_state(1))  # create the LSTM weights
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        log.info("resuming from %s (epoch %d)", manager.latest_checkpoint, int(epoch_var))
    streams = {split: token_stream(corpus_dir, split) for split in descriptor["splits"]}
    inputs, targets = windows(streams["train"], config.batch_size, config.num_steps)
    variables = model.trainable_variables

    @tf.function
    def train_step(x, y, state, lr):
        with tf.GradientTape() as tape:
            losses, state = _token_losses(model, x, y, state, True)
            # The tutorial's cost: summed over the steps, averaged over the batch.
            cost = tf.reduce_sum(losses) / config.batch_size
        grads, _ = tf.clip_by_global_norm(tape.gradient(cost, variables), config.max_grad_norm)
        for variable, grad in zip(variables, grads, strict=True):
            variable.assign_sub(lr * grad)
        return tf.reduce_sum(losses), state

    record = {
        "corpus_dir": str(corpus_dir),
        "corpus": descriptor["name"],
        "config": asdict(config),
        "vocabulary_size": len(vocabulary),
    }
    epoch_log = EpochLog(model_dir, RECORD_FILE, record, int(epoch_var))
    perplexity = perplexity_of(model, config.num_steps)
    for epoch in range(int(epoch_var), config.max_max_epoch):
        lr = config.learning_rate * config.lr_decay ** max(epoch + 1 - config.max_epoch, 0)
        state, total, start = model.zero_state(config.batch_size), 0.0, time.perf_counter()
        for x, y in zip(inputs, targets, strict=True):
            loss_sum, state = train_step(x, y, state, tf.constant(lr, tf.float32))
            total += float(loss_sum)
        seconds = time.perf_counter() - start
        train_perplexity = math.exp(total / inputs.size)
        if not math.isfinite(train_perplexity):
            raise KubeslimError(
                f"training perplexity became {train_perplexity} in epoch {epoch + 1}"
            )
        entry = {
            "epoch": epoch + 1,
            "learning_rate": lr,
            "train_perplexity": train_perplexity,
            "words_per_second": round(inputs.size / seconds, 1),
        }
        if "valid" in streams:
            entry["valid_perplexity"] = perplexity(streams["valid"])
        epoch_log.end_epoch(entry, epoch_var, manager)
    if "test" in streams:
        return epoch_log.save(test_perplexity=perplexity(streams["test"]))
    return epoch_log.save()


def load_language_model(model_dir: str | Path) -> tuple[LanguageModel, list[str]]:
    """The trained model of ``model_dir`` and its vocabulary.

    Raises:
      KubeslimError: there is none.
    """
    record, checkpoint = trained_record(model_dir, RECORD_FILE, "language model")
    vocabulary = corpus_spec.read_vocabulary(model_dir)
    model = LanguageModel(len(vocabulary), LanguageModelConfig(**record["config"]))
    model(tf.zeros([1, 1], tf.int32), model.zero_state(1))
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    return model, vocabulary


def evaluate_language_model(
    model_dir: str | Path, corpus_dir: str | Path, output_dir: str | Path
) -> dict[str, Any]:
    """Perplexity of every split of ``corpus_dir`` under the model of ``model_dir``, written
    to ``output_dir/metrics.json``."""
    output = OutputDir(
        output_dir,
        "language_model_evaluation",
        inputs={"--model_dir": model_dir, "--corpus_dir": corpus_dir},
    )
    model, _ = load_language_model(model_dir)
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    perplexity = perplexity_of(model, model.config.num_steps)
    result = {
        "corpus": descriptor["name"],
        "perplexity": {
            split: perplexity(token_stream(corpus_dir, split)) for split in descriptor["splits"]
        },
    }
    with output.staging() as tmp:
        (tmp / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
    log.info("perplexity: %s", result["perplexity"])
    return result


class ScoringModule(tf.Module):
    """Serving: a sentence's perplexity, and the most likely next words after a context."""

    def __init__(self, model: LanguageModel, vocabulary: list[str]):
        super().__init__()
        self.model = model
        self.words = tf.constant(vocabulary)
        self.table = vocabulary_table(self.words, tf.int32)

    def _ids(self, sentence: tf.Tensor) -> tf.Tensor:
        tokens = tf.strings.split(tf.strings.lower(sentence))
        return self.table.lookup(tokens)[None]

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, "sentence")])
    def score(self, sentence: tf.Tensor) -> dict[str, tf.Tensor]:
        """Perplexity of the words after the first, from a zero state."""
        ids = self._ids(sentence)
        losses, _ = _token_losses(
            self.model, ids[:, :-1], ids[:, 1:], self.model.zero_state(1), False
        )
        return {"perplexity": tf.exp(tf.reduce_mean(losses))}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, "context")])
    def next_words(self, context: tf.Tensor) -> dict[str, tf.Tensor]:
        """The ten most likely next words and their probabilities."""
        logits, _ = self.model(self._ids(context), self.model.zero_state(1))
        best = tf.math.top_k(tf.nn.softmax(logits[0, -1]), k=10)
        return {"words": tf.gather(self.words, best.indices), "probabilities": best.values}


def sentence_perplexity(model: LanguageModel, vocabulary: list[str], sentence: str) -> float:
    """What ``score`` serves, computed by the trainer's own code."""
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = np.array([[index.get(t, len(vocabulary) - 1) for t in sentence.lower().split()]])
    losses, _ = _token_losses(model, ids[:, :-1], ids[:, 1:], model.zero_state(1), False)
    return float(np.exp(np.mean(losses.numpy(), dtype=np.float64)))


def export_language_model(
    model_dir: str | Path, export_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """Writes a SavedModel with ``serving_default`` (sentence -> perplexity) and
    ``next_words`` (context -> ten words and probabilities) to ``export_dir`` (see
    ``fileio.OutputDir``), in version directory ``1`` as TF Serving lays a model out."""
    output = OutputDir(
        export_dir,
        EXPORT_KIND,
        overwrite=overwrite,
        inputs={"--model_dir": model_dir},
        what="--export_dir",
    )
    model, vocabulary = load_language_model(model_dir)
    module = ScoringModule(model, vocabulary)
    with output.staging() as tmp:
        write_servable(
            tmp / SERVABLE_VERSION,
            {"serving_default": module.score, "next_words": module.next_words},
            [model, module],
        )
    return Path(export_dir)
