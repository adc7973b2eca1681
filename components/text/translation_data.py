"""The translation tutorial's data side (its ``data_utils.py``): a converted parallel corpus
read back as id pairs, the tutorial's buckets, and the ids the model adds below the
vocabulary's: the converter's vocabulary ids shifted up by three, below which sit PAD, GO and
EOS."""

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from kubeslim import corpus_spec
from kubeslim.components.text.translation_options import TranslationConfig
from kubeslim.errors import KubeslimError

PAD, GO, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<go>", "<eos>")
SOURCE, TARGET = "source", "target"


def read_parallel_descriptor(corpus_dir: str | Path) -> dict[str, Any]:
    """``corpus.json`` of a converted parallel corpus.

    Raises:
      KubeslimError: ``corpus_dir`` is not one.
    """
    descriptor = corpus_spec.read_descriptor(corpus_dir)
    if descriptor.get("features") != [SOURCE, TARGET]:
        raise KubeslimError(
            f"{corpus_dir} is not a parallel corpus (its features: {descriptor.get('features')}); "
            "convert one such as numbers_enfr, wmt_enfr or your own parallel_files"
        )
    return descriptor


def read_pairs(corpus_dir: str | Path, split: str) -> tf.data.Dataset:
    """(source, target) int32 id vectors of ``split``, shifted past the special ids."""
    descriptor = read_parallel_descriptor(corpus_dir)
    files = corpus_spec.split_files(corpus_dir, descriptor, split)
    spec = {f: tf.io.VarLenFeature(tf.int64) for f in (SOURCE, TARGET)}

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        return tuple(
            tf.cast(tf.sparse.to_dense(example[f]), tf.int32) + len(SPECIALS)
            for f in (SOURCE, TARGET)
        )

    return tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE)


def bucket_index(source_length: tf.Tensor, target_length: tf.Tensor, buckets) -> tf.Tensor:
    """The first bucket holding the source and GO + target; -1 for none."""
    fits = tf.stack([(source_length <= s) & (target_length + 1 <= t) for s, t in buckets])
    first = tf.cast(tf.argmax(tf.cast(fits, tf.int32)), tf.int32)
    return tf.where(tf.reduce_any(fits), first, -1)


def encoder_input(source: tf.Tensor, config: TranslationConfig) -> tf.Tensor:
    return tf.reverse(source, [0]) if config.reverse_source else source


def _bucket_sizes(pairs: tf.data.Dataset, buckets) -> np.ndarray:
    """Pairs per bucket, and (last) those fitting none."""
    counts = pairs.map(lambda s, t: bucket_index(tf.size(s), tf.size(t), buckets)).reduce(
        tf.zeros([len(buckets) + 1], tf.int64),
        lambda total, b: (
            total + tf.one_hot(tf.where(b < 0, len(buckets), b), len(buckets) + 1, dtype=tf.int64)
        ),
    )
    return counts.numpy()


def training_batches(
    corpus_dir: str | Path, config: TranslationConfig, split: str = "train"
) -> tuple[tf.data.Dataset, int, np.ndarray]:
    """One epoch of bucketed batches ``(encoder_input, decoder_input, decoder_target)``, each
    padded to its bucket's sizes, the buckets drawn in proportion to their sizes.

    Returns:
      The batches, the number of steps in an epoch, and the pairs per bucket (the last entry:
      pairs too long for every bucket, which are left out).
    """
    pairs = read_pairs(corpus_dir, split)
    sizes = _bucket_sizes(pairs, config.bucket_sizes)
    if not sizes[:-1].sum():
        raise KubeslimError(
            f"no {split} pair of {corpus_dir} fits the buckets {config.bucket_sizes}"
        )
    per_bucket, weights = [], []
    for b, (source_size, target_size) in enumerate(config.bucket_sizes):
        if not sizes[b]:
            continue
        data = (
            pairs.filter(
                lambda s, t, b=b: bucket_index(tf.size(s), tf.size(t), config.bucket_sizes) == b
            )
            .shuffle(min(int(sizes[b]), 100_000), seed=config.seed + b)
            .map(
                lambda s, t: (
                    encoder_input(s, config),
                    tf.concat([[GO], t], 0),
                    tf.concat([t, [EOS]], 0),
                )
            )
            .padded_batch(
                config.batch_size, padded_shapes=([source_size], [target_size], [target_size])
            )
        )
        per_bucket.append(data)
        weights.append(float(sizes[b]))
    steps = sum(math.ceil(n / config.batch_size) for n in sizes[:-1])
    batches = tf.data.Dataset.sample_from_datasets(
        per_bucket, weights=weights, seed=config.seed, stop_on_empty_dataset=False
    )
    return batches.prefetch(tf.data.AUTOTUNE), steps, sizes


def vocabulary_sizes(directory: str | Path) -> tuple[int, int]:
    return tuple(
        len(corpus_spec.read_vocabulary(directory, f)) + len(SPECIALS) for f in (SOURCE, TARGET)
    )


def copy_corpus_assets(corpus_dir: Path, model_dir: Path) -> None:
    """The vocabularies and the transform, so that the model directory stands alone."""
    for feature in (SOURCE, TARGET):
        words = corpus_spec.read_vocabulary(corpus_dir, feature)
        corpus_spec.write_vocabulary(model_dir, words, feature)
    shutil.rmtree(model_dir / corpus_spec.TRANSFORM_DIR, ignore_errors=True)
    shutil.copytree(corpus_dir / corpus_spec.TRANSFORM_DIR, model_dir / corpus_spec.TRANSFORM_DIR)
