"""Exports a trained model as a SavedModel for serving (TF-Slim's
``export_inference_graph.py``).

Signatures:

- ``serving_default``: ``image_bytes`` (string [batch], PNG or JPEG) -> ``logits`` and
  ``probabilities`` (float32 [batch, num_classes]), ``class_id`` (int64 [batch]),
  ``class_name`` (string [batch]) and the five best classes, ``top_k_probabilities``,
  ``top_k_class_ids`` and ``top_k_class_names`` ([batch, min(5, num_classes)]).
  Decoding, the transform and the evaluation preprocessing run inside the graph, the same
  code the trainer's input pipeline runs.
- ``classify_images``: ``images`` (float32 [batch, size, size, channels], already
  preprocessed) -> ``probabilities`` and ``logits``; this is the graph ``freeze`` folds.

As TF-Slim's ``export_inference_graph``, ``--batch_size`` fixes the batch dimension, and
``--is_training`` exports the training graph (batch statistics, dropout with a new mask each
call) without its updates: serving never changes the model's moving averages.

The export directory also holds ``model_config.json``, ``labels.txt`` and, for a model trained
with a transform, a copy of it in ``transform/`` (the SavedModel embeds it as well).
"""

import logging
from pathlib import Path

import keras
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.components.model_dir import (
    ModelConfig,
    copy_transform,
    load_checkpoint,
    load_transform,
)
from kubeslim.components.options import ExportOptions
from kubeslim.components.serving import write_servable
from kubeslim.fileio import OutputDir
from kubeslim.model_spec import SERVABLE_VERSION, TRANSFORM_DIR

SERVING_SIGNATURE = "serving_default"
TOP_K = 5
IMAGES_SIGNATURE = "classify_images"

log = logging.getLogger(__name__)


class ServingModule(tf.Module):
    """A trained network with its decoding, preprocessing and class names."""

    def __init__(
        self,
        model: keras.Model,
        config: ModelConfig,
        transform: keras.layers.Layer | None,
        options: ExportOptions,
    ):
        super().__init__()
        self.model = model
        self.transform = transform  # tracked: the TFT graph and its assets are saved with it
        self._config = config
        self._is_training = options.is_training
        self._class_names = tf.constant(list(config.class_names))
        size, channels, batch = config.image_size, config.channels, options.batch_size or None
        self.classify_images = tf.function(
            self._classify_images,
            input_signature=[tf.TensorSpec([batch, size, size, channels], tf.float32, "images")],
        )
        self.classify_image_bytes = tf.function(
            self._classify_image_bytes,
            input_signature=[tf.TensorSpec([batch], tf.string, "image_bytes")],
        )

    def _classify_images(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        if self._is_training:
            logits = self._training_logits(images)
        else:
            logits = self.model(images, training=False)
        return {"probabilities": tf.nn.softmax(logits), "logits": logits}

    def _training_logits(self, images: tf.Tensor) -> tf.Tensor:
        """The training graph's logits, its variable updates discarded (a stateless scope)
        and its dropout seeded anew on each call."""
        seeds = [
            (v, tf.random.uniform(v.shape, maxval=2**31 - 1, dtype=v.dtype))
            for v in self.model.non_trainable_variables
            if v.path.endswith("seed_generator_state")
        ]
        with keras.StatelessScope(state_mapping=seeds):
            return self.model(images, training=True)

    def _classify_image_bytes(self, image_bytes: tf.Tensor) -> dict[str, tf.Tensor]:
        config = self._config
        images = tf.map_fn(
            lambda encoded: config.preprocess_encoded(encoded, False, self.transform),
            image_bytes,
            fn_output_signature=tf.TensorSpec(
                [config.image_size, config.image_size, config.channels], tf.float32
            ),
        )
        outputs = self._classify_images(images)
        probabilities = outputs["probabilities"]
        class_id = tf.argmax(probabilities, axis=1)
        top_k = tf.math.top_k(probabilities, k=min(TOP_K, self._config.num_classes))
        return {
            "logits": outputs["logits"],
            "probabilities": probabilities,
            "class_id": class_id,
            "class_name": tf.gather(self._class_names, class_id),
            "top_k_probabilities": top_k.values,
            "top_k_class_ids": tf.cast(top_k.indices, tf.int64),
            "top_k_class_names": tf.gather(self._class_names, top_k.indices),
        }


def _labels_descriptor(dataset_dir: str | Path | None, options: ExportOptions) -> dict:
    """What a checkpoint without a model directory is exported for: a converted data set's
    descriptor, or ImageNet's 1,001 classes (TF-Slim's ``--dataset_name imagenet`` default)."""
    if dataset_dir is not None:
        return dataset_spec.read_descriptor(dataset_dir)
    from kubeslim.beam.datasets.imagenet import imagenet_class_names
    from kubeslim.beam.download import cache_dir

    names = imagenet_class_names(cache_dir(None, "imagenet"), options.label_source or None)
    return {
        "name": "imagenet",
        "num_classes": len(names),
        "class_names": names,
        "image_shape": [None, None, 3],
    }


def export_saved_model(
    model_dir: str | Path | None,
    export_dir: str | Path,
    options: ExportOptions | None = None,
    *,
    dataset_dir: str | Path | None = None,
) -> Path:
    """Writes the SavedModel of a checkpoint in ``model_dir`` (``options.checkpoint_path``,
    else the latest) to ``export_dir`` (see ``fileio.OutputDir``), as TF Serving lays out a
    model: in version directory ``1``, with the model's config, labels and transform beside
    it. TF Serving's session-based loader runs it (``serving.write_servable``).

    Without ``model_dir`` it is TF-Slim's ``export_inference_graph``: any checkpoint of
    ``options.model_name``, restored fully, labelled by ``dataset_dir``'s classes or, without
    one, ImageNet's.

    Returns:
      The export directory.
    """
    options = options or ExportOptions()
    output = OutputDir(
        export_dir,
        "saved_model",
        overwrite=options.overwrite,
        inputs={"--model_dir": model_dir, "--dataset_dir": dataset_dir},
        what="--export_dir",
    )
    model, config, checkpoint_path = load_checkpoint(
        model_dir, options, options.image_size, lambda: _labels_descriptor(dataset_dir, options)
    )
    transform = load_transform(model_dir, config)
    module = ServingModule(model, config, transform, options)
    with output.staging() as tmp:
        version = tmp / SERVABLE_VERSION
        write_servable(
            version,
            {
                SERVING_SIGNATURE: module.classify_image_bytes,
                IMAGES_SIGNATURE: module.classify_images,
            },
            [model, *([module.transform] if module.transform is not None else [])],
        )
        config.save(version)
        dataset_spec.write_labels(version / dataset_spec.LABELS_FILE, list(config.class_names))
        if config.uses_transform:
            copy_transform(Path(model_dir) / TRANSFORM_DIR, version)
    log.info("exported %s to %s", checkpoint_path, export_dir)
    return Path(export_dir)
