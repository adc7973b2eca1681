"""Every command that writes a directory refuses one that kubeslim did not write, before any
work, and leaves it as it was; a Beam worker's error is one line."""

import subprocess
import sys
from pathlib import Path

import pytest

from kubeslim.cli import main

# command -> its arguments, given the fixtures' directories and the output under test
COMMANDS = {
    "convert": lambda d, out: ["convert", "--dataset", "digits", "--output_dir", out],
    "convert-text": lambda d, out: ["convert-text", "--corpus", "pydoc_text", "--output_dir", out],
    "analyze": lambda d, out: ["analyze", "--dataset_dir", d["digits"], "--output_dir", out],
    "train": lambda d, out: ["train", "--dataset_dir", d["digits"], "--model_dir", out],
    "eval": lambda d, out: [
        *("eval", "--dataset_dir", d["digits"], "--model_dir", d["model"]),
        *("--output_dir", out),
    ],
    "eval --watch": lambda d, out: [
        *("eval", "--dataset_dir", d["digits"], "--model_dir", d["model"]),
        *("--output_dir", out, "--watch", "--timeout_secs", "1"),
    ],
    "export": lambda d, out: ["export", "--model_dir", d["model"], "--export_dir", out],
    "freeze": lambda d, out: ["freeze", "--export_dir", d["export"], "--output_dir", out],
    "tflite": lambda d, out: ["tflite", "--export_dir", d["export"], "--output_dir", out],
    "word2vec": lambda d, out: ["word2vec", "--corpus_dir", d["corpus"], "--model_dir", out],
    "word2vec --export_dir": lambda d, out: [
        *("word2vec", "--corpus_dir", d["corpus"], "--model_dir", d["fresh"]),
        *("--export_dir", out),
    ],
    "language-model": lambda d, out: [
        *("language-model", "--corpus_dir", d["corpus"], "--model_dir", out),
    ],
    "language-model --export_dir": lambda d, out: [
        *("language-model", "--corpus_dir", d["corpus"], "--model_dir", d["fresh"]),
        *("--export_dir", out),
    ],
    "translation-model": lambda d, out: [
        *("translation-model", "--corpus_dir", d["numbers"], "--model_dir", out),
    ],
    "translation-model --export_dir": lambda d, out: [
        *("translation-model", "--corpus_dir", d["numbers"], "--model_dir", d["fresh"]),
        *("--export_dir", out),
    ],
}


@pytest.fixture
def inputs(request, tmp_path) -> dict[str, str]:
    """The fixtures a command reads, made only for the commands that read them."""
    needed = {
        "digits": "digits_dir",
        "model": "model_dir",
        "export": "export_dir",
        "corpus": "corpus_dir",
        "numbers": "numbers_dir",
    }
    command = request.node.callspec.params["command"]
    text = " ".join(COMMANDS[command]({k: f"<{k}>" for k in [*needed, "fresh"]}, "<out>"))
    found = {k: str(request.getfixturevalue(v)) for k, v in needed.items() if f"<{k}>" in text}
    return found | {"fresh": str(tmp_path / "fresh_model")}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_directory_kubeslim_did_not_write_survives_every_command(
    command, inputs, tmp_path, capsys
):
    out = tmp_path / "thesis"
    (out / "chapters").mkdir(parents=True)
    (out / "thesis.txt").write_text("four years of work")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(COMMANDS[command](inputs, str(out))) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{out} exists and was not written by kubeslim" in error
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (out / "thesis.txt").read_text() == "four years of work"
    assert not Path(inputs["fresh"]).exists()  # refused before training, not after


def test_compile_pipeline_does_not_replace_a_file_it_did_not_write(tmp_path, capsys):
    notes = tmp_path / "notes.yaml"
    notes.write_text("my: notes\n")
    assert main(["compile-pipeline", "--output", str(notes)]) == 2
    assert "is not a pipeline kubeslim compiled" in capsys.readouterr().err
    assert notes.read_text() == "my: notes\n"
    pipeline = tmp_path / "pipeline.yaml"
    for _ in range(2):  # its own output is replaced
        assert main(["compile-pipeline", "--output", str(pipeline)]) == 0
    assert pipeline.read_text().startswith("# PIPELINE DEFINITION\n# Name: kubeslim-")


@pytest.mark.parametrize(
    "runner",
    [[], ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]],
    ids=["in_process", "worker_processes"],
)
def test_a_failure_in_a_beam_worker_is_one_line_and_exit_status_2(tmp_path, runner):
    photos = tmp_path / "photos"  # (no "error" in the paths the log prints)
    for name in ("cats", "dogs"):
        (photos / name).mkdir(parents=True)
        for i in range(3):
            (photos / name / f"{i}.png").write_bytes(b"not an image")
    command = [
        *(sys.executable, "-m", "kubeslim", "convert", "--dataset", "image_folder"),
        *("--source", str(photos), "--output_dir", str(tmp_path / "out"), "--strict"),
        *runner,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "KubeslimError" not in done.stderr
    lines = done.stderr.splitlines()
    assert sum("error" in line for line in lines) == 1, done.stderr
    assert lines[-1].startswith("kubeslim convert: error: train record ")
    assert lines[-1].endswith("does not decode as an image (not a known image format) (--strict)")
    assert not (tmp_path / "out").exists()
