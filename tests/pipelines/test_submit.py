"""`kubeslim submit` against a fake Kubeflow Pipelines API on 127.0.0.1 held to the real API's
rules (``fake_kfp``): what it uploads, the run it starts, and clear errors for a refusing or
unreachable host, a browser login, a taken version name and a multi-user cluster; the token
goes nowhere else and is never shown."""

import socket

import pytest
import yaml

from kubeslim.cli import main
from kubeslim.errors import KubeslimError
from kubeslim.pipelines.kubeflow_runner import compile_pipeline
from kubeslim.pipelines.submit import SubmitOptions, cron_schedule, submit_pipeline

from .fake_kfp import fake_kfp_server


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return compile_pipeline(tmp_path_factory.mktemp("build") / "pipeline.yaml")


def test_submit_uploads_the_spec_and_starts_a_run_with_the_parameters(package, monkeypatch, capsys):
    monkeypatch.setenv("KFP_TOKEN", "s3cret-token")
    with fake_kfp_server(token="s3cret-token") as kfp:
        argv = ["submit", "--host", kfp.url, "--package", str(package), "--version_name", "abc123"]
        argv += ["--param", "num_epochs=3", "--param", "model_name=cifarnet"]
        assert main(argv) == 0
        out = capsys.readouterr()
        (upload,) = kfp.calls("POST", "/pipelines/upload")
        assert upload.query["name"] == "kubeslim-image-classifier"
        assert list(yaml.safe_load_all(upload.uploaded_file())) == list(
            yaml.safe_load_all(package.read_text())
        )
        (version,) = kfp.calls("POST", "/pipelines/upload_version")
        assert version.query["name"] == "abc123"
        (version_id,) = (
            i for i, v in kfp.versions.items() if v["version"].display_name == "abc123"
        )
        assert list(yaml.safe_load_all(version.uploaded_file())) == list(
            yaml.safe_load_all(package.read_text())
        )
        (run,) = kfp.calls("POST", "/runs")
        body = run.json()
        assert body["runtime_config"]["parameters"] == {"num_epochs": 3, "model_name": "cifarnet"}
        assert body["pipeline_version_reference"]["pipeline_version_id"] == version_id
        assert body["experiment_id"].startswith("experiment-")
        assert all(r.headers["authorization"] == "Bearer s3cret-token" for r in kfp.requests)
    assert "s3cret-token" not in out.out + out.err
    assert f"{kfp.url}/#/runs/details/run-" in out.out


def test_a_second_submit_adds_a_version_to_the_same_pipeline_and_experiment(package):
    with fake_kfp_server() as kfp:
        first = submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="v1"))
        second = submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="v2"))
        assert len(kfp.calls("POST", "/pipelines/upload")) == 1
        assert len(kfp.calls("POST", "/experiments")) == 1
        assert first.pipeline_id == second.pipeline_id
        assert first.experiment_id == second.experiment_id
        assert first.version_id != second.version_id


def test_schedule_creates_a_recurring_run(package):
    with fake_kfp_server() as kfp:
        result = submit_pipeline(
            package, SubmitOptions(host=kfp.url, version_name="v1", schedule="0 3 * * *")
        )
        assert result.run_id is None and result.recurring_run_id.startswith("recurringrun-")
        (recurring,) = kfp.calls("POST", "/recurringruns")
        assert recurring.json()["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"
        assert not kfp.calls("POST", "/runs")


def test_a_refused_token_and_an_unreachable_host_give_clear_errors(package, monkeypatch):
    with fake_kfp_server(token="right") as kfp:
        with pytest.raises(KubeslimError, match="refused the request \\(HTTP 401\\).*KFP_TOKEN"):
            submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="v1"), token="wrong")
        assert not kfp.calls("POST", "/pipelines/upload")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(
        KubeslimError, match=f"cannot reach Kubeflow Pipelines at http://127.0.0.1:{port}"
    ):
        submit_pipeline(package, SubmitOptions(host=f"http://127.0.0.1:{port}", version_name="v1"))


def test_bad_schedule_and_missing_package_are_named(tmp_path):
    with pytest.raises(KubeslimError, match="--schedule 'daily'"):
        cron_schedule("daily")
    with pytest.raises(KubeslimError, match="make compile-pipeline"):
        submit_pipeline(
            tmp_path / "none.yaml", SubmitOptions(host="http://127.0.0.1:9", version_name="v")
        )


def test_a_version_name_twice_is_refused_and_default_names_are_new(package):
    with fake_kfp_server() as kfp:
        submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="abc123"))
        with pytest.raises(KubeslimError, match="already has a version named 'abc123'"):
            submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="abc123"))
        first = submit_pipeline(package, SubmitOptions(host=kfp.url))
        second = submit_pipeline(package, SubmitOptions(host=kfp.url))
        assert first.version_id != second.version_id
        assert len(kfp.runs) == 3


def test_a_multi_user_cluster_needs_a_namespace(package):
    with fake_kfp_server(multi_user=True) as kfp:
        with pytest.raises(KubeslimError, match="multi-user Kubeflow: give --namespace"):
            submit_pipeline(package, SubmitOptions(host=kfp.url))
        assert not kfp.calls("POST", "/pipelines/upload")
        submit_pipeline(package, SubmitOptions(host=kfp.url, namespace="team-a"))
        (experiment,) = kfp.experiments.values()
        assert experiment.namespace == "team-a"
        assert len(kfp.runs) == 1


def test_a_login_redirect_is_one_line_and_the_token_goes_nowhere_else(package, monkeypatch, capsys):
    monkeypatch.setenv("KFP_TOKEN", "s3cret-token")
    with fake_kfp_server() as login, fake_kfp_server() as kfp:
        kfp.login_redirect = f"{login.url}/dex/auth?client_id=kubeflow-oidc-authservice"
        argv = ["submit", "--host", kfp.url, "--package", str(package)]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "wants a browser login" in err and "KFP_TOKEN" in err
        assert f"HTTP 302 to {login.url}/dex/auth" in err
        assert not login.requests  # nothing followed the redirect, so no token went there
    assert "s3cret-token" not in err


def test_error_answers_are_shown_without_the_token(package):
    with fake_kfp_server(token="s3cret-token", echo_headers=True) as kfp:
        with pytest.raises(KubeslimError, match="has no parameters") as raised:
            submit_pipeline(
                package, SubmitOptions(host=kfp.url), {"nosuch": 1}, token="s3cret-token"
            )
        assert "s3cret-token" not in str(raised.value)
        assert "Bearer ***" in str(raised.value)


def test_no_cache_uploads_a_version_with_every_steps_caching_off(package):
    with fake_kfp_server() as kfp:
        submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="cached"))
        submit_pipeline(package, SubmitOptions(host=kfp.url, version_name="fresh", cache=False))
        caching = {}
        for stored in kfp.versions.values():
            spec = stored["spec"]
            caching[stored["version"].display_name] = {
                name: task.get("cachingOptions", {}).get("enableCache")
                for dag in [spec["root"], *spec["components"].values()]
                for name, task in dag.get("dag", {}).get("tasks", {}).items()
            }
        steps = {name for name, enabled in caching["cached"].items() if enabled}
        assert {"convert-dataset", "train-model", "export-model"} <= steps
        assert {caching["fresh"][name] for name in steps} == {False}


def test_the_retraining_workflows_own_command_twice_gives_two_runs(package, tmp_path):
    """The submit step of ops/github/workflows/retrain.yml, run as GitHub runs it (bash, its
    environment), twice for the same commit: a weekly re-run is a new version and a new run
    with the checked-in parameters; only the very same run and attempt is refused."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    workflow = yaml.safe_load((root / "ops/github/workflows/retrain.yml").read_text())
    step = next(
        s for s in workflow["jobs"]["submit"]["steps"] if "kubeslim submit" in s.get("run", "")
    )
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "build").mkdir()
    (tmp_path / "build/kubeslim-image-classifier.yaml").write_text(package.read_text())
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops/retrain-params.yaml").write_text(
        (root / "ops/retrain-params.yaml").read_text()
    )

    def run_step(kfp, run_id: str, attempt: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "KF_PIPELINES_ENDPOINT": kfp.url,
            "KFP_TOKEN": "s3cret-token",
            "KFP_NAMESPACE": "team-a",
            "MODEL_REGISTRY": "gs://bucket/models/flowers",
            "CACHE": "--cache",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_RUN_ID": run_id,
            "GITHUB_RUN_ATTEMPT": attempt,
            "GITHUB_EVENT_NAME": "schedule",
        }
        return subprocess.run(
            ["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    with fake_kfp_server(token="s3cret-token", multi_user=True) as kfp:
        for run_id, attempt in (("101", "1"), ("202", "1"), ("202", "2")):
            done = run_step(kfp, run_id, attempt)
            assert done.returncode == 0, done.stderr
        again = run_step(kfp, "202", "2")
        assert again.returncode == 2 and "already has a version named" in again.stderr
        names = sorted(v["version"].display_name for v in kfp.versions.values())
        assert "0123456789ab-101-1" in names and "0123456789ab-202-2" in names
        assert len(kfp.runs) == 3
        parameters = [run.runtime_config.parameters for run in kfp.runs.values()]
        expected = yaml.safe_load((root / "ops/retrain-params.yaml").read_text())
        assert all(
            p == {**expected, "model_registry": "gs://bucket/models/flowers"} for p in parameters
        )
        assert {e.namespace for e in kfp.experiments.values()} == {"team-a"}
    assert "s3cret-token" not in done.stdout + done.stderr + again.stderr
