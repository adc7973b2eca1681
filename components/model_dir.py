"""The model directory contract: the model's config, TF checkpoints and TensorBoard logs.

``train`` writes ``model_config.json`` (what evaluate, export and freeze need to rebuild the
network and its preprocessing), ``training.json`` (hyper-parameters and per-epoch history),
``model.ckpt-STEP`` checkpoints, ``logs/`` for TensorBoard and, when trained with one, a copy
of the tensorflow-transform output in ``transform/``. The export directory carries the same
config and transform, so every step finds them the same way.
"""

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from kubeslim import storage
from kubeslim.components import input_pipeline
from kubeslim.components.nets import nets_factory
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError
from kubeslim.fileio import write_text_atomic
from kubeslim.model_spec import CONFIG_FILE, TRANSFORM_DIR

if TYPE_CHECKING:
    from kubeslim.components.options import CheckpointOptions

MODEL_DIR_KIND = "classifier_model"  # its kind in the kubeslim marker (``fileio``)
CHECKPOINT_PREFIX = "model.ckpt"
_STATISTICS = ("pixel_mean", "pixel_std")


@dataclass(frozen=True)
class ModelConfig:
    """What is needed to rebuild a trained network and feed it."""

    model_name: str
    preprocessing_name: str
    image_size: int
    channels: int
    num_classes: int
    class_names: tuple[str, ...]
    dataset_name: str
    uses_transform: bool = False
    labels_offset: int = 0
    uses_moving_averages: bool = False

    def build(self, weight_decay: float = 0.0) -> keras.Model:
        """The network, freshly initialized."""
        return nets_factory.build_network(
            self.model_name,
            self.num_classes,
            image_size=self.image_size,
            channels=self.channels,
            weight_decay=weight_decay,
        )

    def preprocess(
        self,
        image: tf.Tensor,
        is_training: bool,
        statistics: dict[str, tf.Tensor] | None = None,
    ) -> tf.Tensor:
        """Applies the configured preprocessing to one uint8 image."""
        fn = preprocessing_factory.get_preprocessing(self.preprocessing_name)
        return fn(image, self.image_size, self.image_size, is_training, statistics)

    def preprocess_encoded(
        self,
        encoded: tf.Tensor,
        is_training: bool = False,
        transform: keras.layers.Layer | None = None,
    ) -> tf.Tensor:
        """Decodes one PNG or JPEG and preprocesses it; training, evaluation and serving all
        come through here. ``transform`` (the TFT layer) supplies the data set statistics."""
        statistics = None
        if transform is not None:
            outputs = transform({"image/encoded": tf.expand_dims(encoded, 0)})
            statistics = {name: outputs[name][0] for name in _STATISTICS}
        image = input_pipeline.decode_image(encoded, self.channels)
        return self.preprocess(image, is_training, statistics)

    def make_dataset(
        self,
        dataset_dir: str | Path,
        split: str,
        *,
        batch_size: int,
        is_training: bool,
        seed: int | None = None,
        transform: keras.layers.Layer | None = None,
    ) -> tf.data.Dataset:
        """Batches of ``split`` preprocessed for this network (see ``input_pipeline``)."""
        return input_pipeline.make_dataset(
            dataset_dir,
            split,
            lambda encoded: self.preprocess_encoded(encoded, is_training, transform),
            batch_size=batch_size,
            is_training=is_training,
            seed=seed,
            labels_offset=self.labels_offset,
        )

    def save(self, model_dir: Path) -> None:
        text = json.dumps(dataclasses.asdict(self), indent=2) + "\n"
        write_text_atomic(model_dir / CONFIG_FILE, text)

    @classmethod
    def load(cls, model_dir: str | Path) -> "ModelConfig":
        """Reads a model directory's config.

        Raises:
          KubeslimError: the directory holds no trained model.
        """
        path = Path(model_dir) / CONFIG_FILE
        if not path.is_file():
            raise KubeslimError(f"{path} not found: {model_dir} is not a trained model directory")
        fields = json.loads(path.read_text())
        fields["class_names"] = tuple(fields["class_names"])
        return cls(**fields)


def check_transform_dir(transform_dir: str | Path) -> None:
    """Raises ``KubeslimError`` unless ``transform_dir`` (local, ``gs://``, ``s3://``) is a
    ``kubeslim analyze`` output."""
    if not storage.is_dir(storage.join(transform_dir, "transform_fn")):
        raise KubeslimError(f"{transform_dir} is not a transform output (run `kubeslim analyze`)")


def copy_transform(transform_dir: str | Path, directory: Path) -> None:
    """Copies a ``kubeslim analyze`` output, local or on an object store, into
    ``directory/transform``.

    Raises:
      KubeslimError: ``transform_dir`` is not a transform output.
    """
    check_transform_dir(transform_dir)
    shutil.rmtree(directory / TRANSFORM_DIR, ignore_errors=True)
    storage.copy_tree(transform_dir, directory / TRANSFORM_DIR)


def load_transform(directory: str | Path, config: ModelConfig) -> keras.layers.Layer | None:
    """The TFT features layer saved with a model or export directory, if it uses one."""
    if not config.uses_transform:
        return None
    import tensorflow_transform as tft

    return tft.TFTransformOutput(str(Path(directory) / TRANSFORM_DIR)).transform_features_layer()


def latest_checkpoint(model_dir: str | Path) -> str:
    """The newest checkpoint prefix in ``model_dir``.

    Raises:
      KubeslimError: there is none.
    """
    path = tf.train.latest_checkpoint(str(model_dir))
    if path is None:
        raise KubeslimError(f"no checkpoint found in {model_dir}")
    return path


def load_checkpoint(
    model_dir: str | Path | None,
    options: "CheckpointOptions",
    image_size: int,
    descriptor: Callable[[], dict],
) -> tuple[keras.Model, ModelConfig, str]:
    """The network and weights a step reads: a checkpoint of ``model_dir`` (``load_model``)
    or, without one, ``options.checkpoint_path`` restored fully into ``options.model_name``
    built for the data set ``descriptor()`` describes: a checkpoint without a model
    directory, TF-Slim's (by its variable names) or kubeslim's.

    Returns:
      (model, config, the checkpoint restored).

    Raises:
      KubeslimError: neither is given, the checkpoint does not restore every variable (each
        missing or misfitting one is named), or the offset leaves fewer than 2 classes.
    """
    from kubeslim.components import fine_tune

    if model_dir is not None:
        return load_model(model_dir, options.checkpoint_path or None)
    if not (options.checkpoint_path and options.model_name):
        raise KubeslimError("give --model_dir, or --checkpoint_path with --model_name")
    described = descriptor()
    net_fn = nets_factory.get_network_fn(options.model_name)
    offset = options.labels_offset
    if described["num_classes"] - offset < 2:
        raise KubeslimError(
            f"--labels_offset {offset} leaves fewer than 2 of the "
            f"{described['num_classes']} classes"
        )
    config = ModelConfig(
        model_name=options.model_name,
        preprocessing_name=options.preprocessing_name or net_fn.preprocessing_name,
        image_size=image_size or net_fn.default_image_size,
        channels=described["image_shape"][-1],
        num_classes=described["num_classes"] - offset,
        class_names=tuple(described["class_names"][offset:]),
        dataset_name=described["name"],
        labels_offset=offset,
    )
    model = config.build()
    fine_tune.restore_checkpoint(model, options.checkpoint_path)
    return model, config, options.checkpoint_path


def load_model(
    model_dir: str | Path, checkpoint_path: str | None = None
) -> tuple[keras.Model, ModelConfig, str]:
    """Rebuilds the network of ``model_dir`` and restores its weights.

    Args:
      model_dir: a directory written by ``train``.
      checkpoint_path: a specific checkpoint prefix; the latest one by default.

    A model trained with ``moving_average_decay`` gets the moving averages of its weights,
    as TF-Slim evaluated and exported it.

    Returns:
      (model, config, the checkpoint restored).
    """
    config = ModelConfig.load(model_dir)
    checkpoint_path = checkpoint_path or latest_checkpoint(model_dir)
    if not tf.io.gfile.exists(f"{checkpoint_path}.index"):
        raise KubeslimError(
            f"--checkpoint_path {checkpoint_path}: no such checkpoint (a prefix such as "
            f"{Path(model_dir) / CHECKPOINT_PREFIX}-1000, whose .index file exists)"
        )
    model = config.build()
    if not config.uses_moving_averages:
        tf.train.Checkpoint(model=model).restore(checkpoint_path).expect_partial()
        return model, config, checkpoint_path
    # The optimizer holds the averages in its variable list, after its step count and, unless
    # the rate is a schedule, its learning rate: any optimizer class with the same kind of
    # rate restores them.
    stored = tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()
    plain_rate = any(key.startswith("optimizer/_learning_rate/") for key in stored)
    rate = 0.01 if plain_rate else keras.optimizers.schedules.ExponentialDecay(0.01, 1, 1.0)
    averages = keras.optimizers.SGD(learning_rate=rate, use_ema=True)
    averages.build(model.trainable_variables)
    status = tf.train.Checkpoint(model=model, optimizer=averages).restore(checkpoint_path)
    status.expect_partial()
    averages.finalize_variable_values(model.trainable_variables)
    return model, config, checkpoint_path
