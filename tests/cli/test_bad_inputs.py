"""Bad input to every subcommand: a non-zero exit, at most three lines on standard error that
name the flag or the file, no traceback, and nothing written."""

import os
from pathlib import Path

import pytest

from kubeslim.cli import main

# (argv, what the error names). {tmp} is a fresh directory (the working directory too),
# {file} a file in it and {tmp}/in an empty directory; {digits}, {model}, {export}, {corpus}
# and {numbers} are the session's real converted digits, trained LeNet, its export, and the
# converted pydoc_text and numbers_enfr.
OUT = "--output_dir {tmp}/out"
CONVERT = f"convert {OUT}"
CONVERT_TEXT = f"convert-text {OUT}"
ANALYZE = f"analyze --dataset_dir {{digits}} {OUT}"
TRAIN = "train --dataset_dir {digits} --model_dir {tmp}/m"
EVAL = f"eval --dataset_dir {{digits}} --model_dir {{model}} {OUT}"
EXPORT = "export --model_dir {model} --export_dir {tmp}/e"
FREEZE = f"freeze --export_dir {{export}} {OUT}"
TFLITE = f"tflite --export_dir {{export}} {OUT}"
WORD2VEC = "word2vec --corpus_dir {corpus} --model_dir {tmp}/m"
LM = "language-model --corpus_dir {corpus} --model_dir {tmp}/m"
TRANSLATION = "translation-model --corpus_dir {numbers} --model_dir {tmp}/m"
COMPILE = "compile-pipeline --output {tmp}/p.yaml"
SUBMIT = "submit --host http://127.0.0.1:9 --package {tmp}/p.yaml"

CASES = [
    # the top level
    ("", "COMMAND"),
    ("trian", "did you mean 'train'"),
    ("--verbos convert --output_dir {tmp}/out", "--verbos"),
    # convert
    (f"{CONVERT} --seed -1", "--seed -1"),
    (f"{CONVERT} --seed x", "--seed"),
    (f"{CONVERT} --runner=NoSuchRunner", "--runner 'NoSuchRunner'"),
    (f"{CONVERT} --runner", "--runner"),
    (f"{CONVERT} --sead 7", "did you mean --seed"),
    (f"{CONVERT} --strickt", "did you mean --strict"),
    (f"{CONVERT} --validaton_size=0.5", "did you mean --validation_size"),
    (f"{CONVERT} --dataset mnistt", "did you mean 'mnist'"),
    (f"{CONVERT} --dataset_name imagenet21k", "imagenet21k"),
    (f"{CONVERT} --num_shards train=0", "--num_shards"),
    (f"{CONVERT} --num_shards x", "--num_shards"),
    (f"{CONVERT} --num_shards validation=2", "names split 'validation'"),
    (f"{CONVERT} --validation_size -1", "--validation_size"),
    (f"{CONVERT} --validation_size nan", "--validation_size"),
    (f"{CONVERT} --dataset image_folder", "needs --source"),
    (f"{CONVERT} --dataset image_folder --source {{tmp}}/nope", "nope"),
    (f"{CONVERT} --dataset mnist --validation_size 0.1", "--validation_size"),
    (f"{CONVERT} --dataset digits --validation_size 3", "--validation_size"),
    ("convert --output_dir {file}", "{file}"),
    ("convert --output_dir {file}/sub", "{file}"),
    ("convert --output_dir {tmp}", "current directory"),
    ("convert --output_dir gs:/bucket/out", "two slashes after 'gs:'"),
    ("train --dataset_dir s3:/bucket/digits --model_dir {tmp}/m", "s3:/bucket/digits"),
    ("convert --output_dir {model}", "--overwrite"),
    ("convert", "--output_dir"),
    (f"{CONVERT} extra", "'extra'"),
    (f"{CONVERT} --direct_num_workers=x", "--direct_num_workers"),
    (f"{CONVERT} --direct_running_mode=bogus", "--direct_running_mode"),
    (
        f"{CONVERT} --runner DaskRunner --dask_client_address 127.0.0.1:9 "
        "--dask_connection_timeout 2",
        "cannot reach the Dask scheduler at 127.0.0.1:9",
    ),
    (f"{CONVERT} --strict=yes", "--strict"),
    (f"{CONVERT} --dataset_name", "--dataset_name"),
    # convert-text
    (f"{CONVERT_TEXT} --corpus x", "--corpus_name 'x'"),
    (f"{CONVERT_TEXT} --corpus_name wiki", "wiki"),
    (f"{CONVERT_TEXT} --sourc y", "did you mean --source"),
    (f"{CONVERT_TEXT} --corpus ptb --source {{tmp}}/nope", "nope"),
    ("convert-text --output_dir {file}", "{file}"),
    (f"{CONVERT_TEXT} --runer DirectRunner", "did you mean --runner"),
    (f"{CONVERT_TEXT} --seed 3", "--seed"),
    ("convert-text", "--output_dir"),
    # analyze
    (f"{ANALYZE} --split nosuch", "'nosuch'"),
    (f"{ANALYZE} --split ''", "--split"),
    (f"analyze --dataset_dir {{tmp}}/nope {OUT}", "nope"),
    ("analyze --dataset_dir {digits} --output_dir {digits}/t", "--dataset_dir"),
    (f"{ANALYZE} --splitt train", "did you mean --split"),
    (f"analyze {OUT}", "--dataset_dir"),
    (f"{ANALYZE} --runner=Nope", "--runner"),
    # train
    (f"{TRAIN} --image_size -5", "--image_size"),
    (f"{TRAIN} --image_size 0", "--image_size"),
    (f"{TRAIN} --weight_decay nan", "--weight_decay"),
    (f"{TRAIN} --weight_decay -1", "--weight_decay"),
    (f"{TRAIN} --preprocessing_name nosuch", "--preprocessing_name"),
    (f"{TRAIN} --learning_rate_decay_factor -1", "--learning_rate_decay_factor"),
    (f"{TRAIN} --learning_rate nan", "--learning_rate"),
    (f"{TRAIN} --learning_rate 0", "--learning_rate"),
    (f"{TRAIN} --learning_rate -0.1", "--learning_rate"),
    (f"{TRAIN} --batch_size 0", "--batch_size"),
    (f"{TRAIN} --batch_size 100000", "--batch_size 100000"),
    (f"{TRAIN} --batch_size x", "--batch_size"),
    (f"{TRAIN} --num_epochs 0", "--num_epochs"),
    (f"{TRAIN} --max_steps -3", "--max_steps"),
    (f"{TRAIN} --model_name lenet5", "did you mean 'lenet'"),
    (f"{TRAIN} --optimizer adamm", "did you mean 'adam'"),
    (f"{TRAIN} --learning_rate_decay_type cosine", "--learning_rate_decay_type"),
    (f"{TRAIN} --label_smoothing 1", "--label_smoothing"),
    (f"{TRAIN} --labels_offset 9", "--labels_offset"),
    (f"{TRAIN} --labels_offset -1", "--labels_offset"),
    (f"{TRAIN} --moving_average_decay 1.5", "--moving_average_decay"),
    (f"{TRAIN} --adam_beta1 1", "--adam_beta1"),
    (f"{TRAIN} --momentum -0.1", "--momentum"),
    (f"{TRAIN} --checkpoint_exclude_scopes LeNet/fc4", "--checkpoint_path"),
    (f"{TRAIN} --checkpoint_path {{tmp}}/nope.ckpt", "nope.ckpt"),
    (f"{TRAIN} --seed -2", "--seed"),
    (f"{TRAIN} --num_epoch 3", "did you mean --num_epochs"),
    (f"{TRAIN} --transform_dir {{tmp}}/nope", "nope"),
    (f"{TRAIN} --dataset_name flowers", "--dataset_name flowers"),
    (f"{TRAIN} --dataset_split_name validation", "--dataset_split_name"),
    ("train --dataset_dir {tmp}/nope --model_dir {tmp}/m", "nope"),
    ("train --dataset_dir {digits} --model_dir {file}", "{file}"),
    ("train --dataset_dir {digits} --model_dir {digits}/m", "--dataset_dir"),
    ("train --dataset_dir {digits} --model_dir {model} --model_name cifarnet", "cifarnet"),
    ("train --dataset_dir {digits}", "--model_dir"),
    (f"{TRAIN} --runner=DirectRunner", "--runner"),
    # eval
    (f"{EVAL} --checkpoint_path {{tmp}}/missing", "missing"),
    (f"{EVAL} --split nosuch", "'nosuch'"),
    (f"{EVAL} --batch_size 0", "--batch_size"),
    (f"{EVAL} --watch --eval_interval_secs -1", "--eval_interval_secs"),
    (f"{EVAL} --watch --timeout_secs -1", "--timeout_secs"),
    (f"{EVAL} --model_name inception_v3", "--model_name inception_v3"),
    (f"{EVAL} --dataset_name flowers", "--dataset_name flowers"),
    (f"{EVAL} --eval_image_size 299", "--eval_image_size 299"),
    (f"eval --dataset_dir {{digits}} --model_dir {{tmp}}/nope {OUT}", "nope"),
    (f"eval --dataset_dir {{digits}} {OUT}", "--model_dir"),
    (f"eval --dataset_dir {{digits}} --checkpoint_path {{model}}/x {OUT}", "--model_name"),
    (
        f"eval --dataset_dir {{digits}} --checkpoint_path {{tmp}}/missing --model_name lenet {OUT}",
        "missing",
    ),
    (f"{EVAL} --max_num_batches 0", "--max_num_batches"),
    (f"{EVAL} --labels_offset 1", "--labels_offset 1"),
    (
        f"eval --dataset_dir {{digits}} --checkpoint_path {{file}} --model_name lenet {OUT}",
        "{file}",
    ),
    ("eval --dataset_dir {digits} --model_dir {model} --output_dir {model}/e", "--model_dir"),
    (f"{EVAL} --whatch", "did you mean --watch"),
    # export
    (f"{EXPORT} --checkpoint_path {{tmp}}/missing", "missing"),
    ("export --model_dir {tmp}/nope --export_dir {tmp}/e", "nope"),
    ("export --model_dir {model} --export_dir {file}", "{file}"),
    ("export --model_dir {model} --export_dir {model}/e", "--model_dir"),
    ("export --model_dir {model}", "--export_dir"),
    ("export --export_dir {tmp}/e", "--model_dir"),
    (
        "export --model_name lenet --checkpoint_path {tmp}/missing --dataset_dir {digits} "
        "--export_dir {tmp}/e",
        "missing",
    ),
    ("export --model_name nosuch --checkpoint_path {model} --export_dir {tmp}/e", "nosuch"),
    (
        "export --model_name lenet --checkpoint_path {model} --image_size -1 --export_dir {tmp}/e",
        "--image_size",
    ),
    # freeze
    (f"{FREEZE} --max_difference 0", "--max_difference"),
    (f"{FREEZE} --max_difference x", "--max_difference"),
    (f"freeze --export_dir {{tmp}}/in {OUT}", "saved_model.pb"),
    (f"{FREEZE} --check_dataset_dir {{tmp}}/nope", "nope"),
    (f"{FREEZE} --check_dataset_dir {{digits}} --max_difference 1e-30", "--max_difference"),
    ("freeze --export_dir {export}", "--output_dir"),
    # tflite
    (f"{TFLITE} --min_int8_agreement 1.5", "--min_int8_agreement"),
    (f"{TFLITE} --num_calibration_images 0", "--num_calibration_images"),
    (f"{TFLITE} --max_difference -1", "--max_difference"),
    (f"tflite --export_dir {{tmp}}/in {OUT}", "saved_model.pb"),
    (f"{TFLITE} --dataset_dir {{tmp}}/nope", "nope"),
    # predict
    ("predict --model {export} {tmp}/nope.png", "nope.png"),
    ("predict --model {export} {file}", "{file}"),
    ("predict --model {tmp}/in {file}", "saved_model.pb"),
    ("predict --model {export}", "images"),
    # benchmark
    ("benchmark --batch_size 0", "--batch_size"),
    ("benchmark --num_batches 0", "--num_batches"),
    ("benchmark --image_size -1", "--image_size"),
    ("benchmark --model lenet5", "did you mean 'lenet'"),
    # word2vec
    (f"{WORD2VEC} --batch_size 100", "--batch_size"),
    (f"{WORD2VEC} --loss hinge", "--loss"),
    (f"{WORD2VEC} --epochs 0", "--epochs"),
    (f"{WORD2VEC} --subsample -1", "--subsample"),
    (f"{WORD2VEC} --export_dir {{file}}", "{file}"),
    ("word2vec --corpus_dir {tmp}/nope --model_dir {tmp}/m", "nope"),
    ("word2vec --corpus_dir {corpus} --model_dir {corpus}/m", "--corpus_dir"),
    # language-model
    (f"{LM} --batch_size 0", "--batch_size"),
    (f"{LM} --keep_prob 0", "--keep_prob"),
    (f"{LM} --keep_prob 1.5", "--keep_prob"),
    (f"{LM} --config huge", "--config"),
    (f"{LM} --num_steps -1", "--num_steps"),
    (f"{LM} --hidden_sise 3", "did you mean --hidden_size"),
    # translation-model and translate
    (f"{TRANSLATION} --buckets 5x10", "--buckets"),
    (f"{TRANSLATION} --buckets 5:1", "--buckets"),
    (f"{TRANSLATION} --optimizer rmsprop", "--optimizer"),
    (f"{TRANSLATION} --num_samples -1", "--num_samples"),
    (f"{TRANSLATION} --config tiny", "--config"),
    ("translation-model --corpus_dir {corpus} --model_dir {tmp}/m", "{corpus}"),
    ("translation-model", "--corpus_dir"),
    ("translate --model_dir {tmp}/in one", "translation model"),
    ("translate --model_dir {tmp}/in --beam_width 0 one", "--beam_width"),
    # compile-pipeline
    (f"{COMPILE} --gpu_memory_request lots", "--gpu_memory_request"),
    (f"{COMPILE} --cpu_request -2", "--cpu_request"),
    (f"{COMPILE} --gpu_node_selector bad", "--gpu_node_selector"),
    (f"{COMPILE} --download_retries -1", "--download_retries"),
    (f"{COMPILE} --pipeline nosuch", "--pipeline"),
    ("compile-pipeline --output {tmp}/p.json", ".yaml"),
    ("compile-pipeline --output {file}", "{file}"),
    # run-local
    ("run-local --dataset_name nosuch --pipeline_root {tmp}/r", "--dataset_name 'nosuch'"),
    ("run-local --model_name nosuch --pipeline_root {tmp}/r", "--model_name 'nosuch'"),
    ("run-local --num_epochs 0 --pipeline_root {tmp}/r", "--num_epochs"),
    ("run-local --tflite_min_int8_agreement 2 --pipeline_root {tmp}/r", "--tflite_min_int8"),
    ("run-local --pipeline word2vec --num_epochs 3", "--num_epochs"),
    ("run-local --pipeline translation --config_overrides epochs=0", "--config_overrides"),
    ("run-local --pipeline language_model --config_overrides nope=1", "nope"),
    ("run-local --pipeline_root {file}", "{file}"),
    # submit
    (f"{SUBMIT} --param epochs=3", "--param 'epochs=3'"),
    (f"{SUBMIT} --param num_epochs=x", "num_epochs"),
    (f"{SUBMIT} --param num_epochs", "--param"),
    (f"{SUBMIT} --schedule 'x y'", "--schedule"),
    (f"{SUBMIT} --experiment ''", "--experiment"),
    (f"{SUBMIT}", "p.yaml"),
]


@pytest.fixture(scope="module")
def real_inputs(digits_dir, model_dir, export_dir, corpus_dir, numbers_dir) -> dict[str, Path]:
    return {
        "digits": digits_dir,
        "model": model_dir,
        "export": export_dir,
        "corpus": corpus_dir,
        "numbers": numbers_dir,
    }


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every path below ``roots``, with each file's size and time (a staging directory made
    and removed again leaves a folder's own time changed, and nothing else)."""
    return {
        str(p): (0, 0) if p.is_dir() else (p.stat().st_size, p.stat().st_mtime_ns)
        for root in roots
        for p in [root, *root.rglob("*")]
    }


def test_there_are_more_than_120_cases_covering_every_subcommand():
    from kubeslim.cli import COMMANDS

    assert len(CASES) >= 120
    used = {argv.split()[0] for argv, _ in CASES if argv and not argv.startswith("-")}
    assert {c.name for c in COMMANDS} <= used


@pytest.mark.parametrize("argv, names", CASES, ids=[a or "<nothing>" for a, _ in CASES])
def test_bad_input_is_a_short_clear_error_and_writes_nothing(
    argv, names, real_inputs, tmp_path, monkeypatch, capsys
):
    import shlex

    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "in").mkdir()  # an empty input directory
    monkeypatch.chdir(tmp_path)
    values = {k: str(v) for k, v in real_inputs.items()} | {
        "tmp": str(tmp_path),
        "file": str(tmp_path / "file"),
    }
    args = [a.format(**values) for a in shlex.split(argv)]
    before = _snapshot(tmp_path, *real_inputs.values())
    with pytest.MonkeyPatch.context() as env:
        env.delenv("KF_PIPELINES_ENDPOINT", raising=False)
        status = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status != 0, err
    assert 1 <= len(lines) <= 3, err
    assert "Traceback" not in err
    assert names.format(**values) in err, err
    assert _snapshot(tmp_path, *real_inputs.values()) == before
    assert os.getcwd() == str(tmp_path)
