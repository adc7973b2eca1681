"""A TF-Slim command line runs as it is, and Beam's own flags pass through checked."""

import json

import pytest

from kubeslim.beam.runner import check_beam_args
from kubeslim.cli import main
from kubeslim.errors import KubeslimError


def test_a_tf_slim_train_and_eval_command_line_works(digits_dir, tmp_path, capsys):
    train_dir, eval_dir = tmp_path / "train", tmp_path / "eval"
    train = [
        *("train", "--train_dir", str(train_dir), "--dataset_name", "digits"),
        *("--dataset_split_name", "train", "--dataset_dir", str(digits_dir)),
        *("--model_name", "lenet", "--max_number_of_steps", "3", "--train_image_size", "28"),
        *("--batch_size", "128", "--optimizer", "sgd", "--learning_rate", "0.01"),
    ]
    assert main(train) == 0
    assert json.loads((train_dir / "training.json").read_text())["steps"] == 3
    evaluate = [
        *("eval", "--checkpoint_path", str(train_dir), "--eval_dir", str(eval_dir)),
        *("--dataset_name", "digits", "--dataset_split_name", "test"),
        *("--dataset_dir", str(digits_dir), "--model_name", "lenet", "--eval_image_size", "28"),
    ]
    assert main(evaluate) == 0
    assert "on 359 test examples" in capsys.readouterr().out
    assert json.loads((eval_dir / "metrics.json").read_text())["split"] == "test"


def test_beam_flags_pass_checked_and_short_runner_names_expand():
    dataflow = ["--runner", "DataflowRunner", "--project", "p", "--region", "europe-west4"]
    assert check_beam_args(dataflow) == dataflow
    assert check_beam_args(["--runner=FlinkRunner", "--flink_master=host:8081"])
    assert check_beam_args(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    with pytest.raises(KubeslimError, match="unknown flag --direct_num_worker; did you mean"):
        check_beam_args(["--direct_num_worker=2"])
    with pytest.raises(KubeslimError, match="unknown flag --sead; did you mean --seed"):
        check_beam_args(["--sead", "3"], own_flags=["--seed", "--strict"])
    assert check_beam_args(["--runner", "DaskRunner"]) == [
        "--runner",
        "kubeslim.beam.dask_runner.DaskRunner",
    ]
