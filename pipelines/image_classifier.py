"""The image classification DAG: fingerprint -> convert -> analyze -> train -> evaluate ->
quality gate, and, when the model is blessed, export -> promote to the model registry, freeze
and TFLite.

Its parameters are its steps' options (``pipelines.parameters``). Where the steps run is set
when the pipeline is compiled (``ClusterOptions``): every task runs the project's image;
train, evaluate and export request GPUs at run time (``num_gpus``), land on the GPU node pool
by node selector and tolerate its taint; each step requests CPU and memory. Deterministic
steps are cached, keyed by the data: a first, never-cached step fingerprints what convert
will read, which convert takes as an input, and the model in production, which the gate
takes. The download step retries with
back-off.
"""

from dataclasses import dataclass
from typing import Any

from kubeslim.beam.options import ConvertOptions
from kubeslim.components.options import (
    EvalOptions,
    FreezeOptions,
    GateOptions,
    TfliteOptions,
    TrainOptions,
)
from kubeslim.options import option
from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.parameters import ParameterGroup, PipelineDefinition, RunOptions


@dataclass(frozen=True)
class ImageRunOptions(RunOptions):
    converted_dataset: str = option(
        "",
        "a `kubeslim convert` output (a URI the convert step can read) to start from instead "
        'of converting; "" converts dataset_name',
    )


CONVERT = ParameterGroup(ConvertOptions)
RUN = ParameterGroup(ImageRunOptions)
TRAIN = ParameterGroup(TrainOptions)
EVALUATE = ParameterGroup(EvalOptions, "eval_")
GATE = ParameterGroup(GateOptions)
FREEZE = ParameterGroup(FreezeOptions, "freeze_")
TFLITE = ParameterGroup(TfliteOptions, "tflite_")


def _build(values: dict[str, Any], cluster: ClusterOptions) -> None:
    from kfp import dsl

    from kubeslim.pipelines import components
    from kubeslim.pipelines.placement import place_tasks, retry_download

    beam_options = values["beam_options"]
    fingerprint_task = components.fingerprint_inputs(
        dataset_name=values["dataset_name"],
        source=values["source"],
        converted_dataset=values["converted_dataset"],
        blessed_evaluation=values["blessed_evaluation"],
        model_registry=values["model_registry"],
    )
    convert_task = components.convert_dataset(
        **CONVERT.pick(values),
        beam_options=beam_options,
        converted_dataset=values["converted_dataset"],
        source_fingerprint=fingerprint_task.outputs["source"],
    )
    retry_download(convert_task, cluster)
    dataset = convert_task.outputs["dataset"]
    analyze_task = components.analyze_dataset(dataset=dataset, beam_options=beam_options)
    train_task = components.train_model(
        dataset=dataset, transform=analyze_task.outputs["transform"], **TRAIN.pick(values)
    )
    model = train_task.outputs["model"]
    evaluate_task = components.evaluate_model(dataset=dataset, model=model, **EVALUATE.pick(values))
    gate_task = components.gate_model(
        evaluation=evaluate_task.outputs["evaluation"],
        baseline_fingerprint=fingerprint_task.outputs["baseline"],
        **GATE.pick(values),
    )
    tasks = [
        (fingerprint_task, "fingerprint the data and the model in production", False),
        (convert_task, "convert (Beam)", False),
        (analyze_task, "analyze (TFT)", False),
        (train_task, "train", True),
        (evaluate_task, "evaluate", True),
        (gate_task, "quality gate", False),
    ]
    with dsl.If(gate_task.outputs["Output"] == True, name="blessed"):  # noqa: E712
        export_task = components.export_model(model=model, num_gpus=values["num_gpus"])
        saved_model = export_task.outputs["saved_model"]
        freeze_task = components.freeze_model(
            saved_model=saved_model, dataset=dataset, **FREEZE.pick(values)
        )
        tflite_task = components.convert_tflite(
            saved_model=saved_model, dataset=dataset, **TFLITE.pick(values)
        )
        promote_task = components.promote_model(
            saved_model=saved_model,
            evaluation=evaluate_task.outputs["evaluation"],
            model_registry=values["model_registry"],
        )
        tasks += [
            (export_task, "export SavedModel", True),
            (promote_task, "promote to the registry", False),
            (freeze_task, "freeze GraphDef", False),
            (tflite_task, "convert TFLite", False),
        ]
    place_tasks(tasks, cluster, values["num_gpus"])
    fingerprint_task.set_caching_options(False)  # it must look at the data and registry each run
    promote_task.set_caching_options(False)  # the registry may have moved; promoting is idempotent


PIPELINE = PipelineDefinition(
    name="kubeslim-image-classifier",
    description="Convert a data set to TFRecords with Beam, analyze it with "
    "tensorflow-transform, train a TF-Slim network, evaluate it, and when it passes the "
    "quality gate export a SavedModel, freeze it and convert it to TFLite.",
    groups=(CONVERT, RUN, TRAIN, EVALUATE, GATE, FREEZE, TFLITE),
    build=_build,
)
