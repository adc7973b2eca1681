"""The PTB language model (small configuration, fewer epochs) on the embedded pydoc_text
corpus: it learns well past the unigram model, resumes, and the exported model scores a
sentence as the trainer does."""

import math

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.components.text import ptb_lm
from kubeslim.components.text.ptb_lm_options import get_config
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import servable_dir

from ...serving import assert_served_as_loaded

SMALL_AND_QUICK = {"max_max_epoch": 6, "max_epoch": 3, "hidden_size": 128}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus_dir):
    model_dir = tmp_path_factory.mktemp("lm") / "model"
    return model_dir, ptb_lm.train_language_model(
        corpus_dir, model_dir, get_config("small", **SMALL_AND_QUICK)
    )


def _unigram_perplexity(corpus_dir, split):
    train = ptb_lm.token_stream(corpus_dir, "train")
    counts = np.bincount(train, minlength=train.max() + 1) + 1.0  # add-one, so none is zero
    probabilities = counts / counts.sum()
    return math.exp(-np.mean(np.log(probabilities[ptb_lm.token_stream(corpus_dir, split)])))


def test_windows_are_the_tutorials_ptb_producer():
    inputs, targets = ptb_lm.windows(np.arange(23, dtype=np.int32), batch_size=2, num_steps=3)
    assert inputs.shape == (3, 2, 3)  # 11 tokens a row, (11 - 1) // 3 windows
    np.testing.assert_array_equal(inputs[0], [[0, 1, 2], [11, 12, 13]])
    np.testing.assert_array_equal(targets[0], [[1, 2, 3], [12, 13, 14]])
    with pytest.raises(KubeslimError, match="too few"):
        ptb_lm.windows(np.arange(5, dtype=np.int32), batch_size=2, num_steps=3)


def test_validation_perplexity_falls_well_below_the_unigram_models(trained, corpus_dir):
    _, record = trained
    valid = [h["valid_perplexity"] for h in record["history"]]
    assert valid[-1] < valid[0]
    assert valid[-1] < 0.85 * _unigram_perplexity(corpus_dir, "valid")
    assert record["test_perplexity"] < _unigram_perplexity(corpus_dir, "test")
    assert [h["learning_rate"] for h in record["history"]] == [1, 1, 1, 0.5, 0.25, 0.125]


def test_exported_model_scores_a_sentence_as_the_trainer_does(trained, tmp_path):
    model_dir, _ = trained
    sentence = "the object is an instance of the class <eos>"
    model, vocabulary = ptb_lm.load_language_model(model_dir)
    expected = ptb_lm.sentence_perplexity(model, vocabulary, sentence)
    export = ptb_lm.export_language_model(model_dir, tmp_path / "export")
    loaded = tf.saved_model.load(str(servable_dir(export)))
    served = float(
        loaded.signatures["serving_default"](sentence=tf.constant(sentence))["perplexity"]
    )
    assert served == pytest.approx(expected, rel=1e-4)
    following = loaded.signatures["next_words"](context=tf.constant("the"))
    probabilities = following["probabilities"].numpy()
    assert len(probabilities) == 10 and np.all(np.diff(probabilities) <= 0)
    # as TF Serving loads and runs it
    sentence_input = {"sentence": np.array(sentence, dtype=object)}
    assert_served_as_loaded(export, "serving_default", sentence_input)
    assert_served_as_loaded(export, "next_words", {"context": np.array("the", dtype=object)})


def test_evaluation_and_tensorboard_logs(trained, corpus_dir, tmp_path):
    model_dir, record = trained
    result = ptb_lm.evaluate_language_model(model_dir, corpus_dir, tmp_path / "eval")
    assert set(result["perplexity"]) == {"train", "valid", "test"}
    assert result["perplexity"]["test"] == pytest.approx(record["test_perplexity"], rel=1e-5)
    assert (tmp_path / "eval" / "metrics.json").is_file()
    assert list((model_dir / "logs").glob("events.out.tfevents.*"))


def test_training_resumes_and_bad_configs_are_named(corpus_dir, tmp_path):
    quick = {"hidden_size": 16, "num_layers": 1}
    first = ptb_lm.train_language_model(
        corpus_dir, tmp_path / "m", get_config("small", max_max_epoch=1, **quick)
    )
    resumed = ptb_lm.train_language_model(
        corpus_dir, tmp_path / "m", get_config("small", max_max_epoch=2, **quick)
    )
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == first["history"][0]
    with pytest.raises(KubeslimError, match="--config 'huge': unknown configuration"):
        ptb_lm.train_language_model(corpus_dir, tmp_path / "x", get_config("huge"))
