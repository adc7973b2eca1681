"""The `kubeslim` command: help everywhere, the steps wired end to end, clean errors."""

import subprocess
import sys

import pytest
from PIL import Image

from kubeslim.cli import build_parser, main

SUBCOMMANDS = [
    "convert",
    "convert-text",
    "word2vec",
    "language-model",
    "analyze",
    "train",
    "eval",
    "export",
    "freeze",
    "tflite",
    "predict",
    "benchmark",
    "compile-pipeline",
    "submit",
    "run-local",
]


def test_every_subcommand_has_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    top = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert command in top
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: kubeslim {command}" in capsys.readouterr().out


def test_run_local_flags_mirror_the_pipeline_parameters():
    argv = ["run-local", "--num_epochs", "4", "--learning_rate", "0.01"]
    args = build_parser(argv).parse_args(argv)
    assert (args.pipeline, args.num_epochs, args.learning_rate) == ("image_classifier", 4, 0.01)
    assert args.dataset_name is None  # not given: the pipeline's default applies
    argv = ["run-local", "--pipeline", "translation", "--config_overrides", "epochs=2"]
    args = build_parser(argv).parse_args(argv)
    assert (args.pipeline, args.config_overrides) == ("translation", "epochs=2")


def test_steps_chain_from_the_command_line(tmp_path, capsys):
    data, model, export = tmp_path / "data", tmp_path / "model", tmp_path / "export"
    assert main(["convert", "--dataset", "digits", "--output_dir", str(data)]) == 0
    assert "test: 359 examples in 1 shards" in capsys.readouterr().out
    train = ["train", "--dataset_dir", str(data), "--model_dir", str(model)]
    assert main([*train, "--num_epochs", "1", "--batch_size", "128"]) == 0
    assert "trained 12 steps" in capsys.readouterr().out
    evaluation = ["eval", "--dataset_dir", str(data), "--model_dir", str(model)]
    assert main([*evaluation, "--output_dir", str(tmp_path / "eval")]) == 0
    assert "on 359 test examples" in capsys.readouterr().out
    assert main(["export", "--model_dir", str(model), "--export_dir", str(export)]) == 0
    freeze = ["freeze", "--export_dir", str(export), "--output_dir", str(tmp_path / "frozen")]
    assert main([*freeze, "--check_dataset_dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "input  images: input:0 shape [None, 28, 28, 1]" in out
    diff = float(out.rsplit("SavedModel| on the held-out split: ", 1)[1])
    assert diff <= 1e-5
    tflite = ["tflite", "--export_dir", str(export), "--output_dir", str(tmp_path / "tflite")]
    assert main([*tflite, "--dataset_dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "float32" in out and "float16" in out and "int8" in out
    assert out.count("top-1 agreement") == 3
    watch = ["--watch", "--eval_interval_secs", "0.2", "--timeout_secs", "1"]
    assert main([*evaluation, "--output_dir", str(tmp_path / "w"), *watch]) == 0
    assert "step 12: top-1 " in capsys.readouterr().out
    png = tmp_path / "blank.png"
    Image.new("L", (8, 8)).save(png)
    assert main(["predict", "--model", str(export), str(png)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(png) and len(out) == 6
    bench = ["benchmark", "--model", "lenet", "--batch_size", "4", "--num_batches", "2"]
    assert main(bench) == 0
    assert "forward_backward" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset_dir", "{tmp}/none", "--model_dir", "{tmp}/m"], "{tmp}/none"),
        (
            [
                *("eval", "--dataset_dir", "{tmp}/in", "--model_dir", "{tmp}/in"),
                *("--output_dir", "{tmp}/e"),
            ],
            "model_config.json not found",
        ),
        (
            ["convert", "--dataset", "digits", "--output_dir", "{tmp}/file"],
            "{tmp}/file exists and is not a directory",
        ),
        (
            ["convert", "--dataset", "digits", "--output_dir", "{tmp}/file/sub"],
            "{tmp}/file is not a directory",
        ),
        (
            ["convert", "--dataset", "digits", "--output_dir", "{tmp}/o", "--num_shards", "x"],
            "--num_shards 'x'",
        ),
        (["compile-pipeline", "--output", "{tmp}"], "give a path ending in .yaml"),
        (["compile-pipeline", "--output", "{tmp}/p.json"], "give a path ending in .yaml"),
        (["freeze", "--export_dir", "{tmp}/in", "--output_dir", "{tmp}/f"], "no saved_model.pb"),
        (["tflite", "--export_dir", "{tmp}/in", "--output_dir", "{tmp}/t"], "no saved_model.pb"),
        (["predict", "--model", "{tmp}", "{tmp}/file"], "no saved_model.pb"),
        (["benchmark", "--model", "lenet5"], "--model_name 'lenet5': unknown value"),
        (["submit", "--host", "http://127.0.0.1:9", "--param", "epochs=3"], "--param 'epochs=3'"),
        (
            ["submit", "--host", "http://127.0.0.1:9", "--param", "num_epochs=x"],
            "--num_epochs 'x': must be int",
        ),
        (
            ["run-local", "--pipeline", "word2vec", "--num_epochs", "3"],
            "unknown flag --num_epochs",
        ),
        (["translate", "--model_dir", "{tmp}", "one"], "holds no trained translation model"),
        (["translation-model"], "--corpus_dir and --model_dir are needed (or --self_test)"),
        (
            ["translation-model", "--corpus_dir", "{tmp}", "--model_dir", "{tmp}/m"],
            "corpus.json not found",
        ),
        (
            ["train", "--dataset_dir", "{tmp}", "--model_dir", "{tmp}/m", "--label_smoothing", "1"],
            "--label_smoothing 1.0: must be in [0, 1)",
        ),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "in").mkdir()
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"kubeslim {argv[0]}: error: " in err
    assert message.format(tmp=tmp_path) in err
    assert "Traceback" not in err


def test_unknown_data_set_and_flags_are_usage_errors(capsys):
    assert main(["convert", "--dataset", "imagenet21k", "--output_dir", "x"]) == 2
    assert "--dataset_name 'imagenet21k': unknown value" in capsys.readouterr().err
    assert main(["train", "--dataset_dir", "d", "--model_dir", "m", "--bogus", "1"]) == 2
    assert "unknown flag --bogus" in capsys.readouterr().err


def test_console_script_is_installed():
    kubeslim = f"{sys.prefix}/bin/kubeslim"
    result = subprocess.run([kubeslim, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("kubeslim ")
