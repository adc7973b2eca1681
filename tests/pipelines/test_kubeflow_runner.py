"""The compiled YAML is a valid KFP PipelineSpec naming every step, all in our image."""

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from kubeslim.pipelines.image_classifier import PIPELINE_NAME
from kubeslim.pipelines.kubeflow_runner import compile_pipeline

STEPS = {
    "convert-dataset",
    "analyze-dataset",
    "train-model",
    "evaluate-model",
    "export-model",
    "freeze-model",
    "convert-tflite",
}


def _compile(tmp_path, image="registry.example.com/kubeslim:abc123"):
    path = compile_pipeline(tmp_path / "out" / "pipeline.yaml", image=image)
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(yaml.safe_load(path.read_text()), spec)
    return spec


def test_spec_names_every_step_and_their_order(tmp_path):
    spec = _compile(tmp_path)
    assert spec.pipeline_info.name == PIPELINE_NAME
    tasks = spec.root.dag.tasks
    assert set(tasks) == STEPS
    assert list(tasks["analyze-dataset"].dependent_tasks) == ["convert-dataset"]
    assert set(tasks["train-model"].dependent_tasks) == {"convert-dataset", "analyze-dataset"}
    assert set(tasks["evaluate-model"].dependent_tasks) == {"convert-dataset", "train-model"}
    assert set(tasks["freeze-model"].dependent_tasks) == {"convert-dataset", "export-model"}
    assert set(tasks["convert-tflite"].dependent_tasks) == {"convert-dataset", "export-model"}
    assert tasks["evaluate-model"].task_info.name == "evaluate"


def test_every_executor_runs_the_given_image_without_pip(tmp_path):
    spec = _compile(tmp_path)
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    assert len(executors) == len(STEPS)
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == "registry.example.com/kubeslim:abc123"
        assert "pip install" not in " ".join(container["command"] + container.get("args", []))


def test_typed_artifacts_and_parameters(tmp_path):
    spec = _compile(tmp_path)
    components = spec.components
    outputs = components["comp-evaluate-model"].output_definitions.artifacts
    assert outputs["metrics"].artifact_type.schema_title == "system.Metrics"
    assert outputs["confusion_matrix"].artifact_type.schema_title == "system.ClassificationMetrics"
    dataset = components["comp-convert-dataset"].output_definitions.artifacts["dataset"]
    assert dataset.artifact_type.schema_title == "system.Dataset"
    model = components["comp-train-model"].output_definitions.artifacts["model"]
    assert model.artifact_type.schema_title == "system.Model"
    parameters = spec.root.input_definitions.parameters
    assert parameters["dataset_name"].default_value.string_value == "digits"
    assert parameters["dataset_source"].default_value.string_value == ""
    assert parameters["num_epochs"].default_value.number_value == 15
