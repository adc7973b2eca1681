"""Submits the compiled pipeline to a Kubeflow Pipelines cluster through ``kfp.Client``:
uploads it as a new version of the ``kubeslim-image-classifier`` pipeline (creating the
pipeline the first time), then starts a run, or a recurring run on a cron schedule, in an
experiment.

The token comes from the environment (``KFP_TOKEN``), never from the command line; it is
sent only to ``--host`` (redirects are not followed) and never printed (answers are redacted
before they are shown). An unreachable or refusing host, a browser login page, a version name
the pipeline already has, or a multi-user cluster without ``--namespace`` ends with a
one-line error.
"""

import json
import logging
import os
import re
import secrets
import tempfile
import urllib.error
import urllib.parse
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
    version_name: str
    experiment_id: str
    run_id: str | None
    recurring_run_id: str | None
    url: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are answers, not followed: the token goes to ``--host`` only."""

    def redirect_request(self, *args, **kwargs) -> None:
        return None


def redact(text: str, token: str | None) -> str:
    """``text`` with the token, and any bearer credential, replaced by ``***``."""
    if token:
        text = text.replace(token, "***")
    return re.sub(r"(?i)(bearer\s+)[^\s\"',;]+", r"\1***", text)


def _login_hint(host: str, where: str) -> str:
    return (
        f"{host} answered with a login page ({where}): the endpoint wants a browser login. "
        f"Pass a token instead: set {TOKEN_ENV} (e.g. `kubectl create token SERVICE_ACCOUNT "
        "-n NAMESPACE --audience pipelines.kubeflow.org`), or use the in-cluster address "
        "(http://ml-pipeline.kubeflow:8888)"
    )


def _check_reachable(host: str, token: str | None, timeout: float) -> dict:
    """One quick request before ``kfp.Client``, which retries an unreachable host for half a
    minute and then reports a timeout.

    Returns:
      The health answer (``multi_user`` says whether runs need a namespace).
    """
    request = urllib.request.Request(host.rstrip("/") + HEALTHZ)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=timeout) as answer:
            body = answer.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        if 300 <= e.code < 400:
            location = e.headers.get("Location", "")
            target = urllib.parse.urlsplit(urllib.parse.urljoin(host, location))
            raise KubeslimError(
                _login_hint(
                    host, f"HTTP {e.code} to {target.scheme}://{target.netloc}{target.path}"
                )
            ) from None
        if e.code in (401, 403):
            raise KubeslimError(
                f"{host} refused the request (HTTP {e.code}): set {TOKEN_ENV} to a valid token"
            ) from None
        raise KubeslimError(f"{host} answered HTTP {e.code} {e.reason} to {HEALTHZ}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise KubeslimError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None
    try:
        health = json.loads(body)
    except ValueError:
        health = None
    if not isinstance(health, dict):
        if "<html" in body[:1000].lower():
            raise KubeslimError(_login_hint(host, f"HTML at {HEALTHZ}"))
        raise KubeslimError(f"{host} is not a Kubeflow Pipelines API: {HEALTHZ} is not JSON")
    return health


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
    version_name: str = option(
        "",
        'the pipeline version\'s name, new to the pipeline (KFP refuses a name twice); "" '
        "is the time and a random suffix",
    )
    experiment: str = option(
        "kubeslim", "the experiment", check=lambda v: None if v else "be given"
    )
    namespace: str = option(
        "",
        "the Kubeflow profile namespace of the experiment and its runs (multi-user Kubeflow "
        'needs one); "" is none',
    )
    cache: bool = option(
        True,
        "reuse the results of steps whose inputs are unchanged; --no-cache uploads the "
        "version with every step's caching off, so everything runs again",
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
      KubeslimError: no host, the package is missing, the host cannot be reached, refuses or
        wants a browser login, the version name is taken, a multi-user cluster was given no
        namespace, or the API answers an error (redacted).
    """
    import time

    host = options.host or os.environ.get(HOST_ENV, "")
    if not host:
        raise KubeslimError(f"--host not given and {HOST_ENV} not set")
    version_name = options.version_name or (
        f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    )
    package_path = Path(package_path)
    if not package_path.is_file():
        raise KubeslimError(f"{package_path} not found: run `make compile-pipeline` first")
    name, description = _pipeline_info(package_path)
    cron = cron_schedule(options.schedule) if options.schedule else None
    health = _check_reachable(host, token, timeout)
    if health.get("multi_user") and not options.namespace:
        raise KubeslimError(
            f"{host} is a multi-user Kubeflow: give --namespace (your profile's namespace)"
        )
    import kfp  # late: the checks above answer without it
    import kfp_server_api

    with tempfile.TemporaryDirectory() as tmp:
        if not options.cache:
            package_path = _without_caching(package_path, Path(tmp) / package_path.name)
        run_name = options.run_name or f"{name} {version_name}"
        namespace = options.namespace or None
        try:
            with warnings.catch_warnings():  # "only works with KFP v2.0.0-beta.2 and later"
                warnings.simplefilter("ignore", FutureWarning)
                client = kfp.Client(host=host, existing_token=token, namespace=namespace)
            pipeline_id = client.get_pipeline_id(name)
            if pipeline_id is None:
                pipeline_id = client.upload_pipeline(
                    str(package_path), name, description=description
                ).pipeline_id
            try:
                version = client.upload_pipeline_version(
                    str(package_path), version_name, pipeline_id=pipeline_id
                )
            except kfp_server_api.ApiException as e:
                if e.status == 409:
                    raise KubeslimError(
                        f"pipeline {name} already has a version named {version_name!r}: KFP "
                        "requires new names; give another --version_name (the retraining workflow "
                        "uses the commit and the run's id)"
                    ) from None
                raise
            experiment = client.create_experiment(options.experiment, namespace=namespace)
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
            detail = redact(_api_error_message(e), token)
            raise KubeslimError(f"{host} answered HTTP {e.status}: {detail}") from None
        log.info("submitted %s version %s to %s", name, version_name, host)
        return Submission(
            pipeline_id=pipeline_id,
            version_id=version.pipeline_version_id,
            version_name=version_name,
            experiment_id=experiment.experiment_id,
            run_id=run_id,
            recurring_run_id=recurring_run_id,
            url=url,
        )


def _without_caching(package_path: Path, copy: Path) -> Path:
    """A copy of the compiled pipeline with every task's caching off (what ``kfp.Client``
    does for a run from a package; a run of an uploaded version takes the version's)."""
    import yaml

    spec, *platform = yaml.safe_load_all(package_path.read_text())
    dags = [spec["root"], *spec.get("components", {}).values()]
    for dag in dags:
        for task in dag.get("dag", {}).get("tasks", {}).values():
            task["cachingOptions"] = {"enableCache": False}
    copy.write_text(yaml.safe_dump_all([spec, *platform], sort_keys=False))
    return copy


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
