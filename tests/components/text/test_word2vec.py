"""word2vec on the embedded pydoc_text corpus: real training, neighbours that make sense,
analogy evaluation, resume, and the exported SavedModel and projector files."""

import json

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.components.text import embedding_scores, epoch_log, word2vec
from kubeslim.components.text.word2vec_options import Word2VecEvalOptions, Word2VecOptions
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import servable_dir

from ...serving import assert_served_as_loaded

# Word pairs that Python's reference documentation uses together.
RELATED = [("true", "false"), ("key", "value"), ("integer", "integers"), ("import", "imported")]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, corpus_dir):
    out = tmp_path_factory.mktemp("word2vec") / "model"
    word2vec.train_word2vec(corpus_dir, out, Word2VecOptions(epochs=8, embedding_size=64))
    return out


def test_skipgram_pairs_stay_within_the_window_and_the_line():
    lines = tf.ragged.constant([[1, 2, 3], [4, 5]], tf.int64)
    keep_all = tf.ones([6])
    pairs = word2vec.skipgram_pairs(lines, keep_all, 1, tf.constant([0, 0], tf.int64)).numpy()
    assert sorted(map(tuple, pairs)) == [(1, 2), (2, 1), (2, 3), (3, 2), (4, 5), (5, 4)]
    line = tf.RaggedTensor.from_tensor(tf.range(50, dtype=tf.int64)[None])
    wide = word2vec.skipgram_pairs(line, tf.ones([50]), 5, tf.constant([3, 4], tf.int64))
    distance = np.abs(wide.numpy()[:, 0] - wide.numpy()[:, 1])
    assert distance.min() >= 1 and distance.max() <= 5 and (distance == 1).sum() == 2 * 49


def test_subsampling_drops_only_frequent_words():
    keep = word2vec.keep_probabilities(tf.constant([1e5, 10.0, 1.0], tf.float64), 1e-3).numpy()
    assert keep[0] < 0.2 and keep[1] == keep[2] == 1.0


def test_the_written_out_step_is_sgd_on_the_tapes_gradient():
    """The hand-written gradient of ``negative_sampling_step`` against TensorFlow's tape of
    the same loss, with repeated words in a batch (their updates add up, as the tape's)."""
    rng = np.random.default_rng(0)
    options = Word2VecOptions(embedding_size=8)
    model = word2vec.Word2Vec(30, options)
    model.weights.assign(rng.normal(0, 0.5, (30, 8)).astype(np.float32))
    model.embeddings.assign(rng.normal(0, 0.5, (30, 8)).astype(np.float32))
    centers = tf.constant(rng.integers(0, 10, 32))  # two groups of shared negatives
    contexts = tf.constant(rng.integers(0, 30, 32))
    negatives = tf.constant(rng.integers(0, 30, (2, 5)))
    variables = [model.embeddings, model.weights]
    before = [v.numpy() for v in variables]
    with tf.GradientTape() as tape:
        *_, positive, negative = word2vec.sampled_logits(model, centers, contexts, negatives)
        expected_loss = word2vec.negative_sampling_loss(positive, negative)
    expected = [
        v.numpy() - 0.1 * tf.convert_to_tensor(g).numpy()
        for v, g in zip(variables, tape.gradient(expected_loss, variables), strict=True)
    ]
    loss = word2vec.negative_sampling_step(model, centers, contexts, negatives, tf.constant(0.1))
    assert float(loss) == pytest.approx(float(expected_loss), rel=1e-6)
    for variable, want in zip(variables, expected, strict=True):
        np.testing.assert_allclose(variable.numpy(), want, rtol=1e-5, atol=1e-6)
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, variables, strict=True))


def test_related_words_rank_far_above_random_ones(model_dir):
    embeddings, vocabulary = word2vec.load_embeddings(model_dir)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(vocabulary)}

    def percentile(a: int, b: int) -> float:
        """Where b ranks among all words by similarity to a (0 = nearest, 1 = farthest)."""
        similarity = unit @ unit[a]
        similarity[a] = -np.inf
        return float((similarity > similarity[b]).sum() / (len(vocabulary) - 2))

    related = [percentile(index[a], index[b]) for a, b in RELATED]
    rng = np.random.default_rng(0)
    random = [percentile(a, b) for a, b in rng.integers(0, len(vocabulary), (200, 2)) if a != b]
    assert max(related) < 0.05, related  # each in its word's nearest 5%
    assert np.median(random) > 0.3, np.median(random)


def test_analogy_evaluation_counts_answers_and_skips_unknown_words(model_dir, tmp_path):
    questions = tmp_path / "questions-words.txt"
    questions.write_text(
        ": python\ntrue false true false\nkey value key value\nzzz value key zzz\n"
    )
    embeddings, vocabulary = word2vec.load_embeddings(model_dir)
    result = embedding_scores.analogy_accuracy(embeddings, vocabulary, questions)
    assert (result["questions"], result["skipped"]) == (2, 1)
    assert 0 <= result["correct"] <= 2 and result["accuracy"] == result["correct"] / 2
    questions.write_text("true false\n")
    with pytest.raises(KubeslimError, match="questions-words.txt:1: expected 4 words"):
        embedding_scores.analogy_accuracy(embeddings, vocabulary, questions)


def test_analogies_are_answered_by_vector_arithmetic(tmp_path):
    vocabulary = ["man", "king", "woman", "queen", "apple"]
    embeddings = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, -1, 1]], np.float32)
    (tmp_path / "q.txt").write_text(": royal\nman king woman queen\nking man queen apple\n")
    result = embedding_scores.analogy_accuracy(embeddings, vocabulary, tmp_path / "q.txt")
    assert (result["questions"], result["correct"]) == (2, 1)  # the second's answer is woman
    (tmp_path / "q.ids.txt").write_text(": royal\n0 1 2 3\n1 0 3 4\n")
    assert embedding_scores.analogy_accuracy_ids(embeddings, tmp_path / "q.ids.txt") == result


def test_pipeline_evaluation_uses_the_corpus_analogy_set(model_dir, corpus_dir, tmp_path):
    import json
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    vocabulary = word2vec.load_embeddings(model_dir)[1]
    index = {w: i for i, w in enumerate(vocabulary)}
    (corpus / "analogies.ids.txt").write_text(
        f": python\n{index['true']} {index['false']} {index['key']} {index['value']}\n"
    )
    descriptor = json.loads((corpus / "corpus.json").read_text())
    descriptor["analogies"] = {"file": "analogies.ids.txt", "questions": 1, "skipped": 4}
    (corpus / "corpus.json").write_text(json.dumps(descriptor))
    result = word2vec.evaluate_embeddings(
        model_dir, corpus, tmp_path / "eval", Word2VecEvalOptions(neighbours_of="class, list")
    )
    assert (result["analogies"]["questions"], result["analogies"]["skipped"]) == (1, 4)
    assert list(result["neighbours"]) == ["class", "list"]
    assert json.loads((tmp_path / "eval/metrics.json").read_text()) == json.loads(
        json.dumps(result)
    )


def test_training_resumes_from_the_last_epoch(corpus_dir, tmp_path):
    first = word2vec.train_word2vec(
        corpus_dir, tmp_path / "m", Word2VecOptions(epochs=1, embedding_size=16)
    )
    resumed = word2vec.train_word2vec(
        corpus_dir, tmp_path / "m", Word2VecOptions(epochs=2, embedding_size=16)
    )
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == first["history"][0]
    with pytest.raises(KubeslimError, match="--loss 'hinge': unknown value"):
        word2vec.train_word2vec(corpus_dir, tmp_path / "x", Word2VecOptions(loss="hinge"))


def test_history_of_a_run_killed_after_an_epoch_survives_the_resume(
    corpus_dir, tmp_path, monkeypatch
):
    end_epoch = epoch_log.EpochLog.end_epoch

    def end_epoch_then_die(self, entry, *args):
        end_epoch(self, entry, *args)
        if entry["epoch"] == 2:
            raise SystemExit("killed")

    monkeypatch.setattr(epoch_log.EpochLog, "end_epoch", end_epoch_then_die)
    with pytest.raises(SystemExit):
        word2vec.train_word2vec(
            corpus_dir, tmp_path / "m", Word2VecOptions(epochs=4, embedding_size=16)
        )
    killed = json.loads((tmp_path / "m" / "word2vec.json").read_text())["history"]
    monkeypatch.undo()
    resumed = word2vec.train_word2vec(
        corpus_dir, tmp_path / "m", Word2VecOptions(epochs=3, embedding_size=16)
    )
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    assert resumed["history"][:2] == killed


def test_nce_loss_trains(corpus_dir, tmp_path):
    record = word2vec.train_word2vec(
        corpus_dir,
        tmp_path / "nce",
        Word2VecOptions(epochs=2, embedding_size=16, loss="nce", learning_rate=0.05),
    )
    losses = [h["loss"] for h in record["history"]]
    assert np.isfinite(losses).all() and losses[1] < losses[0]


def test_export_serves_vectors_and_neighbours_and_writes_projector_files(model_dir, tmp_path):
    export = word2vec.export_embeddings(model_dir, tmp_path / "export", k=5)
    embeddings, vocabulary = word2vec.load_embeddings(model_dir)
    loaded = tf.saved_model.load(str(servable_dir(export)))
    out = loaded.signatures["serving_default"](words=tf.constant(["true", "zzzunseen"]))
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    np.testing.assert_allclose(
        out["embeddings"].numpy()[0], unit[vocabulary.index("true")], atol=1e-6
    )
    assert int(out["ids"][1]) == len(vocabulary) - 1  # out of vocabulary
    nearest = loaded.signatures["nearest"](words=tf.constant(["true"]))
    served = [w.decode() for w in nearest["neighbours"].numpy()[0]]
    expected = embedding_scores.nearest_neighbours(embeddings, vocabulary, ["true"], k=5)["true"]
    assert served == [w for w, _ in expected]
    vectors = np.loadtxt(servable_dir(export) / "vectors.tsv", delimiter="\t")
    assert vectors.shape == embeddings.shape
    assert (servable_dir(export) / "metadata.tsv").read_text().splitlines() == vocabulary
    words = np.array(["true", "class", "zzzunseen"], dtype=object)
    assert_served_as_loaded(export, "serving_default", {"words": words})  # as TF Serving does
    assert_served_as_loaded(export, "nearest", {"words": words})
