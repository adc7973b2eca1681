"""A converted text corpus (``kubeslim convert-text``) as tf.data."""

from pathlib import Path

import tensorflow as tf

from kubeslim import corpus_spec

_PARSE_BLOCK = 256  # records parsed at once


def token_blocks(
    corpus_dir: str | Path, split: str, block_size: int = _PARSE_BLOCK, shuffle_seed=None
) -> tf.data.Dataset:
    """Blocks of ``block_size`` lines of ``split`` as int64 RaggedTensors [lines, tokens],
    parsed a block at a time; in file order, or shuffled line by line with ``shuffle_seed``
    (a new order each time the dataset is iterated)."""
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    records = tf.data.TFRecordDataset(corpus_spec.split_files(corpus_dir, descriptor, split))
    if shuffle_seed is not None:
        num_lines = max(1, descriptor["splits"][split]["num_lines"])
        records = records.shuffle(num_lines, seed=shuffle_seed, reshuffle_each_iteration=True)
    spec = {corpus_spec.TOKENS_KEY: tf.io.RaggedFeature(tf.int64)}
    return records.batch(block_size).map(
        lambda batch: tf.io.parse_example(batch, spec)[corpus_spec.TOKENS_KEY],
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )


def token_lines(corpus_dir: str | Path, split: str) -> tf.data.Dataset:
    """Each line of ``split`` as an int64 vector of token ids, in file order."""
    return token_blocks(corpus_dir, split).unbatch()


def token_counts(corpus_dir: str | Path, split: str = "train") -> tf.Tensor:
    """How often each id occurs in ``split``: float64 [vocabulary size]."""
    size = corpus_spec.read_descriptor(corpus_dir)["vocabularies"][corpus_spec.TOKENS_KEY]["size"]
    return token_blocks(corpus_dir, split).reduce(
        tf.zeros([size], tf.float64),
        lambda total, ids: (
            total
            + tf.math.bincount(ids.flat_values, minlength=size, maxlength=size, dtype=tf.float64)
        ),
    )


def vocabulary_table(words: tf.Tensor, dtype: tf.DType = tf.int64) -> tf.lookup.StaticHashTable:
    """Word -> id for serving: a word's line in ``vocabulary.txt``, and the last id (the
    out-of-vocabulary one) for any other word, as the converter maps them."""
    size = int(words.shape[0])
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(words, tf.range(size, dtype=dtype)),
        default_value=size - 1,
    )
