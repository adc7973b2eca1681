"""Runs a pipeline on this machine with ``kfp.local``: every task a subprocess of this Python
environment (``SubprocessRunner(use_venv=False)``), the same component code a cluster runs."""

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp import local

from kubeslim.errors import KubeslimError
from kubeslim.fileio import writable_location
from kubeslim.model_spec import METRICS_FILE
from kubeslim.pipelines.pipeline_factory import DEFAULT_PIPELINE, build_pipeline, get_pipeline

DEFAULT_PIPELINE_ROOT = Path("runs")
_EXECUTOR_OUTPUT = "executor_output.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalRun:
    """Where a local run put its outputs, and its test metrics.

    Attributes:
      run_dir: the run's directory under the pipeline root.
      outputs: ``task/output`` -> path of each output artifact.
      metrics: the evaluation metrics (``metrics.json`` of the evaluate task's
        ``evaluation`` output).
      parameters: every parameter's value, defaults included.
    """

    run_dir: Path
    outputs: dict[str, Path]
    metrics: dict[str, Any]
    parameters: dict[str, Any]


def run_local(
    pipeline_root: str | Path = DEFAULT_PIPELINE_ROOT,
    pipeline: str = DEFAULT_PIPELINE,
    **params: Any,
) -> LocalRun:
    """Runs a registered pipeline (``pipeline_factory.PIPELINES``) locally.

    Args:
      pipeline_root: where runs are written, one directory per run.
      pipeline: the pipeline's registered name.
      **params: pipeline parameters (``kubeslim run-local --help`` lists them); the
        pipeline's defaults for the others.

    Returns:
      The run's outputs and metrics.

    Raises:
      KubeslimError: an unknown parameter or a bad value (before anything runs), or a task
        failed (its log is above, in the task's output).
    """
    definition = get_pipeline(pipeline)
    values = definition.check(params)
    root = writable_location(pipeline_root, "--pipeline_root")
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(root),
        raise_on_error=True,
    )
    built = build_pipeline(pipeline)
    name = definition.name
    earlier = set(root.glob(f"{name}-*"))
    with warnings.catch_warnings():
        # The tasks name the project's image; locally this environment stands in for it, and
        # the cluster-only settings (display names, later resources) do not apply.
        warnings.filterwarnings("ignore", message=".*non-Python base image.*")
        warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
        try:
            built(**params)
        except RuntimeError as e:
            raise KubeslimError(f"local pipeline run failed: {e}") from None
    (run_dir,) = set(root.glob(f"{name}-*")) - earlier
    outputs = {
        f"{task.name}/{output.name}": output
        for task in sorted(run_dir.iterdir())
        for output in sorted(task.iterdir())
        if output.name != _EXECUTOR_OUTPUT
    }
    (metrics_path,) = run_dir.glob(f"evaluate-*/evaluation/{METRICS_FILE}")
    metrics = json.loads(metrics_path.read_text())
    return LocalRun(run_dir=run_dir, outputs=outputs, metrics=metrics, parameters=values)
