"""Runs a pipeline on this machine with ``kfp.local``: every task a subprocess of this Python
environment (``SubprocessRunner(use_venv=False)``), or a container of the component image
(``DockerRunner``), as a cluster runs it. Either way it is the same component code."""

import json
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp import local

from kubeslim.errors import KubeslimError
from kubeslim.fileio import writable_location
from kubeslim.model_spec import METRICS_FILE
from kubeslim.pipelines.cluster import LOCAL_RUNNERS, ClusterOptions
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


def _docker_runner(root: Path) -> "local.DockerRunner":
    """Containers that can write the pipeline root, which ``kfp.local`` mounts into each.

    The image runs as a non-root user in group 0 (``ops/Dockerfile``): run by root here, the
    pipeline root and the run's folders are made group-writable for it; run by another user,
    the containers run as that user, so what they write is the user's.

    Raises:
      KubeslimError: the docker package (``pip install 'kubeslim[docker]'``) is missing.
    """
    try:
        import docker  # noqa: F401  (kfp.local imports it late, with a less helpful error)
    except ImportError:
        raise KubeslimError("--runner docker needs: pip install 'kubeslim[docker]'") from None
    if os.getuid() == 0:
        root.chmod(root.stat().st_mode | stat.S_IRWXG)
        return local.DockerRunner()
    return local.DockerRunner(user=f"{os.getuid()}:{os.getgid()}")


def run_local(
    pipeline_root: str | Path = DEFAULT_PIPELINE_ROOT,
    pipeline: str = DEFAULT_PIPELINE,
    *,
    runner: str = "subprocess",
    image: str | None = None,
    **params: Any,
) -> LocalRun:
    """Runs a registered pipeline (``pipeline_factory.PIPELINES``) locally.

    Args:
      pipeline_root: where runs are written, one directory per run.
      pipeline: the pipeline's registered name.
      runner: ``subprocess`` runs every task in this Python environment; ``docker`` runs it
        in a container of ``image``, as a cluster does (a Docker engine must be running).
      image: the component image, for the ``docker`` runner.
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
    if runner not in LOCAL_RUNNERS:
        raise KubeslimError(f"--runner {runner!r}: one of {', '.join(LOCAL_RUNNERS)}")
    if (runner == "docker") != (image is not None):
        raise KubeslimError("--image goes with --runner docker, and --runner docker needs it")
    root = writable_location(pipeline_root, "--pipeline_root")
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    local.init(
        runner=_docker_runner(root)
        if runner == "docker"
        else local.SubprocessRunner(use_venv=False),
        pipeline_root=str(root),
        raise_on_error=True,
    )
    built = build_pipeline(pipeline, ClusterOptions(image=image) if image else None)
    name = definition.name
    earlier = set(root.glob(f"{name}-*"))
    with warnings.catch_warnings():
        # The tasks name the project's image; locally this environment stands in for it, and
        # the cluster-only settings (display names, later resources) do not apply.
        warnings.filterwarnings("ignore", message=".*non-Python base image.*")
        warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
        # What this process creates under the root (a run's folders), the containers' group
        # may write into as well.
        umask = os.umask(0o002) if runner == "docker" else None
        try:
            built(**params)
        except RuntimeError as e:
            raise KubeslimError(f"local pipeline run failed: {e}") from None
        finally:
            if umask is not None:
                os.umask(umask)
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
