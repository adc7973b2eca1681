"""The image-model steps' options (train, evaluate, gate, export, freeze, TFLite, benchmark),
importable without TensorFlow. See ``kubeslim.options`` for how they are defined and used."""

from dataclasses import dataclass

from kubeslim.components.nets.nets_factory import NETS
from kubeslim.components.preprocessing.preprocessing_factory import PREPROCESSING
from kubeslim.errors import KubeslimError
from kubeslim.options import (
    Options,
    at_least,
    in_range,
    option,
    overwrite_option,
    positive,
    zero_or,
)

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("exponential", "fixed", "polynomial")
_FRACTION = in_range(0, 1, high_open=True)


@dataclass(frozen=True)
class OptimizerOptions(Options):
    """TF-Slim's optimizer and learning-rate flags (``_configure_optimizer`` and
    ``_configure_learning_rate`` of ``train_image_classifier.py``)."""

    optimizer: str = option("adam", "the optimizer", choices=OPTIMIZERS)
    learning_rate: float = option(1e-3, "initial learning rate", check=positive)
    learning_rate_decay_type: str = option("fixed", "how the rate decays", choices=DECAY_TYPES)
    learning_rate_decay_factor: float = option(
        0.94, "exponential decay factor", check=in_range(0, 1, low_open=True)
    )
    num_epochs_per_decay: float = option(
        2.0, "epochs between exponential decays; the length of the polynomial decay", check=positive
    )
    end_learning_rate: float = option(1e-4, "where polynomial decay ends", check=at_least(0))
    opt_epsilon: float = option(
        0.0,
        "epsilon of adadelta, adagrad, adam and rmsprop (TF-Slim's 1.0 suits RMSProp on "
        "ImageNet, not small data sets)",
        check=at_least(0),
        unset="Keras's",
    )
    adadelta_rho: float = option(0.95, "adadelta decay rate", check=_FRACTION)
    adagrad_initial_accumulator_value: float = option(
        0.1, "adagrad starting accumulator", check=at_least(0)
    )
    adam_beta1: float = option(0.9, "adam first-moment decay", check=_FRACTION)
    adam_beta2: float = option(0.999, "adam second-moment decay", check=_FRACTION)
    ftrl_learning_rate_power: float = option(
        -0.5, "ftrl learning-rate power", check=lambda v: None if v <= 0 else "be at most 0"
    )
    ftrl_initial_accumulator_value: float = option(
        0.1, "ftrl starting accumulator", check=at_least(0)
    )
    ftrl_l1: float = option(0.0, "ftrl L1 strength", check=at_least(0))
    ftrl_l2: float = option(0.0, "ftrl L2 strength", check=at_least(0))
    momentum: float = option(0.9, "momentum of the momentum optimizer", check=_FRACTION)
    rmsprop_momentum: float = option(0.9, "rmsprop momentum", check=_FRACTION)
    rmsprop_decay: float = option(0.9, "rmsprop decay (rho)", check=_FRACTION)
    moving_average_decay: float = option(
        0.0,
        "keep moving averages of the weights with this decay, for evaluation and export; "
        "0 keeps none",
        check=zero_or(in_range(0, 1, low_open=True, high_open=True)),
    )


@dataclass(frozen=True)
class TrainingSettings(Options):
    """The network, data and schedule of ``train`` (its optimizer: ``OptimizerOptions``)."""

    model_name: str = option("lenet", "the network", choices=NETS.names)
    preprocessing_name: str = option(
        "", 'the preprocessing; "" is the network\'s own', choices=lambda: ["", *PREPROCESSING]
    )
    image_size: int = option(
        0,
        "input height and width",
        check=zero_or(at_least(1)),
        aliases=("train_image_size",),
        unset="the network's default",
    )
    batch_size: int = option(32, "examples per step, over all replicas", check=at_least(1))
    num_epochs: int = option(15, "passes over the training split", check=at_least(1))
    max_steps: int = option(
        0,
        "stop after this many steps in all, if sooner than --num_epochs",
        check=zero_or(at_least(1)),
        aliases=("max_number_of_steps",),
        unset="no limit",
    )
    weight_decay: float = option(4e-5, "L2 scale on the kernels", check=at_least(0))
    label_smoothing: float = option(
        0.0, "TF-Slim's smoothing of the one-hot targets", check=_FRACTION
    )
    labels_offset: int = option(
        0, "subtracted from every label: 1 drops a background class 0", check=at_least(0)
    )
    checkpoint_path: str = option(
        "",
        "fine-tune from this TF checkpoint (or directory; TF-Slim's too) or Keras .h5 weights "
        "(Keras Applications' too); used only when the model directory has no checkpoint yet",
    )
    checkpoint_exclude_scopes: str = option(
        "", "comma-separated scopes not restored from it, e.g. InceptionV3/Logits"
    )
    trainable_scopes: str = option("", 'comma-separated scopes to train; "" trains all')
    ignore_missing_vars: bool = option(
        False, "initialize variables the checkpoint lacks instead of failing"
    )
    mixed_precision: bool = option(
        False, "float16 compute on GPU (bfloat16 on CPU), float32 weights"
    )
    seed: int = option(0, "initialization and shuffle seed", check=at_least(0))


@dataclass(frozen=True)
class TrainOptions(OptimizerOptions, TrainingSettings):
    """TF-Slim's ``train_image_classifier.py`` flags: the training settings, then the
    optimizer's."""

    def check_together(self) -> None:
        if self.checkpoint_exclude_scopes and not self.checkpoint_path:
            raise KubeslimError("--checkpoint_exclude_scopes needs --checkpoint_path")


@dataclass(frozen=True)
class CheckpointOptions(Options):
    """The checkpoint a step reads: one of ``--model_dir``'s or, without a model directory,
    any checkpoint of ``--model_name`` (TF-Slim's too) and what describes its network, as
    TF-Slim's ``eval_image_classifier.py`` and ``export_inference_graph.py`` take them."""

    checkpoint_path: str = option(
        "",
        'checkpoint prefix; "" is the latest; without --model_dir, any checkpoint of '
        "--model_name (TF-Slim's too, local or gs://), which must restore fully",
        cli_only=True,
    )
    model_name: str = option(
        "",
        "the network of --checkpoint_path when there is no --model_dir",
        choices=lambda: ["", *NETS.names()],
        cli_only=True,
    )
    labels_offset: int = option(
        0,
        "without --model_dir: classes dropped from the front of the labels (1 for a 1,000-class "
        "checkpoint, VGG's or ResNet v1's, on a data set with a background class 0)",
        check=at_least(0),
        cli_only=True,
    )
    preprocessing_name: str = option(
        "",
        'without --model_dir: the preprocessing; "" is the network\'s own',
        choices=lambda: ["", *PREPROCESSING],
        cli_only=True,
    )


@dataclass(frozen=True)
class EvalOptions(CheckpointOptions):
    """TF-Slim's ``eval_image_classifier.py`` flags."""

    split: str = option(
        "",
        'split to evaluate; "" is test, or validation where there is no test',
        aliases=("dataset_split_name",),
    )
    eval_image_size: int = option(
        0,
        "without --model_dir: the input size; with one, must be the size it was trained at",
        check=zero_or(at_least(1)),
        cli_only=True,
        unset="the network's default",
    )
    max_num_batches: int = option(
        0,
        "evaluate only this many batches",
        check=zero_or(at_least(1)),
        cli_only=True,
        unset="all",
    )
    batch_size: int = option(256, "examples per evaluation batch", check=at_least(1))
    watch: bool = option(
        False,
        "TF-Slim's evaluation loop: evaluate each new checkpoint into OUTPUT_DIR/step-N",
        cli_only=True,
    )
    eval_interval_secs: float = option(
        60.0, "how often --watch looks for a new checkpoint", check=positive, cli_only=True
    )
    timeout_secs: float = option(
        0.0,
        "--watch stops after this long without a new checkpoint",
        check=at_least(0),
        cli_only=True,
        unset="never",
    )
    overwrite: bool = overwrite_option()


@dataclass(frozen=True)
class GateOptions(Options):
    """The quality gate between evaluation and export."""

    accuracy_threshold: float = option(
        0.97, "the top-1 accuracy a model must reach to be exported", check=in_range(0, 1)
    )
    blessed_evaluation: str = option(
        "",
        "the evaluation (directory or metrics.json URI) of the model in production; a new "
        'model is exported only if not worse; "" is the model registry\'s latest, if any',
    )
    model_registry: str = option(
        "",
        "where a blessed model is promoted (a directory, gs:// or s3:// prefix laid out as TF "
        "Serving serves it: a new version each time, its evaluation, `latest` written last); "
        'the gate compares with its latest; "" promotes nowhere',
    )


@dataclass(frozen=True)
class ExportOptions(CheckpointOptions):
    """TF-Slim's ``export_inference_graph.py`` flags: a model directory's checkpoint, or any
    checkpoint of ``--model_name`` (TF-Slim's too)."""

    image_size: int = option(
        0,
        "without --model_dir: the input size",
        check=zero_or(at_least(1)),
        cli_only=True,
        unset="the network's default",
    )
    batch_size: int = option(
        0,
        "the inputs' batch size, fixed in the graph (as TF-Slim's export_inference_graph)",
        check=zero_or(at_least(1)),
        cli_only=True,
        unset="any",
    )
    is_training: bool = option(
        False,
        "export the training graph: batch norm on each batch's own statistics and dropout on "
        "(its moving averages are not updated)",
        cli_only=True,
    )
    label_source: str = option(
        "",
        "without --model_dir and --dataset_dir: where ImageNet's label files "
        "(imagenet_lsvrc_2015_synsets.txt, imagenet_metadata.txt) are, a directory or URL "
        'base; "" is their canonical address',
        cli_only=True,
    )
    overwrite: bool = overwrite_option()


@dataclass(frozen=True)
class FreezeOptions(Options):
    max_difference: float = option(
        1e-5,
        "largest difference allowed between the frozen graph's and the SavedModel's "
        "probabilities on the held-out split (checked when a data set is given)",
        check=positive,
    )
    overwrite: bool = overwrite_option()


@dataclass(frozen=True)
class TfliteOptions(Options):
    max_difference: float = option(
        1e-5,
        "largest difference allowed between TFLite float32's and the SavedModel's "
        "probabilities on the held-out split",
        check=positive,
    )
    min_int8_agreement: float = option(
        0.97,
        "smallest share of held-out images on which int8 must agree with the SavedModel's "
        "top-1 class",
        check=in_range(0, 1),
    )
    num_calibration_images: int = option(
        200, "training images that calibrate int8", check=at_least(1)
    )
    overwrite: bool = overwrite_option()


@dataclass(frozen=True)
class BenchmarkOptions(Options):
    model_name: str = option("lenet", "the network", choices=NETS.names, aliases=("model",))
    batch_size: int = option(32, "images per batch", check=at_least(1))
    num_batches: int = option(10, "timed batches", check=at_least(1))
    image_size: int = option(
        0, "input height and width", check=zero_or(at_least(1)), unset="the network's default"
    )
