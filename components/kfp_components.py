"""Thin KFP v2 components over the library functions.

Each is a lightweight Python component whose body imports ``kubeslim`` and hands artifact paths
to a library function, so ``kfp.local`` on this machine and a Kubeflow cluster run the same code.
The container image is the project's (``ops/Dockerfile``), which has ``kubeslim`` and ``kfp``
installed: no ``packages_to_install``, no pip at run time. The pipeline sets the image of
every task when it is built (``make compile-pipeline IMAGE=...``).
"""

from kfp import dsl
from kfp.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
)

DEFAULT_IMAGE = "ghcr.io/kubeslim/kubeslim:latest"


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_dataset(
    dataset_name: str,
    source: str,
    seed: int,
    beam_options: str,
    converted_dataset: str,
    dataset: Output[Dataset],
):
    """Converts a registered data set to sharded TFRecords (a Beam job); ``source`` is a
    mirror of its raw files, or the ROOT of an image_folder ("" for the canonical address);
    ``beam_options`` are Beam pipeline flags ("" runs the job in this pod). Given
    ``converted_dataset``, a ``kubeslim convert`` output, it is copied instead."""
    import shlex

    from kubeslim.beam.convert import convert_dataset as convert
    from kubeslim.dataset_spec import copy_converted

    if converted_dataset:
        descriptor = copy_converted(converted_dataset, dataset.path)
    else:
        descriptor = convert(
            dataset_name,
            dataset.path,
            source=source or None,
            seed=seed,
            beam_args=shlex.split(beam_options),
        )
    dataset.metadata["name"] = descriptor["name"]
    dataset.metadata["num_classes"] = descriptor["num_classes"]
    for split, entry in descriptor["splits"].items():
        dataset.metadata[f"{split}_examples"] = entry["num_examples"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def analyze_dataset(dataset: Input[Dataset], beam_options: str, transform: Output[Artifact]):
    """tensorflow-transform analysis of the train split: vocabulary, pixel statistics."""
    import shlex

    from kubeslim.beam.analyze import analyze_dataset as analyze

    statistics = analyze(dataset.path, transform.path, beam_args=shlex.split(beam_options))
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
    learning_rate_decay_type: str,
    weight_decay: float,
    label_smoothing: float,
    moving_average_decay: float,
    checkpoint_path: str,
    checkpoint_exclude_scopes: str,
    trainable_scopes: str,
    mixed_precision: bool,
    seed: int,
    model: Output[Model],
):
    """Trains a network on the data set's train split, with the analysis's transform;
    ``preprocessing_name`` "" and ``image_size`` 0 mean the net's own, ``moving_average_decay``
    0 keeps no averages, ``checkpoint_path`` "" trains from scratch."""
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
        learning_rate_decay_type=learning_rate_decay_type,
        weight_decay=weight_decay,
        label_smoothing=label_smoothing,
        moving_average_decay=moving_average_decay or None,
        checkpoint_path=checkpoint_path or None,
        checkpoint_exclude_scopes=checkpoint_exclude_scopes,
        trainable_scopes=trainable_scopes,
        mixed_precision=mixed_precision,
        seed=seed,
    )
    model.metadata["replicas"] = record["replicas"]
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
    report: Output[HTML],
):
    """Evaluates the latest checkpoint on the held-out split: scalars and the confusion matrix
    for the Kubeflow UI, and an HTML report with the training curves."""
    from kubeslim.components.evaluate import evaluate
    from kubeslim.components.report import write_report

    result = evaluate(dataset.path, model.path, evaluation.path)
    write_report(model.path, result, report.path)
    for name in ("top1_accuracy", "top5_accuracy", "loss"):
        metrics.log_metric(name, result[name])
    metrics.log_metric("num_examples", result["num_examples"])
    confusion_matrix.log_confusion_matrix(result["class_names"], result["confusion_matrix"])


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def gate_model(
    evaluation: Input[Artifact],
    accuracy_threshold: float,
    blessed_evaluation: str,
    decision: Output[Markdown],
) -> bool:
    """The quality gate: True when top-1 accuracy reaches ``accuracy_threshold`` and, given
    the blessed model's evaluation (a directory or metrics.json URI), is not worse."""
    from kubeslim.components.quality_gate import check_evaluation

    blessed, reason = check_evaluation(evaluation.path, accuracy_threshold, blessed_evaluation)
    verdict = "**Blessed**" if blessed else "**Not blessed**: export is skipped"
    with open(decision.path, "w") as f:
        f.write(f"# Quality gate\n\n{verdict}: {reason}.\n")
    print(f"quality gate: {'blessed' if blessed else 'not blessed'}: {reason}")
    return blessed


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def export_model(model: Input[Model], num_gpus: int, saved_model: Output[Model]):
    """Exports the SavedModel with its serving signatures. ``num_gpus`` is only recorded:
    taking it as an input wires the pipeline parameter into the quality gate's branch, where
    KFP 2.17's compiler does not pass a parameter used only by ``set_accelerator_limit``."""
    from kubeslim.components.export import export_saved_model

    export_saved_model(model.path, saved_model.path)
    saved_model.metadata["num_gpus"] = num_gpus
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
