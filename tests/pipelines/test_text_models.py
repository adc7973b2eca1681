"""The text-model pipelines: each compiles to convert -> vocabulary -> train -> evaluate ->
export with typed artifacts and the image pipeline's GPU placement; the translation pipeline
runs end to end with kfp.local on its embedded corpus (the word2vec and language-model
components' library functions are tested in tests/components/text)."""

import pytest
from google.protobuf import json_format

from kubeslim.pipelines.local_runner import run_local

from .specs import compile_spec, executor_of

MODELS = {
    "word2vec": "word2vec",
    "language_model": "language-model",
    "translation": "translation",
}


@pytest.mark.parametrize("pipeline", MODELS)
def test_each_text_pipeline_is_a_placed_typed_dag(tmp_path, pipeline):
    spec, platform = compile_spec(tmp_path, pipeline)
    model = MODELS[pipeline]
    train, evaluate, export = f"train-{model}", f"evaluate-{model}", f"export-{model}"
    root = spec.root.dag.tasks
    assert set(root) == {"convert-text", "publish-vocabulary", train, evaluate, export}
    assert set(root["publish-vocabulary"].dependent_tasks) == {"convert-text"}
    assert set(root[train].dependent_tasks) == {"convert-text"}
    assert set(root[evaluate].dependent_tasks) == {"convert-text", train}
    assert set(root[export].dependent_tasks) == {train}
    assert root["convert-text"].retry_policy.max_retry_count == 3
    for task in root:
        label, executor = executor_of(spec, task)
        on_gpu = "accelerator" in executor["container"]["resources"]
        assert on_gpu == (task in (train, evaluate, export)), task
        assert (label in platform) == on_gpu
        assert root[task].caching_options.enable_cache
    outputs = {
        name: json_format.MessageToDict(c.output_definitions) for name, c in spec.components.items()
    }
    types = {
        (component, artifact): definition["artifactType"]["schemaTitle"]
        for component, out in outputs.items()
        for artifact, definition in out.get("artifacts", {}).items()
    }
    assert types[("comp-convert-text", "corpus")] == "system.Dataset"
    assert types[("comp-publish-vocabulary", "vocabulary")] == "system.Artifact"
    assert types[("comp-publish-vocabulary", "summary")] == "system.Markdown"
    assert types[(f"comp-{train}", "model")] == "system.Model"
    assert types[(f"comp-{evaluate}", "metrics")] == "system.Metrics"
    assert types[(f"comp-{export}", "saved_model")] == "system.Model"


def test_translation_pipeline_runs_locally_to_the_bar(tmp_path):
    run = run_local(tmp_path / "runs", "translation", cache=True, config_overrides="epochs=2")
    assert run.metrics["sentences"] == 1_000
    assert run.metrics["exact_match"] >= 0.9 and run.metrics["bleu"] >= 90
    translations = (run.outputs["evaluate-translation/evaluation"] / "translations.txt").read_text()
    assert len(translations.splitlines()) == 1_000
    assert (run.outputs["export-translation/saved_model"] / "1" / "saved_model.pb").is_file()
    summary = run.outputs["publish-vocabulary/summary"].read_text()
    assert "| test | target | 4,505 | 0 (0.00%) |" in summary
    vocabulary = run.outputs["publish-vocabulary/vocabulary"]
    assert (vocabulary / "vocabulary_target.txt").read_text().startswith("mille\n")
    assert (vocabulary / "transform" / "transform_fn" / "saved_model.pb").is_file()
    # Run again with nothing changed, every task comes from the cache: nothing runs, and the
    # outputs are the first run's.
    again = run_local(tmp_path / "runs", "translation", cache=True, config_overrides="epochs=2")
    assert again.run_dir != run.run_dir and {t.status for t in again.tasks} == {"CACHED"}
    assert [t.name for t in again.tasks] == [t.name for t in run.tasks]
    assert again.outputs == run.outputs and again.metrics == run.metrics
    assert (again.run_dir / "kfp-local.log").is_file()
