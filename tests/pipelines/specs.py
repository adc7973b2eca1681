"""Compiles a pipeline and reads the YAML back as a PipelineSpec, for the pipeline tests."""

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.kubeflow_runner import compile_pipeline

IMAGE = "registry.example.com/kubeslim:abc123"


def compile_spec(tmp_path, pipeline="image_classifier", **options):
    """The PipelineSpec and the Kubernetes platform executors of the compiled YAML."""
    path = compile_pipeline(
        tmp_path / "out" / "pipeline.yaml",
        ClusterOptions(image=IMAGE, **options),
        pipeline,
    )
    documents = list(yaml.safe_load_all(path.read_text()))
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(documents[0], spec)
    platform = {}  # the kfp-kubernetes document, absent when no step needs one
    if len(documents) > 1:
        platform = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    return spec, platform


def executor_of(spec, task_name: str) -> tuple[str, dict]:
    """The executor label and executor of task ``task_name``, in any DAG of ``spec``."""
    dags = [spec.root.dag] + [c.dag for c in spec.components.values() if c.HasField("dag")]
    for dag in dags:
        if task_name in dag.tasks:
            component = spec.components[dag.tasks[task_name].component_ref.name]
            executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
            return component.executor_label, executors[component.executor_label]
    raise KeyError(task_name)
