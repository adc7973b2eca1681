"""``tf.data`` input from converted TFRecords: parse, decode, preprocess, batch, prefetch."""

from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from kubeslim import dataset_spec, storage

_SHUFFLE_BUFFER = 10_000


def parse_example(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Parses one serialized ``tf.train.Example`` into (encoded image bytes, int64 label)."""
    keys = dataset_spec.FEATURE_KEYS
    features = tf.io.parse_single_example(
        serialized,
        {
            keys["image"]: tf.io.FixedLenFeature([], tf.string),
            keys["label"]: tf.io.FixedLenFeature([], tf.int64),
        },
    )
    return features[keys["image"]], features[keys["label"]]


def decode_image(encoded: tf.Tensor, channels: int) -> tf.Tensor:
    """Decodes PNG or JPEG bytes to uint8 [height, width, channels]."""
    return tf.io.decode_image(encoded, channels=channels, expand_animations=False)


def make_dataset(
    dataset_dir: str | Path,
    split: str,
    preprocess_encoded: Callable[[tf.Tensor], tf.Tensor],
    *,
    batch_size: int,
    is_training: bool,
    seed: int | None = None,
    labels_offset: int = 0,
) -> tf.data.Dataset:
    """Batches of (preprocessed images, labels) from one split of a converted data set.

    Parallel reads and maps keep their order, so the same seed gives the same batches.

    Args:
      dataset_dir: a directory written by ``kubeslim convert``.
      split: the split to read, e.g. ``"train"``.
      preprocess_encoded: maps one encoded image (PNG or JPEG bytes) to the network's
        float input.
      batch_size: examples per batch; the last batch may be smaller.
      is_training: shuffle shards and examples, and repeat forever (reshuffled every pass).
      seed: shuffle seed.
      labels_offset: subtracted from every label; examples with a smaller label (a
        background class) are dropped.

    Returns:
      A dataset of (float32 [batch, h, w, c], int64 [batch]); endless when ``is_training``.
    """
    storage.check_tensorflow_can_read(str(dataset_dir), "--dataset_dir")
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    files = dataset_spec.split_files(dataset_dir, descriptor, split)
    autotune = tf.data.AUTOTUNE
    ds = tf.data.Dataset.from_tensor_slices(files)
    if is_training:
        ds = ds.shuffle(len(files), seed=seed)
    ds = ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 8),
        num_parallel_calls=autotune,
        deterministic=True,
    )
    if is_training:
        ds = ds.shuffle(_SHUFFLE_BUFFER, seed=seed).repeat()
    ds = ds.map(parse_example, num_parallel_calls=autotune, deterministic=True)
    if labels_offset:
        ds = ds.filter(lambda _, label: label >= labels_offset)
        ds = ds.map(lambda encoded, label: (encoded, label - labels_offset))
    ds = ds.map(
        lambda encoded, label: (preprocess_encoded(encoded), label),
        num_parallel_calls=autotune,
        deterministic=True,
    )
    return ds.batch(batch_size).prefetch(autotune)
