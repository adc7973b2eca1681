"""The model directory contract: the model's config, TF checkpoints and TensorBoard logs.

``train`` writes ``model_config.json`` (what evaluate, export and freeze need to rebuild the
network and its preprocessing), ``training.json`` (hyper-parameters and per-epoch history),
``model.ckpt-STEP`` checkpoints and ``logs/`` for TensorBoard.
"""

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from kubeslim.components import input_pipeline
from kubeslim.components.nets import nets_factory
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError

CONFIG_FILE = "model_config.json"
TRAINING_FILE = "training.json"
CHECKPOINT_PREFIX = "model.ckpt"
LOGS_DIR = "logs"


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

    def build(self, weight_decay: float = 0.0) -> keras.Model:
        """The network, freshly initialized."""
        net_fn = nets_factory.get_network_fn(self.model_name)
        return net_fn(
            self.num_classes,
            image_size=self.image_size,
            channels=self.channels,
            weight_decay=weight_decay,
        )

    def preprocess(self, image: tf.Tensor, is_training: bool) -> tf.Tensor:
        """Applies the configured preprocessing to one uint8 image."""
        fn = preprocessing_factory.get_preprocessing(self.preprocessing_name)
        return fn(image, self.image_size, self.image_size, is_training)

    def preprocess_encoded(self, encoded: tf.Tensor) -> tf.Tensor:
        """Decodes one PNG or JPEG and preprocesses it for evaluation and serving."""
        return self.preprocess(
            input_pipeline.decode_image(encoded, self.channels), is_training=False
        )

    def make_dataset(
        self,
        dataset_dir: str | Path,
        split: str,
        *,
        batch_size: int,
        is_training: bool,
        seed: int | None = None,
    ) -> tf.data.Dataset:
        """Batches of ``split`` preprocessed for this network (see ``input_pipeline``)."""
        return input_pipeline.make_dataset(
            dataset_dir,
            split,
            lambda image: self.preprocess(image, is_training),
            batch_size=batch_size,
            is_training=is_training,
            seed=seed,
        )

    def save(self, model_dir: Path) -> None:
        (model_dir / CONFIG_FILE).write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")

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


def latest_checkpoint(model_dir: str | Path) -> str:
    """The newest checkpoint prefix in ``model_dir``.

    Raises:
      KubeslimError: there is none.
    """
    path = tf.train.latest_checkpoint(str(model_dir))
    if path is None:
        raise KubeslimError(f"no checkpoint found in {model_dir}")
    return path


def load_model(
    model_dir: str | Path, checkpoint_path: str | None = None
) -> tuple[keras.Model, ModelConfig, str]:
    """Rebuilds the network of ``model_dir`` and restores its weights.

    Args:
      model_dir: a directory written by ``train``.
      checkpoint_path: a specific checkpoint prefix; the latest one by default.

    Returns:
      (model, config, the checkpoint restored).
    """
    config = ModelConfig.load(model_dir)
    checkpoint_path = checkpoint_path or latest_checkpoint(model_dir)
    model = config.build()
    tf.train.Checkpoint(model=model).restore(checkpoint_path).expect_partial()
    return model, config, checkpoint_path
