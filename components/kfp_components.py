"""Thin KFP v2 components over the library functions.

Each is a lightweight Python component whose body imports ``kubeslim`` and hands artifact paths
to a library function, so ``kfp.local`` on this machine and a Kubeflow cluster run the same code.
The container image is the project's (``ops/Dockerfile``), which has ``kubeslim`` and ``kfp``
installed: no ``packages_to_install``, no pip at run time. The pipeline sets the image of
every task when it is built (``make compile-pipeline IMAGE=...``).
"""

from kfp import dsl
from kfp.dsl import Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

DEFAULT_IMAGE = "ghcr.io/kubeslim/kubeslim:latest"


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_dataset(dataset_name: str, source: str, seed: int, dataset: Output[Dataset]):
    """Converts a registered data set to sharded TFRecords (a Beam job); ``source`` is a
    mirror of its raw files, or the ROOT of an image_folder ("" for the canonical address)."""
    from kubeslim.beam.convert import convert_dataset as convert

    descriptor = convert(dataset_name, dataset.path, source=source or None, seed=seed)
    dataset.metadata["name"] = descriptor["name"]
    dataset.metadata["num_classes"] = descriptor["num_classes"]
    for split, entry in descriptor["splits"].items():
        dataset.metadata[f"{split}_examples"] = entry["num_examples"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def analyze_dataset(dataset: Input[Dataset], transform: Output[Artifact]):
    """tensorflow-transform analysis of the train split: vocabulary, pixel statistics."""
    from kubeslim.beam.analyze import analyze_dataset as analyze

    statistics = analyze(dataset.path, transform.path)
    transform.metadata["pixel_mean"] = statistics["pixel_mean"]
    transform.metadata["pixel_std"] = statistics["pixel_std"]
    transform.metadata["label_counts"] = statistics["label_counts"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def train_model(
    dataset: Input[Dataset],
    transform: Input[Artifact],
    model_name: str,
    preprocessing_name: str,
    image_size: int,
    batch_size: int,
    num_epochs: int,
    optimizer: str,
    learning_rate: float,
    weight_decay: float,
    seed: int,
    model: Output[Model],
):
    """Trains a network on the data set's train split, with the analysis's transform;
    ``preprocessing_name`` "" and ``image_size`` 0 mean the net's own."""
    from kubeslim.components.train import train

    record = train(
        dataset.path,
        model.path,
        transform_dir=transform.path,
        model_name=model_name,
        preprocessing_name=preprocessing_name or None,
        image_size=image_size or None,
        batch_size=batch_size,
        num_epochs=num_epochs,
        optimizer=optimizer,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        seed=seed,
    )
    model.metadata["framework"] = "tensorflow"
    model.metadata["model_name"] = model_name
    model.metadata["steps"] = record["steps"]
    model.metadata["train_accuracy"] = record["history"]["accuracy"][-1]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate_model(
    dataset: Input[Dataset],
    model: Input[Model],
    metrics: Output[Metrics],
    confusion_matrix: Output[ClassificationMetrics],
    evaluation: Output[Artifact],
):
    """Evaluates the latest checkpoint on the held-out split; scalars for the Kubeflow UI."""
    from kubeslim.components.evaluate import evaluate

    result = evaluate(dataset.path, model.path, evaluation.path)
    for name in ("top1_accuracy", "top5_accuracy", "loss"):
        metrics.log_metric(name, result[name])
    metrics.log_metric("num_examples", result["num_examples"])
    confusion_matrix.log_confusion_matrix(result["class_names"], result["confusion_matrix"])


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def export_model(model: Input[Model], saved_model: Output[Model]):
    """Exports the SavedModel with its serving signatures."""
    from kubeslim.components.export import export_saved_model

    export_saved_model(model.path, saved_model.path)
    saved_model.metadata["framework"] = "tensorflow"
    saved_model.metadata["format"] = "saved_model"


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def freeze_model(
    saved_model: Input[Model],
    dataset: Input[Dataset],
    max_difference: float,
    frozen_model: Output[Model],
):
    """Freezes the SavedModel and fails unless it matches the SavedModel on the held-out split."""
    from kubeslim.components.freeze import freeze_saved_model, max_abs_difference
    from kubeslim.errors import KubeslimError

    record = freeze_saved_model(saved_model.path, frozen_model.path)
    difference = max_abs_difference(frozen_model.path, saved_model.path, dataset.path)
    if difference > max_difference:
        raise KubeslimError(
            f"frozen graph differs from the SavedModel by {difference:.3g} > {max_difference}"
        )
    frozen_model.metadata["format"] = "frozen_graph_def"
    frozen_model.metadata["inputs"] = record["inputs"]
    frozen_model.metadata["outputs"] = record["outputs"]
    frozen_model.metadata["max_abs_difference"] = difference


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_tflite(
    saved_model: Input[Model],
    dataset: Input[Dataset],
    max_difference: float,
    min_int8_agreement: float,
    tflite_model: Output[Model],
):
    """Converts the SavedModel to TFLite float32, float16 and int8 (calibrated on the training
    TFRecords) and fails unless float32 matches the SavedModel within ``max_difference`` and
    int8 agrees with its top-1 on ``min_int8_agreement`` of the held-out split."""
    from kubeslim.components.tflite import compare_with_saved_model, convert
    from kubeslim.errors import KubeslimError

    record = convert(saved_model.path, tflite_model.path, dataset.path)
    checks = {
        quantization: compare_with_saved_model(
            f"{tflite_model.path}/{name}", saved_model.path, dataset.path
        )
        for quantization, name in record["files"].items()
    }
    if checks["float32"]["max_abs_difference"] > max_difference:
        raise KubeslimError(
            f"TFLite float32 differs from the SavedModel by "
            f"{checks['float32']['max_abs_difference']:.3g} > {max_difference}"
        )
    if checks["int8"]["top1_agreement"] < min_int8_agreement:
        raise KubeslimError(
            f"TFLite int8 agrees on top-1 for {checks['int8']['top1_agreement']:.4f} of the "
            f"held-out images < {min_int8_agreement}"
        )
    tflite_model.metadata["format"] = "tflite"
    tflite_model.metadata["bytes"] = record["bytes"]
    tflite_model.metadata["checks"] = checks
