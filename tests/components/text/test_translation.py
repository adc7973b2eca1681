"""The seq2seq translation model: buckets, the tutorial's self-test, and numbers_enfr learnt
to the issue's bar (exact match >= 0.9, BLEU >= 90 on held-out numbers) in seconds of CPU
training, with resume, the CLI decoder and a SavedModel that takes raw strings."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.text.numbers_enfr import NumbersEnfr
from kubeslim.components.text import translation, translation_data, translator
from kubeslim.components.text.translation_options import get_config, parse_buckets
from kubeslim.components.text.translation_self_test import self_test
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import servable_dir

from ...serving import assert_served_as_loaded

MIRRORED_SCRIPT = """
import json
import logging
import sys
import tensorflow as tf

logging.basicConfig(level=logging.INFO)

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kubeslim.components.text import translation
from kubeslim.components.text.translation_options import get_config

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
record = translation.train_translation_model(
    sys.argv[1], sys.argv[2], get_config("small", epochs=2), strategy=strategy
)
print("replicas", strategy.num_replicas_in_sync)
print(json.dumps(record["history"]))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory, numbers_dir):
    """numbers_enfr's first two epochs mirrored over two devices (two logical CPU devices stand
    in for two GPUs; TF fixes devices at start, hence a process), scored, then resumed in this
    process, on one device, to the small configuration's four."""
    model_dir = tmp_path_factory.mktemp("translation") / "model"
    mirrored = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(numbers_dir), str(model_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    first = {"history": json.loads(mirrored.stdout.splitlines()[-1])}
    mirrored_scores = translator.evaluate_translation(model_dir, numbers_dir, "test")
    record = translation.train_translation_model(
        numbers_dir, model_dir, get_config("small")
    )  # resumes
    return model_dir, first, record, mirrored, mirrored_scores


def test_pairs_go_to_the_smallest_bucket_that_holds_them():
    buckets = ((5, 10), (10, 15), (20, 25), (40, 50))
    lengths = [(5, 9), (5, 10), (6, 3), (40, 49), (41, 3), (3, 50)]
    got = [int(translation_data.bucket_index(s, t, buckets)) for s, t in lengths]
    assert got == [0, 1, 1, 3, -1, -1]  # the target needs room for GO / EOS


def test_batches_are_padded_to_their_bucket_and_shifted_past_the_specials(numbers_dir):
    config = get_config("small", buckets="4:6,10:10", batch_size=16)
    batches, steps, sizes = translation_data.training_batches(numbers_dir, config)
    assert sizes.sum() == 8_499 and sizes[-1] == 0 and sizes[0] > 0
    assert steps == sum(-(-int(n) // 16) for n in sizes[:-1])
    shapes = set()
    for encoder_inputs, decoder_inputs, targets in batches.take(40):
        shapes.add((encoder_inputs.shape[1], targets.shape[1]))
        np.testing.assert_array_equal(decoder_inputs[:, 0], translation_data.GO)
        # The decoder's input is the target shifted right behind GO; EOS ends the target.
        np.testing.assert_array_equal(
            decoder_inputs[:, 1:],
            np.where(
                targets[:, :-1] == translation_data.EOS, translation_data.PAD, targets[:, :-1]
            ),
        )
        assert np.all((targets.numpy() == translation_data.EOS).sum(axis=1) == 1)
        real = encoder_inputs.numpy()[encoder_inputs.numpy() != translation_data.PAD]
        assert real.min() >= len(translation_data.SPECIALS)
    assert shapes == {(4, 6), (10, 10)}


def test_self_test_trains_decodes_and_exports_a_tiny_sampled_softmax_model(tmp_path):
    results = self_test(tmp_path)
    assert [h["epoch"] for h in results["history"]] == [1, 2]
    assert all(np.isfinite(h["train_loss"]) for h in results["history"])
    for width in (1, 3):
        assert results[f"beam_width_{width}"]["sentences"] == 20


def test_numbers_enfr_is_learnt_to_the_bar_and_resumes(trained):
    model_dir, first, record, _, _ = trained
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3, 4]
    assert record["history"][:2] == first["history"]  # resumed, not retrained
    assert tf.train.latest_checkpoint(str(model_dir)).endswith("translate.ckpt-4")
    assert record["history"][-1]["valid_perplexity"] < 1.5
    scores = translator.evaluate_translation(model_dir, record["corpus_dir"], "test")
    assert scores["sentences"] == 1_000
    assert scores["exact_match"] >= 0.9 and scores["bleu"] >= 90, scores["examples"]
    beam = translator.evaluate_translation(model_dir, record["corpus_dir"], "test", beam_width=1)
    assert beam["beam_width"] == 1 and beam["exact_match"] >= 0.9


def test_the_savedmodel_translates_raw_strings_as_the_trainers_decoder(trained, tmp_path):
    model_dir, _, record, _, _ = trained
    scores = translator.evaluate_translation(model_dir, record["corpus_dir"], "test")
    translator.export_translator(model_dir, tmp_path / "export")
    served = tf.saved_model.load(str(servable_dir(tmp_path / "export"))).signatures[
        "serving_default"
    ]
    english = [en for en, _ in NumbersEnfr().pairs("test")]
    out = served(sentences=tf.constant(english))["translations"].numpy()
    assert [t.decode("utf-8") for t in out] == scores["translations"]
    sentences = np.array(english[:50], dtype=object)  # as TF Serving loads and runs it
    assert_served_as_loaded(tmp_path / "export", "serving_default", {"sentences": sentences})


def test_translate_reads_arguments_or_standard_input(trained, capsys, monkeypatch):
    import io

    from kubeslim.cli import main

    model_dir, *_ = trained
    command = ["translate", "--model_dir", str(model_dir)]
    assert main([*command, "one hundred and one", "twenty-one"]) == 0
    by_argument = capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("one hundred and one\ntwenty-one\n"))
    assert main(command) == 0
    assert by_argument == capsys.readouterr().out == "cent un\nvingt et un\n"


def test_bad_corpora_and_options_are_named(corpus_dir, tmp_path):
    with pytest.raises(KubeslimError, match="is not a parallel corpus"):
        translation.train_translation_model(corpus_dir, tmp_path / "m", get_config("small"))
    with pytest.raises(KubeslimError, match="--optimizer 'adagrad': unknown value"):
        get_config("small", optimizer="adagrad")
    with pytest.raises(KubeslimError, match="expected SOURCE:TARGET pairs"):
        parse_buckets("5-10")
    assert parse_buckets("10:15,5:10") == ((5, 10), (10, 15))
    with pytest.raises(KubeslimError, match="holds no trained translation model"):
        translation.load_model(tmp_path)


def test_training_mirrored_over_two_devices_splits_batches_and_learns(trained):
    _, first, _, mirrored, scores = trained
    assert "replicas 2" in mirrored.stdout and "training on 2 replica(s)" in mirrored.stderr
    assert [h["epoch"] for h in first["history"]] == [1, 2]
    assert scores["exact_match"] >= 0.9
