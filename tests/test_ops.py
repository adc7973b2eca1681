"""The operations files: the CI retraining workflow chains test -> images -> submit and keeps
the Kubeflow credentials out of command lines; the images build from the lock."""

from pathlib import Path

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
    assert submit["env"] == {
        "KF_PIPELINES_ENDPOINT": "${{ secrets.KFP_HOST }}",
        "KFP_TOKEN": "${{ secrets.KFP_TOKEN }}",
    }
    for job in jobs.values():
        for step in job["steps"]:
            command = step.get("run", "")
            assert "secrets." not in command and "KFP_TOKEN" not in command
            assert "set -x" not in command


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
    assert 'IMAGE="$IMAGE:$GITHUB_SHA" GPU_IMAGE="$GPU_IMAGE:$GITHUB_SHA"' in compile_step
