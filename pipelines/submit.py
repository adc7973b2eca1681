"""Submits the compiled pipeline to a Kubeflow Pipelines cluster through ``kfp.Client``:
uploads it as a new version of the ``kubeslim-image-classifier`` pipeline (creating the
pipeline the first time), then starts a run, or a recurring run on a cron schedule, in an
experiment.

The token comes from the environment (``KFP_TOKEN``), never from the command line, and is
never printed. An unreachable or refusing host ends with a one-line error.
"""

import json
import logging
import os
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeslim.errors import KubeslimError
from kubeslim.options import Options, option

TOKEN_ENV = "KFP_TOKEN"
HOST_ENV = "KF_PIPELINES_ENDPOINT"
HEALTHZ = "/apis/v2beta1/healthz"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """What a submission created on the cluster."""

    pipeline_id: str
    version_id: str
    experiment_id: str
    run_id: str | None
    recurring_run_id: str | None
    url: str


def _check_reachable(host: str, token: str | None, timeout: float) -> None:
    """One quick request before ``kfp.Client``, which retries an unreachable host for half a
    minute and then reports a timeout."""
    request = urllib.request.Request(host.rstrip("/") + HEALTHZ)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise KubeslimError(
                f"{host} refused the request (HTTP {e.code}): set {TOKEN_ENV} to a valid token"
            ) from None
        raise KubeslimError(f"{host} answered HTTP {e.code} {e.reason} to {HEALTHZ}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise KubeslimError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None


def cron_schedule(expression: str) -> str:
    """KFP's six-field cron (seconds first) from a five- or six-field expression.

    Raises:
      KubeslimError: it has another number of fields.
    """
    fields = expression.split()
    if len(fields) == 5:
        return " ".join(["0", *fields])
    if len(fields) == 6:
        return " ".join(fields)
    raise KubeslimError(
        f"--schedule {expression!r}: give a cron expression of 5 fields (minute hour day "
        "month weekday) or 6 (seconds first)"
    )


def _cron_problem(expression: str) -> str | None:
    if not expression:
        return None
    try:
        cron_schedule(expression)
    except KubeslimError:
        return "be a cron expression of 5 fields (minute hour day month weekday) or 6"
    return None


@dataclass(frozen=True)
class SubmitOptions(Options):
    """Where and how ``kubeslim submit`` starts a pipeline."""

    host: str = option("", f'Kubeflow Pipelines API address; "" is ${HOST_ENV}')
    version_name: str = option("", 'the pipeline version\'s name; "" is the time')
    experiment: str = option(
        "kubeslim", "the experiment", check=lambda v: None if v else "be given"
    )
    run_name: str = option("", "the run's name; \"\" is the pipeline's and the version's")
    schedule: str = option(
        "",
        "a cron expression (5 fields, or 6 with seconds first): a recurring run instead",
        check=_cron_problem,
    )


def submit_pipeline(
    package_path: str | Path,
    options: SubmitOptions,
    parameters: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    timeout: float = 10,
) -> Submission:
    """Uploads ``package_path`` as a new version and starts a run (or, with a schedule, a
    recurring run) with ``parameters``, as ``options`` say.

    Raises:
      KubeslimError: no host, the package is missing, the host cannot be reached or refuses,
        or the API answers an error.
    """
    import time

    import kfp
    import kfp_server_api

    host = options.host or os.environ.get(HOST_ENV, "")
    if not host:
        raise KubeslimError(f"--host not given and {HOST_ENV} not set")
    version_name = options.version_name or time.strftime("%Y%m%d-%H%M%S")
    experiment_name, schedule = options.experiment, options.schedule
    package_path = Path(package_path)
    if not package_path.is_file():
        raise KubeslimError(f"{package_path} not found: run `make compile-pipeline` first")
    name, description = _pipeline_info(package_path)
    cron = cron_schedule(schedule) if schedule else None
    _check_reachable(host, token, timeout)
    run_name = options.run_name or f"{name} {version_name}"
    try:
        with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later"
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=host, existing_token=token)
        pipeline_id = client.get_pipeline_id(name)
        if pipeline_id is None:
            pipeline_id = client.upload_pipeline(
                str(package_path), name, description=description
            ).pipeline_id
        version = client.upload_pipeline_version(
            str(package_path), version_name, pipeline_id=pipeline_id
        )
        experiment = client.create_experiment(experiment_name)
        common = {
            "experiment_id": experiment.experiment_id,
            "job_name": run_name,
            "params": parameters or {},
            "pipeline_id": pipeline_id,
            "version_id": version.pipeline_version_id,
        }
        run_id = recurring_run_id = None
        if cron:
            recurring_run_id = client.create_recurring_run(
                cron_expression=cron, **common
            ).recurring_run_id
            url = f"{host.rstrip('/')}/#/recurringrun/details/{recurring_run_id}"
        else:
            run_id = client.run_pipeline(**common).run_id
            url = f"{host.rstrip('/')}/#/runs/details/{run_id}"
    except kfp_server_api.ApiException as e:
        detail = _api_error_message(e)
        raise KubeslimError(f"{host} answered HTTP {e.status}: {detail}") from None
    log.info("submitted %s version %s to %s", name, version_name, host)
    return Submission(
        pipeline_id=pipeline_id,
        version_id=version.pipeline_version_id,
        experiment_id=experiment.experiment_id,
        run_id=run_id,
        recurring_run_id=recurring_run_id,
        url=url,
    )


def _pipeline_info(package_path: Path) -> tuple[str, str]:
    """The compiled pipeline's name and description.

    Raises:
      KubeslimError: the file is not a compiled pipeline.
    """
    import yaml

    try:
        # The pipeline spec, then the Kubernetes platform spec: two YAML documents.
        info = next(yaml.safe_load_all(package_path.read_text()))["pipelineInfo"]
        return info["name"], info.get("description", "")
    except (yaml.YAMLError, TypeError, KeyError, StopIteration):
        raise KubeslimError(
            f"{package_path} is not a compiled pipeline (no pipelineInfo): run "
            "`kubeslim compile-pipeline` to make one"
        ) from None


def _api_error_message(error: Exception) -> str:
    body = getattr(error, "body", None) or ""
    try:
        return json.loads(body).get("message") or str(getattr(error, "reason", ""))
    except (ValueError, AttributeError):
        return str(getattr(error, "reason", "")) or body[:200]
