"""The compiled YAML is a valid KFP PipelineSpec: every step in our image, the GPU steps on
the GPU node pool, the quality gate in front of export, caching and retries."""

from google.protobuf import json_format

from kubeslim.pipelines.pipeline_factory import get_pipeline

from .specs import IMAGE, compile_spec, executor_of

BEFORE_GATE = {
    "fingerprint-inputs",
    "convert-dataset",
    "analyze-dataset",
    "train-model",
    "evaluate-model",
    "gate-model",
}
AFTER_GATE = {"export-model", "promote-model", "freeze-model", "convert-tflite"}
GPU_STEPS = {"train-model", "evaluate-model", "export-model"}


def test_spec_names_every_step_and_the_gate_guards_export(tmp_path):
    spec, _ = compile_spec(tmp_path)
    assert spec.pipeline_info.name == get_pipeline("image_classifier").name
    root = spec.root.dag.tasks
    (condition,) = set(root) - BEFORE_GATE
    assert set(root) == BEFORE_GATE | {condition}
    assert list(root["convert-dataset"].dependent_tasks) == ["fingerprint-inputs"]
    assert list(root["analyze-dataset"].dependent_tasks) == ["convert-dataset"]
    assert set(root["train-model"].dependent_tasks) == {"convert-dataset", "analyze-dataset"}
    assert set(root["gate-model"].dependent_tasks) == {"evaluate-model", "fingerprint-inputs"}
    gate = root[condition]
    assert "gate-model-Output" in gate.trigger_policy.condition
    assert "== true" in gate.trigger_policy.condition
    inner = spec.components[gate.component_ref.name].dag.tasks
    assert set(inner) == AFTER_GATE
    assert set(inner["freeze-model"].dependent_tasks) == {"export-model"}
    assert set(inner["promote-model"].dependent_tasks) == {"export-model"}
    registry = inner["promote-model"].inputs.parameters["model_registry"]
    assert registry.component_input_parameter.endswith("model_registry")


def test_every_executor_runs_the_given_image_without_pip(tmp_path):
    spec, _ = compile_spec(tmp_path)
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    assert len(executors) == len(BEFORE_GATE | AFTER_GATE)
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == IMAGE
        assert "pip install" not in " ".join(container["command"] + container.get("args", []))


def test_gpu_image_runs_only_the_gpu_steps(tmp_path):
    gpu_image = "registry.example.com/kubeslim-gpu:abc123"
    spec, _ = compile_spec(tmp_path, gpu_image=gpu_image)
    for task in BEFORE_GATE | AFTER_GATE:
        _, executor = executor_of(spec, task)
        assert executor["container"]["image"] == (gpu_image if task in GPU_STEPS else IMAGE), task


def test_gpu_steps_request_gpus_and_land_on_the_gpu_pool(tmp_path):
    spec, platform = compile_spec(tmp_path, gpu_node_selector="pool=gpu-t4")
    for task in BEFORE_GATE | AFTER_GATE:
        label, executor = executor_of(spec, task)
        resources = executor["container"]["resources"]
        if task in GPU_STEPS:
            assert resources["accelerator"]["resourceType"] == "nvidia.com/gpu"
            assert "resourceCount" in resources["accelerator"]  # the num_gpus parameter
            assert resources["resourceCpuRequest"] == "4"
            assert resources["resourceMemoryRequest"] == "16Gi"
            assert platform[label]["nodeSelector"]["labels"] == {"pool": "gpu-t4"}
            (toleration,) = platform[label]["tolerations"]
            assert toleration == {
                "key": "nvidia.com/gpu",
                "operator": "Exists",
                "effect": "NoSchedule",
            }
        else:
            assert "accelerator" not in resources
            assert resources["resourceCpuRequest"] == "2"
            assert label not in platform


def test_no_node_selector_or_toleration_when_switched_off(tmp_path):
    _, platform = compile_spec(tmp_path, gpu_node_selector="none", gpu_toleration="none")
    assert platform == {}


def test_caching_is_keyed_by_the_data_and_downloads_retry(tmp_path):
    spec, _ = compile_spec(tmp_path)
    root = spec.root.dag.tasks
    for name in BEFORE_GATE - {"fingerprint-inputs"}:
        assert root[name].caching_options.enable_cache, name
    # The fingerprints of the data and of the model in production are taken every run, and
    # the cache keys of convert and of the gate include them.
    assert not root["fingerprint-inputs"].caching_options.enable_cache
    for task, parameter, output in (
        ("convert-dataset", "source_fingerprint", "source"),
        ("gate-model", "baseline_fingerprint", "baseline"),
    ):
        given = root[task].inputs.parameters[parameter].task_output_parameter
        assert (given.producer_task, given.output_parameter_key) == ("fingerprint-inputs", output)
    # Promoting looks at the registry, which may have moved since: never from the cache.
    (condition,) = set(root) - BEFORE_GATE
    inner = spec.components[root[condition].component_ref.name].dag.tasks
    assert not inner["promote-model"].caching_options.enable_cache
    assert all(inner[name].caching_options.enable_cache for name in AFTER_GATE - {"promote-model"})
    retry = root["convert-dataset"].retry_policy
    assert retry.max_retry_count == 3
    assert retry.backoff_duration.seconds == 60 and retry.backoff_factor == 2
    assert not root["train-model"].HasField("retry_policy")


def test_typed_artifacts_and_parameters(tmp_path):
    spec, _ = compile_spec(tmp_path)
    components = spec.components
    outputs = components["comp-evaluate-model"].output_definitions.artifacts
    assert outputs["metrics"].artifact_type.schema_title == "system.Metrics"
    assert outputs["confusion_matrix"].artifact_type.schema_title == "system.ClassificationMetrics"
    assert outputs["report"].artifact_type.schema_title == "system.HTML"
    gate = components["comp-gate-model"].output_definitions
    assert gate.artifacts["decision"].artifact_type.schema_title == "system.Markdown"
    dataset = components["comp-convert-dataset"].output_definitions.artifacts["dataset"]
    assert dataset.artifact_type.schema_title == "system.Dataset"
    model = components["comp-train-model"].output_definitions.artifacts["model"]
    assert model.artifact_type.schema_title == "system.Model"
    parameters = spec.root.input_definitions.parameters
    assert parameters["dataset_name"].default_value.string_value == "digits"
    assert parameters["num_epochs"].default_value.number_value == 15
    assert parameters["accuracy_threshold"].default_value.number_value == 0.97
    assert parameters["num_gpus"].default_value.number_value == 1
