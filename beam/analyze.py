"""The tensorflow-transform analysis of a converted data set's training split.

One ``tft_beam.AnalyzeDataset`` pass computes what training and serving share:

- the label vocabulary (class names, most frequent first, with their counts, so class
  imbalance is visible), as TFT vocabulary file ``labels``;
- per-channel pixel mean and standard deviation over every pixel of every training image;
- image size statistics (smallest, largest and mean height and width).

The output directory is TFT's transform output (``transform_fn/`` SavedModel and
``transformed_metadata/``), which ``tft.TFTransformOutput`` loads, plus ``statistics.json``
for people. The transform maps a batch of serialized-example features to ``label`` and the
statistics (``pixel_mean``, ``pixel_std``: float32 [batch, channels]). Runs on any Beam runner,
like the converters; FnApiRunner by default.
"""

import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubeslim import dataset_spec, output_dirs
from kubeslim.beam.options import AnalyzeOptions
from kubeslim.beam.runner import make_pipeline_options, worker_errors_as_user_errors

STATISTICS_FILE = "statistics.json"
LABELS_VOCABULARY = "labels"

log = logging.getLogger(__name__)


def make_preprocessing_fn(class_names: Sequence[str], channels: int) -> Callable:
    """The TFT preprocessing_fn over raw features ``image/encoded`` and ``image/class/label``."""
    import tensorflow as tf
    import tensorflow_transform as tft

    keys = dataset_spec.FEATURE_KEYS

    def per_image(encoded: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)
        pixels = tf.reshape(tf.cast(image, tf.float64), [-1, channels])
        shape = tf.cast(tf.shape(image)[:2], tf.float64)
        return tf.concat([tf.reduce_sum(pixels, 0), tf.reduce_sum(pixels**2, 0), shape], axis=0)

    def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        encoded = inputs[keys["image"]]
        label = inputs[keys["label"]]
        stats = tf.map_fn(per_image, encoded, fn_output_signature=tf.float64)  # [batch, 2c+2]
        sums, squares = stats[:, :channels], stats[:, channels : 2 * channels]
        heights, widths = stats[:, 2 * channels], stats[:, 2 * channels + 1]
        count = tft.sum(heights * widths)
        mean = tft.sum(sums, reduce_instance_dims=False) / count
        variance = tft.sum(squares, reduce_instance_dims=False) / count - mean**2
        std = tf.sqrt(tf.maximum(variance, 0.0))
        names = tf.gather(tf.constant(list(class_names)), label)
        tft.vocabulary(names, vocab_filename=LABELS_VOCABULARY, store_frequency=True)
        batch = tf.shape(encoded)[0]  # not the label's: serving feeds image bytes alone

        def per_example(value: tf.Tensor) -> tf.Tensor:
            return tf.tile(tf.reshape(tf.cast(value, tf.float32), [1, -1]), [batch, 1])

        return {
            "label": label,
            "pixel_mean": per_example(mean),
            "pixel_std": per_example(std),
            "height_min": per_example(tft.min(heights)),
            "height_max": per_example(tft.max(heights)),
            "height_mean": per_example(tft.mean(heights)),
            "width_min": per_example(tft.min(widths)),
            "width_max": per_example(tft.max(widths)),
            "width_mean": per_example(tft.mean(widths)),
        }

    return preprocessing_fn


def analyze_dataset(
    dataset_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    options: AnalyzeOptions | None = None,
    *,
    beam_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Runs the analysis over ``options.split`` of ``dataset_dir`` and writes the transform
    output to ``output_dir`` (as ``output_dirs.output_dir`` says). Either may be on an object
    store; the transform is written locally, through TensorFlow, then uploaded.

    Returns:
      The statistics written to ``statistics.json``.
    """
    import apache_beam as beam
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import schema_utils
    from tfx_bsl.public import tfxio

    options = options or AnalyzeOptions()
    split = options.split
    pipeline_options = make_pipeline_options(beam_args)  # also the file systems' options
    output = output_dirs.output_dir(
        output_dir,
        "transform",
        overwrite=options.overwrite,
        inputs={"--dataset_dir": dataset_dir},
    )
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    files = dataset_spec.split_files(dataset_dir, descriptor, split)
    keys = dataset_spec.FEATURE_KEYS
    schema = schema_utils.schema_from_feature_spec(
        {
            keys["image"]: tf.io.FixedLenFeature([], tf.string),
            keys["label"]: tf.io.FixedLenFeature([], tf.int64),
        }
    )
    channels = descriptor["image_shape"][-1]
    preprocessing_fn = make_preprocessing_fn(descriptor["class_names"], channels)
    log.info("analyzing %s/%s: %d shards", descriptor["name"], split, len(files))
    with output.local_staging() as tmp, worker_errors_as_user_errors():
        with beam.Pipeline(options=pipeline_options) as pipeline:
            with tft_beam.Context(temp_dir=str(tmp / "tft_tmp")):
                source = tfxio.TFExampleRecord(file_pattern=files, schema=schema)
                raw = pipeline | "ReadExamples" >> source.BeamSource()
                transform_fn = (
                    raw,
                    source.TensorAdapterConfig(),
                ) | "Analyze" >> tft_beam.AnalyzeDataset(preprocessing_fn)
                _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(str(tmp))
        shutil.rmtree(tmp / "tft_tmp", ignore_errors=True)
        statistics = _read_statistics(tmp, descriptor, split)
        (tmp / STATISTICS_FILE).write_text(json.dumps(statistics, indent=2) + "\n")
    log.info(
        "%s/%s: pixel mean %s, std %s; %d labels",
        descriptor["name"],
        split,
        [round(v, 2) for v in statistics["pixel_mean"]],
        [round(v, 2) for v in statistics["pixel_std"]],
        len(statistics["label_counts"]),
    )
    return statistics


def _read_statistics(transform_dir: Path, descriptor: dict[str, Any], split: str) -> dict:
    """Applies the written transform to one example and reads the vocabulary file."""
    import tensorflow as tf
    import tensorflow_transform as tft

    output = tft.TFTransformOutput(str(transform_dir))
    keys = dataset_spec.FEATURE_KEYS
    one = output.transform_raw_features(
        {
            keys["image"]: tf.constant([b""]),
            keys["label"]: tf.constant([0], tf.int64),
        },
        drop_unused_features=True,
    )
    values = {name: tensor.numpy()[0].tolist() for name, tensor in one.items() if name != "label"}
    counts = {}
    with open(output.vocabulary_file_by_name(LABELS_VOCABULARY)) as f:
        for line in f:
            count, _, name = line.rstrip("\n").partition(" ")
            counts[name] = int(count)
    return {
        "dataset": descriptor["name"],
        "split": split,
        "num_examples": sum(counts.values()),
        "pixel_mean": values["pixel_mean"],
        "pixel_std": values["pixel_std"],
        "image_height": {k: values[f"height_{k}"][0] for k in ("min", "max", "mean")},
        "image_width": {k: values[f"width_{k}"][0] for k in ("min", "max", "mean")},
        "label_counts": counts,
    }
