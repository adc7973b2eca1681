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


def test_both_images_install_the_lock_and_the_package():
    for name in ("Dockerfile", "Dockerfile.gpu"):
        dockerfile = (ROOT / "ops" / name).read_text()
        assert "pip install -r requirements.lock" in dockerfile
        assert "pip install --no-deps . && kubeslim --version" in dockerfile
    gpu = (ROOT / "ops/Dockerfile.gpu").read_text()
    assert gpu.startswith("#") and "FROM nvidia/cuda:" in gpu
    assert (ROOT / "ops/requirements-gpu.lock").is_file()
