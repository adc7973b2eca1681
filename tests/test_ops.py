"""The operations files: the CI retraining workflow chains test -> images -> submit, keeps
the Kubeflow credentials out of command lines, holds least privilege per job, pins its
actions and names each version anew; zizmor finds nothing in it and hadolint nothing in the
Dockerfile; the images build from the lock."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_retrain_workflow_tests_builds_then_submits_with_secrets_in_the_environment():
    workflow = yaml.safe_load((ROOT / "ops/github/workflows/retrain.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and triggers["schedule"]
    jobs = workflow["jobs"]
    assert jobs["images"]["needs"] == "test" and jobs["submit"]["needs"] == "images"
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    submit = next(s for s in jobs["submit"]["steps"] if "kubeslim submit" in s.get("run", ""))
    assert submit["env"]["KF_PIPELINES_ENDPOINT"] == "${{ secrets.KFP_HOST }}"
    assert submit["env"]["KFP_TOKEN"] == "${{ secrets.KFP_TOKEN }}"
    # A re-run of the same commit is a new version; the parameters are the checked-in file's.
    assert (
        '--version_name "${GITHUB_SHA::12}-${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}"'
        in (submit["run"])
    )
    assert "--params_file ops/retrain-params.yaml" in submit["run"]
    assert '--namespace "${KFP_NAMESPACE}"' in submit["run"]
    for job in jobs.values():
        for step in job["steps"]:
            command = step.get("run", "")
            assert "secrets." not in command and "KFP_TOKEN" not in command
            assert "${{" not in command  # expressions reach commands through env only
            assert "set -x" not in command


def test_each_job_has_least_privilege_pinned_actions_and_no_kept_credentials():
    workflow = yaml.safe_load((ROOT / "ops/github/workflows/retrain.yml").read_text())
    assert workflow["permissions"] == {}
    granted = {name: job["permissions"] for name, job in workflow["jobs"].items()}
    assert granted == {
        "test": {"contents": "read"},
        "images": {"contents": "read", "packages": "write"},
        "submit": {"contents": "read"},
    }
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_the_checked_in_parameters_are_the_pipelines():
    from kubeslim.pipelines.pipeline_factory import get_pipeline

    values = get_pipeline("image_classifier").parse_file(ROOT / "ops/retrain-params.yaml")
    assert values["dataset_name"] == "flowers"


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else shutil.which(name) or pytest.fail(f"{name} missing")


def test_zizmor_finds_nothing_in_the_workflow():
    done = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-progress",
            str(ROOT / "ops/github/workflows/retrain.yml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_finds_nothing_in_the_dockerfile():
    done = subprocess.run(
        [_tool("hadolint"), str(ROOT / "ops/Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_installs_the_runtime_lock_then_the_package_and_leaves_no_source():
    dockerfile = (ROOT / "ops/Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in dockerfile
    assert "pip install -r /opt/build/requirements-runtime.lock" in dockerfile
    assert "pip install -r /opt/build/requirements-gpu.lock" in dockerfile  # with GPU=1
    assert dockerfile.index("requirements-runtime.lock") < dockerfile.index("COPY kubeslim")
    assert "rm -rf /opt/build" in dockerfile and "WORKDIR /home/kubeslim" in dockerfile
    assert dockerfile.rstrip().endswith("USER 1000:0")
    runtime = (ROOT / "requirements-runtime.lock").read_text()
    for tool in ("pytest==", "ruff==", "gensim=="):
        assert tool not in runtime
    full = {line for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line}
    assert {line for line in runtime.splitlines() if "==" in line} - full <= {
        line for line in runtime.splitlines() if line.startswith(("setuptools==", "wheel=="))
    }


def test_the_workflow_puts_cuda_only_on_the_gpu_steps():
    workflow = yaml.safe_load((ROOT / "ops/github/workflows/retrain.yml").read_text())
    builds = [s["with"] for s in workflow["jobs"]["images"]["steps"] if "with" in s]
    assert [b.get("build-args") for b in builds if "file" in b] == [None, "GPU=1"]
    compile_step = next(
        s["run"]
        for s in workflow["jobs"]["submit"]["steps"]
        if "compile-pipeline" in s.get("run", "")
    )
    assert 'IMAGE="$IMAGE" GPU_IMAGE="$GPU_IMAGE"' in compile_step
    names = next(s["run"] for s in workflow["jobs"]["images"]["steps"] if s.get("id") == "names")
    assert 'owner="${OWNER,,}"' in names  # GHCR takes lower-case names only
