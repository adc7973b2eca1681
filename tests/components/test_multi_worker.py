"""Multi-worker training is refused with the reason, not failed in the first step: Keras 3's
fit does not run under MultiWorkerMirroredStrategy (keras-team/keras#20585)."""

import json

import pytest

from kubeslim.components.train import train
from kubeslim.errors import KubeslimError


def test_a_multi_worker_tf_config_is_refused_with_the_keras_issue(
    digits_dir, tmp_path, monkeypatch
):
    cluster = {"worker": ["127.0.0.1:23456", "127.0.0.1:23457"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"index": 0}}))
    with pytest.raises(KubeslimError, match="keras-team/keras#20585"):
        train(digits_dir, tmp_path / "model", num_epochs=1)
    assert not (tmp_path / "model").exists()


def test_a_single_worker_tf_config_trains(digits_dir, tmp_path, monkeypatch):
    cluster = {"worker": ["127.0.0.1:23456"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"index": 0}}))
    record = train(digits_dir, tmp_path / "model", num_epochs=1, batch_size=128)
    assert record["replicas"] == 1
