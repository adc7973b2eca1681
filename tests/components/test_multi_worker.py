"""Two-worker training: two local processes on 127.0.0.1 under MultiWorkerMirroredStrategy,
configured by TF_CONFIG as Kubeflow's TFJob would."""

import json
import os
import socket
import subprocess
import sys


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_workers(digits_dir, model_dir, epochs: int) -> list[subprocess.Popen]:
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        )
        command = [sys.executable, "-m", "kubeslim", "train", "--dataset_dir", str(digits_dir)]
        command += ["--model_dir", str(model_dir), "--num_epochs", str(epochs)]
        command += ["--batch_size", "64", "--moving_average_decay", "0.99"]
        processes.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    return processes


def _wait(processes: list[subprocess.Popen]) -> list[str]:
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=300)[0])
        finally:
            process.kill()
    assert [p.returncode for p in processes] == [0, 0], outputs[0][-3000:]
    return outputs


def test_two_workers_train_one_model_resume_and_only_the_chief_writes(digits_dir, tmp_path):
    model_dir = tmp_path / "model"
    outputs = _wait(_start_workers(digits_dir, model_dir, epochs=2))
    record = json.loads((model_dir / "training.json").read_text())
    assert record["replicas"] == 2
    assert record["steps"] == 2 * 23  # 1437 examples in global batches of 64
    assert "2 replica(s)" in outputs[0] and "2 replica(s)" in outputs[1]
    assert record["history"]["loss"][1] < record["history"]["loss"][0]
    assert record["history"]["accuracy"][1] > 0.5
    assert sorted(p.name for p in model_dir.glob("model.ckpt-*.index")) == [
        "model.ckpt-23.index",
        "model.ckpt-46.index",
    ]
    # Both workers resume from the chief's checkpoint.
    _wait(_start_workers(digits_dir, model_dir, epochs=3))
    record = json.loads((model_dir / "training.json").read_text())
    assert record["steps"] == 3 * 23 and len(record["history"]["loss"]) == 3
