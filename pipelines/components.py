"""Thin KFP v2 components over the library functions of the image pipeline.

Each is a lightweight Python component whose body imports ``kubeslim`` and hands artifact paths
and its step's options dataclass to a library function, so ``kfp.local`` on this machine and a
Kubeflow cluster run the same code. A component's parameters are its step's options fields
(``pipelines.parameters``; a test holds them equal), and its body makes the dataclass from its
``locals()``, so every value is checked as the command line checks it. The container image is
the project's (``ops/Dockerfile``), with ``kubeslim`` and ``kfp`` installed: no
``packages_to_install``, no pip at run time; the pipeline sets each task's image when it is
compiled.
"""

from typing import NamedTuple

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

from kubeslim.pipelines.cluster import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def fingerprint_inputs(
    dataset_name: str,
    source: str,
    converted_dataset: str,
    blessed_evaluation: str,
    model_registry: str,
) -> NamedTuple("Fingerprints", [("source", str), ("baseline", str)]):
    """Content fingerprints of what the run depends on (never cached): of what the convert
    step will read, which convert takes as an input, and of the model in production, which
    the gate takes; so their cache keys change exactly when the data or that model does."""
    from collections import namedtuple

    from kubeslim.beam.source_fingerprint import source_fingerprint
    from kubeslim.components.options import GateOptions
    from kubeslim.components.quality_gate import baseline_fingerprint

    source_key = source_fingerprint(dataset_name, source, converted_dataset)
    gate = GateOptions(blessed_evaluation=blessed_evaluation, model_registry=model_registry)
    baseline_key = baseline_fingerprint(gate)
    print(f"data: {source_key}; model in production: {baseline_key}")
    return namedtuple("Fingerprints", ["source", "baseline"])(source_key, baseline_key)


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_dataset(
    dataset_name: str,
    source: str,
    validation_size: float,
    num_shards: str,
    seed: int,
    strict: bool,
    beam_options: str,
    converted_dataset: str,
    source_fingerprint: str,
    dataset: Output[Dataset],
):
    """Converts a registered data set to sharded TFRecords (a Beam job), or copies the
    ``kubeslim convert`` output ``converted_dataset`` when given; ``beam_options`` are Beam
    pipeline flags ("" runs the job in this pod). ``source_fingerprint`` (``fingerprint_inputs``)
    keys the cache and is recorded in the data set's metadata."""
    import shlex

    from kubeslim.beam.convert import convert_dataset as convert
    from kubeslim.beam.options import ConvertOptions
    from kubeslim.dataset_spec import copy_converted

    options = ConvertOptions.from_mapping(locals())
    if converted_dataset:
        descriptor = copy_converted(converted_dataset, dataset.path)
    else:
        descriptor = convert(dataset.path, options, beam_args=shlex.split(beam_options))
    dataset.metadata["name"] = descriptor["name"]
    dataset.metadata["num_classes"] = descriptor["num_classes"]
    dataset.metadata["source_fingerprint"] = source_fingerprint
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
    optimizer: str,
    learning_rate: float,
    learning_rate_decay_type: str,
    learning_rate_decay_factor: float,
    num_epochs_per_decay: float,
    end_learning_rate: float,
    opt_epsilon: float,
    adadelta_rho: float,
    adagrad_initial_accumulator_value: float,
    adam_beta1: float,
    adam_beta2: float,
    ftrl_learning_rate_power: float,
    ftrl_initial_accumulator_value: float,
    ftrl_l1: float,
    ftrl_l2: float,
    momentum: float,
    rmsprop_momentum: float,
    rmsprop_decay: float,
    moving_average_decay: float,
    model_name: str,
    preprocessing_name: str,
    image_size: int,
    batch_size: int,
    num_epochs: int,
    max_steps: int,
    weight_decay: float,
    label_smoothing: float,
    labels_offset: int,
    checkpoint_path: str,
    checkpoint_exclude_scopes: str,
    trainable_scopes: str,
    ignore_missing_vars: bool,
    mixed_precision: bool,
    seed: int,
    model: Output[Model],
):
    """Trains a network on the data set's train split with the analysis's transform
    (TF-Slim's ``train_image_classifier.py`` flags, as ``kubeslim train`` takes them)."""
    from kubeslim.components.options import TrainOptions
    from kubeslim.components.train import train

    record = train(
        dataset.path, model.path, TrainOptions.from_mapping(locals()), transform_dir=transform.path
    )
    model.metadata["replicas"] = record["replicas"]
    model.metadata["framework"] = "tensorflow"
    model.metadata["model_name"] = record["model_name"]
    model.metadata["steps"] = record["steps"]
    model.metadata["train_accuracy"] = record["history"]["accuracy"][-1]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate_model(
    dataset: Input[Dataset],
    model: Input[Model],
    split: str,
    batch_size: int,
    metrics: Output[Metrics],
    confusion_matrix: Output[ClassificationMetrics],
    evaluation: Output[Artifact],
    report: Output[HTML],
):
    """Evaluates the latest checkpoint on the held-out split (or ``split``): scalars and the
    confusion matrix for the Kubeflow UI, and an HTML report with the training curves."""
    from kubeslim.components.evaluate import evaluate
    from kubeslim.components.options import EvalOptions
    from kubeslim.components.report import write_report
    from kubeslim.pipelines.metrics_artifacts import log_confusion_matrix, log_metrics

    result = evaluate(dataset.path, model.path, evaluation.path, EvalOptions.from_mapping(locals()))
    write_report(model.path, result, report.path)
    names = ("top1_accuracy", "top5_accuracy", "loss", "num_examples")
    log_metrics(metrics, {name: result[name] for name in names})
    log_confusion_matrix(confusion_matrix, result["class_names"], result["confusion_matrix"])


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def gate_model(
    evaluation: Input[Artifact],
    accuracy_threshold: float,
    blessed_evaluation: str,
    model_registry: str,
    baseline_fingerprint: str,
    decision: Output[Markdown],
) -> bool:
    """The quality gate: True when top-1 accuracy reaches ``accuracy_threshold`` and is not
    worse than the blessed model's evaluation (``blessed_evaluation``, a directory or
    metrics.json URI, else the latest promotion in ``model_registry``), if there is one.
    ``baseline_fingerprint`` (``fingerprint_inputs``) only keys the cache."""
    from kubeslim.components.options import GateOptions
    from kubeslim.components.quality_gate import check_evaluation

    blessed, reason = check_evaluation(evaluation.path, GateOptions.from_mapping(locals()))
    verdict = "**Blessed**" if blessed else "**Not blessed**: export is skipped"
    with open(decision.path, "w") as f:
        f.write(f"# Quality gate\n\n{verdict}: {reason}.\n")
    print(f"quality gate: {'blessed' if blessed else 'not blessed'}: {reason}")
    return blessed


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def promote_model(
    saved_model: Input[Model], evaluation: Input[Artifact], model_registry: str
) -> int:
    """Promotes the blessed export and its evaluation to ``model_registry`` as its next
    version (TF Serving's layout; ``latest`` written last), the baseline of the next run's
    gate; with no registry, nothing (0)."""
    from kubeslim.components.registry import promote

    if not model_registry:
        print("no model_registry: nothing promoted")
        return 0
    version = promote(model_registry, saved_model.path, evaluation.path)
    print(f"promoted to {model_registry}/{version}")
    return version


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
    """Freezes the SavedModel; fails, writing nothing, unless the frozen graph matches the
    SavedModel within ``max_difference`` on the held-out split."""
    from kubeslim.components.freeze import freeze_saved_model
    from kubeslim.components.options import FreezeOptions

    record = freeze_saved_model(
        saved_model.path,
        frozen_model.path,
        FreezeOptions.from_mapping(locals()),
        check_dataset_dir=dataset.path,
    )
    frozen_model.metadata["format"] = "frozen_graph_def"
    frozen_model.metadata["inputs"] = record["inputs"]
    frozen_model.metadata["outputs"] = record["outputs"]
    frozen_model.metadata["max_abs_difference"] = record["max_abs_difference"]


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def convert_tflite(
    saved_model: Input[Model],
    dataset: Input[Dataset],
    max_difference: float,
    min_int8_agreement: float,
    num_calibration_images: int,
    tflite_model: Output[Model],
):
    """Converts the SavedModel to TFLite float32, float16 and int8 (calibrated on the training
    TFRecords); fails, writing nothing, unless float32 matches the SavedModel within
    ``max_difference`` and int8 agrees with its top-1 on ``min_int8_agreement`` of the
    held-out split."""
    from kubeslim.components.options import TfliteOptions
    from kubeslim.components.tflite import convert

    record = convert(
        saved_model.path,
        tflite_model.path,
        TfliteOptions.from_mapping(locals()),
        dataset_dir=dataset.path,
    )
    tflite_model.metadata["format"] = "tflite"
    tflite_model.metadata["bytes"] = record["bytes"]
    tflite_model.metadata["checks"] = record["checks"]
