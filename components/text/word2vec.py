"""word2vec as the tensorflow/models tutorials trained it: skip-gram with negative sampling
(``word2vec_optimized``) or with NCE (``word2vec_basic``), on a converted corpus.

The tutorial's C++ ops become a vectorized tf.data pipeline: each line is subsampled
(frequent words dropped with word2vec's formula, threshold ``subsample``), and its skip-gram
pairs are the words within a random window of at most ``window_size`` on either side, cut
with array slices rather than a loop over words. As in word2vec, every pair moves the
weights by the learning rate (the loss is summed over a batch, not averaged), and the rate
falls linearly with the share of the corpus seen, to 1e-4 of its start. A checkpoint is
written every epoch and a restarted run resumes from the last one.
"""

import json
import logging
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from kubeslim import corpus_spec
from kubeslim.components.serving import write_servable
from kubeslim.components.text.corpus import token_blocks, token_counts, vocabulary_table
from kubeslim.components.text.embedding_scores import (
    analogy_accuracy_ids,
    nearest_neighbours,
    normalized,
)
from kubeslim.components.text.epoch_log import EpochLog, trained_record
from kubeslim.components.text.word2vec_options import (
    NEGATIVES_SHARED_BY,
    Word2VecEvalOptions,
    Word2VecOptions,
)
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir, claim_dir
from kubeslim.model_spec import METRICS_FILE, SERVABLE_VERSION

CONFIG_FILE = "word2vec.json"
CHECKPOINT_PREFIX = "word2vec.ckpt"
_BLOCK_LINES = 64  # lines made into pairs at once

EXPORT_KIND = "word2vec_export"  # its kind in the kubeslim marker (``fileio``)
log = logging.getLogger(__name__)


def skipgram_pairs(
    ids: tf.RaggedTensor, keep: tf.Tensor, window_size: int, seed: tf.Tensor
) -> tf.Tensor:
    """The (center, context) pairs of a block of lines [lines, words]: int64 [pairs, 2].
    Windows stay within their line.

    ``keep`` is each id's probability of surviving subsampling; every surviving word gets a
    window drawn uniformly from 1 to ``window_size``, as word2vec does. ``seed`` (int64 [2])
    makes the draw reproducible; each block of each epoch gets its own. The whole block is
    done in a few vectorized operations per window distance.
    """
    flat, rows = ids.flat_values, ids.value_rowids()
    survives = tf.random.stateless_uniform(tf.shape(flat), seed) < tf.gather(keep, flat)
    flat, rows = tf.boolean_mask(flat, survives), tf.boolean_mask(rows, survives)
    reach = tf.random.stateless_uniform(tf.shape(flat), seed + [0, 1], 1, window_size + 1, tf.int32)
    pairs = []
    for distance in range(1, window_size + 1):
        left, right = flat[:-distance], flat[distance:]
        same_line = rows[:-distance] == rows[distance:]
        # center on the left looking right, then center on the right looking left
        pairs.append(
            tf.boolean_mask(tf.stack([left, right], 1), same_line & (reach[:-distance] >= distance))
        )
        pairs.append(
            tf.boolean_mask(tf.stack([right, left], 1), same_line & (reach[distance:] >= distance))
        )
    return tf.concat(pairs, 0)


def keep_probabilities(counts: tf.Tensor, subsample: float) -> tf.Tensor:
    """word2vec's subsampling: keep a word of frequency f with (sqrt(f/t) + 1) * t/f."""
    frequency = counts / tf.reduce_sum(counts)
    threshold = subsample
    keep = (tf.sqrt(frequency / threshold) + 1) * threshold / tf.maximum(frequency, 1e-12)
    return tf.cast(tf.minimum(keep, 1.0), tf.float32)


def make_pairs(
    corpus_dir: str | Path, options: Word2VecOptions, keep: tf.Tensor, epoch: tf.Variable
) -> tf.data.Dataset:
    """Batches of (centers, contexts, progress) for one epoch each time the dataset is
    iterated; progress is the share of all epochs' lines read, for the learning-rate decay.
    ``epoch`` (read at run time) seeds the pair sampling. Lines are shuffled, blocks of them
    parsed and made into pairs in a few vectorized steps, and ``rebatch`` cuts the stream of
    pairs into batches without touching pairs one by one."""
    num_lines = corpus_spec.read_descriptor(corpus_dir)["splits"]["train"]["num_lines"]
    total = float(options.epochs * num_lines)

    def block_pairs(block: tf.Tensor, ids: tf.RaggedTensor) -> tuple[tf.Tensor, ...]:
        seed = tf.stack([options.seed * 1_000_003 + epoch, block])
        pairs = skipgram_pairs(ids, keep, options.window_size, seed)
        lines_done = tf.cast(epoch * num_lines + block * _BLOCK_LINES, tf.float32)
        return pairs[:, 0], pairs[:, 1], tf.fill([tf.shape(pairs)[0]], lines_done / total)

    return (
        token_blocks(corpus_dir, "train", _BLOCK_LINES, shuffle_seed=options.seed)
        .enumerate()
        .map(block_pairs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .rebatch(options.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


class Word2Vec(tf.Module):
    """The embeddings (``embeddings``, the centers') and the output weights of the loss."""

    def __init__(self, vocabulary_size: int, options: Word2VecOptions):
        super().__init__()
        d = options.embedding_size
        init = tf.random.uniform([vocabulary_size, d], -0.5 / d, 0.5 / d, seed=options.seed)
        self.embeddings = tf.Variable(init, name="embeddings")
        self.weights = tf.Variable(tf.zeros([vocabulary_size, d]), name="weights")
        self.biases = tf.Variable(tf.zeros([vocabulary_size]), name="biases")
        self.epoch = tf.Variable(0, dtype=tf.int64, name="epoch")


def sampled_logits(
    model: Word2Vec, centers: tf.Tensor, contexts: tf.Tensor, negatives: tf.Tensor
) -> tuple[tf.Tensor, ...]:
    """The rows a batch reads (inputs [b, d], outputs [b, d], negative weights [g, k, d], the
    inputs grouped [g, p, d]) and its logits (positive [b], negative [g, p, k]). Each group
    of p = ``NEGATIVES_SHARED_BY`` consecutive pairs shares its row of ``negatives`` [g, k]:
    a batched product over a gather of b / p x k rows instead of b x k."""
    inputs = tf.gather(model.embeddings, centers)
    outputs = tf.gather(model.weights, contexts)
    negative_weights = tf.gather(model.weights, negatives)
    grouped = tf.reshape(inputs, [tf.shape(negatives)[0], NEGATIVES_SHARED_BY, -1])
    positive = tf.reduce_sum(inputs * outputs, 1)
    negative = tf.matmul(grouped, negative_weights, transpose_b=True)
    return inputs, outputs, negative_weights, grouped, positive, negative


def negative_sampling_loss(positive: tf.Tensor, negative: tf.Tensor) -> tf.Tensor:
    """The skip-gram negative-sampling loss of a batch's logits, summed over its pairs."""
    return -tf.reduce_sum(tf.math.log_sigmoid(positive)) - tf.reduce_sum(
        tf.math.log_sigmoid(-negative)
    )


def negative_sampling_step(
    model: Word2Vec, centers: tf.Tensor, contexts: tf.Tensor, negatives: tf.Tensor, lr: tf.Tensor
) -> tf.Tensor:
    """One SGD step on ``negative_sampling_loss`` with its gradient written out, as
    word2vec's C code does: the gathered rows and the logits are reused, and only the rows
    the batch touched are updated (a tape took 1.15x as long at 1,024 pairs). The loss."""
    inputs, outputs, negative_weights, grouped, positive, negative = sampled_logits(
        model, centers, contexts, negatives
    )
    # The loss's derivatives by the logits, times the learning rate.
    positive_step = lr * (tf.sigmoid(positive) - 1.0)[:, None]  # [b, 1]
    negative_step = lr * tf.sigmoid(negative)  # [g, p, k]
    input_step = positive_step * outputs + tf.reshape(
        tf.matmul(negative_step, negative_weights), tf.shape(inputs)
    )
    negative_weights_step = tf.matmul(negative_step, grouped, transpose_a=True)  # [g, k, d]
    weights_step = tf.concat(
        [positive_step * inputs, tf.reshape(negative_weights_step, [-1, tf.shape(inputs)[1]])], 0
    )
    model.embeddings.scatter_sub(tf.IndexedSlices(input_step, centers))
    model.weights.scatter_sub(
        tf.IndexedSlices(weights_step, tf.concat([contexts, tf.reshape(negatives, [-1])], 0))
    )
    return negative_sampling_loss(positive, negative)


def _nce_step(
    model: Word2Vec,
    options: Word2VecOptions,
    centers: tf.Tensor,
    contexts: tf.Tensor,
    lr: tf.Tensor,
) -> tf.Tensor:
    """One SGD step on TensorFlow's NCE loss (``word2vec_basic``'s), by its tape: the loss."""
    variables = [model.embeddings, model.weights, model.biases]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(
            tf.nn.nce_loss(
                model.weights,
                model.biases,
                tf.reshape(contexts, [-1, 1]),
                tf.gather(model.embeddings, centers),
                num_sampled=options.num_negatives,
                num_classes=model.weights.shape[0],
            )
        )
    for variable, gradient in zip(variables, tape.gradient(loss, variables), strict=True):
        if isinstance(gradient, tf.IndexedSlices):  # only the rows the batch touched
            variable.scatter_sub(tf.IndexedSlices(lr * gradient.values, gradient.indices))
        elif gradient is not None:
            variable.assign_sub(lr * gradient)
    return loss


def _train_step(model: Word2Vec, options: Word2VecOptions, unigram_logits: tf.Tensor):
    """One step on a batch of (centers, contexts, progress): its mean loss a pair. As in
    word2vec, every pair moves the weights by the learning rate (the loss is summed)."""

    def step(centers: tf.Tensor, contexts: tf.Tensor, progress: tf.Tensor) -> tf.Tensor:
        lr = options.learning_rate * tf.maximum(1e-4, 1.0 - tf.reduce_mean(progress))
        if options.loss == "nce":
            loss = _nce_step(model, options, centers, contexts, lr)
        else:
            groups = tf.size(centers) // NEGATIVES_SHARED_BY
            negatives = tf.random.categorical(unigram_logits[None], groups * options.num_negatives)
            negatives = tf.reshape(negatives, [groups, options.num_negatives])
            loss = negative_sampling_step(model, centers, contexts, negatives, lr)
        return loss / tf.cast(tf.size(centers), tf.float32)

    return step


def _train_epoch(step, pairs_of_an_epoch: tf.data.Dataset):
    """A whole epoch in one graph call (a Python call a step cost as much as the step at
    1,024 pairs): the sum of its steps' losses, its steps and its pairs."""

    @tf.function
    def epoch() -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        total, steps, pairs = tf.constant(0.0), tf.constant(0), tf.constant(0)
        for centers, contexts, progress in pairs_of_an_epoch:
            total += step(centers, contexts, progress)
            steps += 1
            pairs += tf.size(centers)
        return total, steps, pairs

    return epoch


def train_word2vec(
    corpus_dir: str | Path, model_dir: str | Path, options: Word2VecOptions | None = None
) -> dict[str, Any]:
    """Trains embeddings on the train split of ``corpus_dir`` (``Word2VecOptions``; its
    defaults if None), resuming from the latest checkpoint in ``model_dir``.

    Returns:
      The record written to ``word2vec.json``: options, vocabulary, speed and loss per epoch.
    """
    options = options or Word2VecOptions()
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    vocabulary = corpus_spec.read_vocabulary(corpus_dir)
    model_dir = claim_dir(
        model_dir, "word2vec_model", inputs={"--corpus_dir": corpus_dir}, what="--model_dir"
    )
    corpus_spec.write_vocabulary(model_dir, vocabulary)
    tf.random.set_seed(options.seed)
    counts = token_counts(corpus_dir)
    keep = keep_probabilities(counts, options.subsample)
    unigram_logits = tf.cast(0.75 * tf.math.log(tf.maximum(counts, 1e-3)), tf.float32)
    model = Word2Vec(len(vocabulary), options)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model), str(model_dir), 3, checkpoint_name=CHECKPOINT_PREFIX
    )
    if manager.latest_checkpoint:
        tf.train.Checkpoint(model=model).restore(manager.latest_checkpoint)
        log.info("resuming from %s (epoch %d)", manager.latest_checkpoint, int(model.epoch))
    record = {
        "corpus_dir": str(corpus_dir),
        "corpus": descriptor["name"],
        "vocabulary_size": len(vocabulary),
        "options": asdict(options),
    }
    epoch_log = EpochLog(model_dir, CONFIG_FILE, record, int(model.epoch))
    step = _train_step(model, options, unigram_logits)
    train_epoch = _train_epoch(step, make_pairs(corpus_dir, options, keep, model.epoch))
    words = descriptor["splits"]["train"]["num_tokens"][corpus_spec.TOKENS_KEY]
    for epoch in range(int(model.epoch), options.epochs):
        start = time.perf_counter()
        total, steps, pairs = (t.numpy() for t in train_epoch())
        seconds = time.perf_counter() - start
        loss = float(total / steps) if steps else float("nan")
        if not math.isfinite(loss):
            raise KubeslimError(f"word2vec loss became {loss} in epoch {epoch + 1}")
        entry = {
            "epoch": epoch + 1,
            "loss": loss,
            "pairs": int(pairs),
            "words_per_second": round(words / seconds, 1),
        }
        epoch_log.end_epoch(entry, model.epoch, manager)
    return epoch_log.save(checkpoint=manager.latest_checkpoint)


def load_embeddings(model_dir: str | Path) -> tuple[np.ndarray, list[str]]:
    """The trained embeddings [vocabulary, dimensions] and the words by id.

    Raises:
      KubeslimError: ``model_dir`` holds no trained word2vec model.
    """
    record, checkpoint = trained_record(model_dir, CONFIG_FILE, "word2vec model")
    vocabulary = corpus_spec.read_vocabulary(model_dir)
    model = Word2Vec(len(vocabulary), Word2VecOptions(**record["options"]))
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    return model.embeddings.numpy(), vocabulary


def evaluate_embeddings(
    model_dir: str | Path,
    corpus_dir: str | Path,
    output_dir: str | Path,
    options: Word2VecEvalOptions | None = None,
) -> dict[str, Any]:
    """Analogy accuracy on the corpus's analogy set (``analogies.txt``, which the text8
    converter writes), if it has one, and the neighbours of the comma-separated words
    ``options.neighbours_of``; written to ``output_dir/metrics.json``."""
    options = options or Word2VecEvalOptions()
    output = OutputDir(
        output_dir,
        "word2vec_evaluation",
        inputs={"--model_dir": model_dir, "--corpus_dir": corpus_dir},
    )
    embeddings, vocabulary = load_embeddings(model_dir)
    words = [w.strip() for w in options.neighbours_of.split(",") if w.strip()]
    result: dict[str, Any] = {
        "vocabulary_size": len(vocabulary),
        "neighbours": nearest_neighbours(embeddings, vocabulary, words),
    }
    analogies = Path(corpus_dir) / corpus_spec.ANALOGIES_FILE
    if analogies.is_file():
        result["analogies"] = analogy_accuracy_ids(embeddings, analogies)
        result["analogies"]["skipped"] = corpus_spec.read_descriptor(corpus_dir)["analogies"][
            "skipped"
        ]
    with output.staging() as tmp:
        (tmp / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
    for word, near in result["neighbours"].items():
        log.info("%s: %s", word, ", ".join(w for w, _ in near))
    return result


class EmbeddingModule(tf.Module):
    """Serving: words -> vectors, and words -> nearest neighbours."""

    def __init__(self, embeddings: np.ndarray, vocabulary: list[str], k: int = 8):
        super().__init__()
        self.unit = tf.Variable(normalized(embeddings), trainable=False, name="embeddings")
        self.words = tf.constant(vocabulary)
        self.table = vocabulary_table(self.words)
        self.k = k

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "words")])
    def embed(self, words: tf.Tensor) -> dict[str, tf.Tensor]:
        ids = self.table.lookup(words)
        return {"ids": ids, "embeddings": tf.gather(self.unit, ids)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "words")])
    def nearest(self, words: tf.Tensor) -> dict[str, tf.Tensor]:
        ids = self.table.lookup(words)
        similarity = tf.matmul(tf.gather(self.unit, ids), self.unit, transpose_b=True)
        similarity -= 10.0 * tf.one_hot(ids, tf.shape(self.unit)[0])  # not the word itself
        best = tf.math.top_k(similarity, k=self.k)
        return {"neighbours": tf.gather(self.words, best.indices), "similarities": best.values}


def export_embeddings(
    model_dir: str | Path, export_dir: str | Path, k: int = 8, *, overwrite: bool = False
) -> Path:
    """Writes a SavedModel (``serving_default``: words -> ``embeddings``; ``nearest``: words ->
    ``neighbours`` and ``similarities``) and, for the TensorBoard projector, ``vectors.tsv``
    and ``metadata.tsv``, to ``export_dir`` (see ``fileio.OutputDir``), in version directory
    ``1`` as TF Serving lays a model out."""
    output = OutputDir(
        export_dir,
        EXPORT_KIND,
        overwrite=overwrite,
        inputs={"--model_dir": model_dir},
        what="--export_dir",
    )
    embeddings, vocabulary = load_embeddings(model_dir)
    module = EmbeddingModule(embeddings, vocabulary, k)
    with output.staging() as tmp:
        version = tmp / SERVABLE_VERSION
        write_servable(
            version, {"serving_default": module.embed, "nearest": module.nearest}, [module]
        )
        np.savetxt(version / "vectors.tsv", embeddings, delimiter="\t", fmt="%.6f")
        (version / "metadata.tsv").write_text(
            "".join(w + "\n" for w in vocabulary), encoding="utf-8"
        )
    log.info("exported %d embeddings to %s", len(vocabulary), export_dir)
    return Path(export_dir)
