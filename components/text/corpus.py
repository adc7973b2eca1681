"""A converted text corpus (``kubeslim convert-text``) as tf.data."""

from pathlib import Path

import tensorflow as tf

from kubeslim import corpus_spec


def token_lines(corpus_dir: str | Path, split: str) -> tf.data.Dataset:
    """Each line of ``split`` as an int64 vector of token ids, in file order."""
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    files = corpus_spec.split_files(corpus_dir, descriptor, split)
    spec = {corpus_spec.TOKENS_KEY: tf.io.VarLenFeature(tf.int64)}
    return tf.data.TFRecordDataset(files).map(
        lambda record: tf.sparse.to_dense(
            tf.io.parse_single_example(record, spec)[corpus_spec.TOKENS_KEY]
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )


def token_counts(corpus_dir: str | Path, split: str = "train") -> tf.Tensor:
    """How often each id occurs in ``split``: float64 [vocabulary size]."""
    size = corpus_spec.read_descriptor(corpus_dir)["vocabularies"][corpus_spec.TOKENS_KEY]["size"]
    return token_lines(corpus_dir, split).reduce(
        tf.zeros([size], tf.float64),
        lambda total, ids: (
            total + tf.math.bincount(ids, minlength=size, maxlength=size, dtype=tf.float64)
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
