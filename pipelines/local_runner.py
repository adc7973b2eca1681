"""Runs a pipeline on this machine with ``kfp.local``: every task a subprocess of this Python
environment (``SubprocessRunner(use_venv=False)``), or a container of the component image
(``DockerRunner``), as a cluster runs it. Either way it is the same component code.

With ``cache``, ``kfp.local`` keys each task on its component, image, command and inputs,
as Kubeflow Pipelines does, so a run whose data did not change reuses the outputs of the run
that computed them; the key does not see the code, so a changed component needs a run
without the cache."""

import json
import logging
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kfp import local

from kubeslim.errors import KubeslimError
from kubeslim.fileio import writable_location
from kubeslim.model_spec import METRICS_FILE
from kubeslim.pipelines.cluster import LOCAL_RUNNERS, ClusterOptions
from kubeslim.pipelines.pipeline_factory import DEFAULT_PIPELINE, build_pipeline, get_pipeline
from kubeslim.pipelines.task_log import TaskResult, last_error, strip_ansi, task_log

DEFAULT_PIPELINE_ROOT = Path("runs")
_EXECUTOR_OUTPUT = "executor_output.json"
LOG_FILE = "kfp-local.log"
CACHE_DIR = ".kfp_cache"  # under the pipeline root, where kfp.local keeps its cache entries
REPORT_FILE = "report.html"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalRun:
    """Where a local run put its outputs, and its test metrics.

    Attributes:
      run_dir: the run's directory under the pipeline root.
      outputs: ``task/output`` -> path of each output artifact (a cached task's are in the
        run that computed them).
      metrics: the evaluation metrics (``metrics.json`` of the evaluate task's
        ``evaluation`` output).
      parameters: every parameter's value, defaults included.
      tasks: each task's status and seconds, in the order they ended.
      log: every line ``kfp.local`` and the tasks printed.
      gate: the quality gate's verdict, for a pipeline with one.
      report: the HTML report, for a pipeline with one.
      promoted: the model registry version holding the run's model, when its promote step
        ran (the existing version when the registry already had that model).
    """

    run_dir: Path
    outputs: dict[str, Path]
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    tasks: list[TaskResult]
    log: Path
    gate: str | None
    report: Path | None
    promoted: str | None


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


@contextmanager
def _tasks_temp_dir() -> Iterator[None]:
    """Gives the task subprocesses a temporary folder of their own, removed after the run.

    Each lightweight component writes its code into a ``mktemp -d`` folder it never removes
    (in a container it goes with the container); run as subprocesses here, the folders would
    pile up in the system's temporary folder, a few dozen a run.
    """
    scratch = tempfile.mkdtemp(prefix="kubeslim-run-local-")
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = scratch
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous
        shutil.rmtree(scratch, ignore_errors=True)


def run_local(
    pipeline_root: str | Path = DEFAULT_PIPELINE_ROOT,
    pipeline: str = DEFAULT_PIPELINE,
    *,
    runner: str = "subprocess",
    image: str | None = None,
    verbose: bool = False,
    cache: bool = False,
    **params: Any,
) -> LocalRun:
    """Runs a registered pipeline (``pipeline_factory.PIPELINES``) locally.

    Args:
      pipeline_root: where runs are written, one directory per run.
      pipeline: the pipeline's registered name.
      runner: ``subprocess`` runs every task in this Python environment; ``docker`` runs it
        in a container of ``image``, as a cluster does (a Docker engine must be running).
      image: the component image, for the ``docker`` runner.
      verbose: show everything ``kfp.local`` prints, not a line per task (it is all in the
        run's ``kfp-local.log`` either way).
      cache: reuse the outputs of an earlier run under ``pipeline_root`` for every task
        whose inputs are unchanged (a task's key does not include the code it runs).
      **params: pipeline parameters (``kubeslim run-local --help`` lists them); the
        pipeline's defaults for the others.

    Returns:
      The run's outputs and metrics.

    Raises:
      KubeslimError: an unknown parameter or a bad value (before anything runs), or a task
        failed (its log is in the run's ``kfp-local.log``, named in the message).
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
        enable_caching=cache,
        cache_root=str(root / CACHE_DIR),
    )
    # No retries here: a cluster retries a download with back-off over minutes, but a local
    # run's failure (a bad folder, a typo in a mirror) should be said at once.
    placement = {"image": image} if image else {}
    built = build_pipeline(pipeline, ClusterOptions(download_retries=0, **placement))
    name = definition.name
    earlier = set(root.glob(f"{name}-*"))
    descriptor, log_file = tempfile.mkstemp(prefix=f".{name}-", suffix=".log", dir=root)
    os.close(descriptor)
    log_file = Path(log_file)
    tasks_temp = _tasks_temp_dir() if runner == "subprocess" else nullcontext()
    with warnings.catch_warnings(), task_log(log_file, verbose) as log, tasks_temp:
        # The tasks name the project's image; locally this environment stands in for it, and
        # the cluster-only settings (display names, later resources) do not apply.
        warnings.filterwarnings("ignore", message=".*non-Python base image.*")
        warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
        # What this process creates under the root (a run's folders), the containers' group
        # may write into as well.
        umask = os.umask(0o002) if runner == "docker" else None
        failure = None
        try:
            built(**params)
        except RuntimeError as e:
            failure = str(e)
        finally:
            if umask is not None:
                os.umask(umask)
    new_runs = set(root.glob(f"{name}-*")) - earlier
    run_dir = next(iter(new_runs), None)
    if run_dir is None and failure is None:  # every task came from the cache
        run_dir = root / f"{name}-{datetime.now():%Y-%m-%d-%H-%M-%S-%f}"
        run_dir.mkdir()
    log_path = log_file if run_dir is None else Path(shutil.move(log_file, run_dir / LOG_FILE))
    if failure is not None:
        said = last_error(log_path)
        last = f" It said: {said}" if said else ""
        raise KubeslimError(
            f"local pipeline run failed: {strip_ansi(failure).rstrip('.')}.{last} (log: {log_path})"
        )
    outputs = {
        f"{task.name}/{output.name}": output
        for task in sorted(run_dir.iterdir())
        if task.is_dir()
        for output in sorted(task.iterdir())
        if output.name != _EXECUTOR_OUTPUT
    }
    for task in log.tasks:
        if task.status == "CACHED":
            outputs.update(_cached_outputs(root / CACHE_DIR, task))
    metrics = json.loads((_output(outputs, "evaluate-", "evaluation") / METRICS_FILE).read_text())
    return LocalRun(
        run_dir=run_dir,
        outputs=outputs,
        metrics=metrics,
        parameters=values,
        tasks=log.tasks,
        log=log_path,
        gate=_gate_verdict(_output(outputs, "gate-", "decision")),
        report=_report(_output(outputs, "evaluate-", "report"), run_dir),
        promoted=_promoted(run_dir, values),
    )


def _output(outputs: dict[str, Path], task_prefix: str, name: str) -> Path | None:
    """The output ``name`` of the task whose name starts with ``task_prefix``, if it ran or
    came from the cache."""
    return next(
        (
            path
            for key, path in outputs.items()
            if key.startswith(task_prefix) and key.endswith(f"/{name}")
        ),
        None,
    )


def _cached_outputs(cache_root: Path, task: TaskResult) -> dict[str, Path]:
    """A cache hit's output artifacts, from ``kfp.local``'s cache entry (they are in the run
    that computed them)."""
    (entry,) = cache_root.glob(f"{task.cache_key}*.json")
    return {
        f"{task.name}/{name}": Path(value["uri"])
        for name, value in sorted(json.loads(entry.read_text()).items())
        if isinstance(value, dict) and "uri" in value
    }


def _promoted(run_dir: Path, values: dict[str, Any]) -> str | None:
    """``REGISTRY/N`` when the run's promote step put its model in version N (or found it
    there already)."""
    record = next(run_dir.glob(f"promote-*/{_EXECUTOR_OUTPUT}"), None)
    if record is None:
        return None
    version = json.loads(record.read_text()).get("parameterValues", {}).get("Output")
    return f"{values['model_registry'].rstrip('/')}/{version}" if version else None


def _gate_verdict(decision: Path | None) -> str | None:
    """The gate's decision, ``blessed: ...`` or ``not blessed: ...``."""
    if decision is None:
        return None
    verdict = decision.read_text().split("\n\n", 1)[-1].strip()
    return (
        verdict.replace("**Blessed**", "blessed")
        .replace("**Not blessed**: export is skipped", "not blessed, so not exported")
        .rstrip(".")
    )


def _report(report: Path | None, run_dir: Path) -> Path | None:
    """The evaluation's report as ``report.html`` in the run directory, so a browser opens
    it as a page (KFP names the artifact ``report``, without a suffix)."""
    if report is None:
        return None
    return Path(shutil.copyfile(report, run_dir / REPORT_FILE))
