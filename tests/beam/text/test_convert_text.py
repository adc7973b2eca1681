"""Text corpora to token-id TFRecords with a tensorflow-transform vocabulary: the embedded
pydoc_text, and PTB and text8 from small files in their real formats served on 127.0.0.1."""

import collections
import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.convert_text import convert_corpus
from kubeslim.beam.text.corpus_factory import get_corpus
from kubeslim.beam.text.ptb import Ptb
from kubeslim.beam.text.text8 import Text8
from kubeslim.errors import KubeslimError

from ..fakes import http_server, remote_for


def _read_ids(out, descriptor, split):
    files = [str(out / f) for f in descriptor["splits"][split]["files"]]
    spec = {"tokens": tf.io.VarLenFeature(tf.int64)}
    return [
        tf.sparse.to_dense(tf.io.parse_single_example(r, spec)["tokens"]).numpy().tolist()
        for r in tf.data.TFRecordDataset(files)
    ]


@pytest.fixture(scope="module")
def pydoc(tmp_path_factory):
    out = tmp_path_factory.mktemp("text") / "pydoc_text"
    return out, convert_corpus("pydoc_text", out)


def test_pydoc_text_lines_become_ids_of_a_min_count_vocabulary(pydoc):
    out, descriptor = pydoc
    vocabulary = (out / "vocabulary.txt").read_text().splitlines()
    assert descriptor["vocabulary_size"] == len(vocabulary)
    assert vocabulary[-1] == "<unk>" and descriptor["out_of_vocabulary_id"] == len(vocabulary) - 1
    corpus = get_corpus("pydoc_text")
    train = corpus.lines("train")
    counts = collections.Counter(t for line in train for t in line.split())
    assert all(counts[w] >= 5 for w in vocabulary[:-1])  # TF-Slim-style frequency threshold
    assert {w for w, n in counts.items() if n >= 5} == set(vocabulary[:-1])
    ranks = [counts[w] for w in vocabulary[:-1]]
    assert ranks == sorted(ranks, reverse=True)  # most frequent first
    index = {w: i for i, w in enumerate(vocabulary[:-1])}
    for split in ("train", "valid", "test"):
        ids = _read_ids(out, descriptor, split)
        assert len(ids) == descriptor["splits"][split]["num_lines"] > 0
        lines = corpus.lines(split)
        expected = sorted(
            tuple(index.get(t, len(vocabulary) - 1) for t in line.split()) for line in lines
        )
        assert sorted(map(tuple, ids)) == expected
        assert sum(map(len, ids)) == descriptor["splits"][split]["num_tokens"]


def test_the_transform_maps_raw_text_as_the_records_do(pydoc):
    import tensorflow_transform as tft

    out, _ = pydoc
    vocabulary = (out / "vocabulary.txt").read_text().splitlines()
    layer = tft.TFTransformOutput(str(out / "transform")).transform_features_layer()
    ids = layer({"text": tf.constant(["the object is a class <eos>", "zzzunseen the"])})["ids"]
    assert [vocabulary[i] for i in ids[0].numpy()] == ["the", "object", "is", "a", "class", "<eos>"]
    assert [vocabulary[i] for i in ids[1].numpy()] == ["<unk>", "the"]


def _ptb_archive(root):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)] + ["<unk>"]
    texts = {
        split: "\n".join(" ".join(rng.choice(words, size=8)) for _ in range(n)) + "\n"
        for split, n in (("train", 60), ("valid", 10), ("test", 10))
    }
    path = root / "simple-examples.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for split, text in texts.items():
            data = text.encode()
            info = tarfile.TarInfo(f"./simple-examples/data/ptb.{split}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path, texts


def test_ptb_from_a_mirror_keeps_its_words_and_marks_line_ends(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    path, texts = _ptb_archive(served)
    corpus = Ptb()
    corpus.remote_files = (remote_for(path),)
    with http_server(served) as (url, log):
        descriptor = convert_corpus(
            corpus, tmp_path / "out", cache_dir=tmp_path / "cache", source=url
        )
    assert log.requests[0][0] == "/simple-examples.tgz"
    vocabulary = (tmp_path / "out/vocabulary.txt").read_text().splitlines()
    assert "<eos>" in vocabulary and "<unk>" in vocabulary and vocabulary[-1] == "<oov>"
    assert {s: e["num_lines"] for s, e in descriptor["splits"].items()} == {
        "train": 60,
        "valid": 10,
        "test": 10,
    }
    assert descriptor["splits"]["train"]["num_tokens"] == 60 * 9  # 8 words + <eos> a line
    assert all(e["num_out_of_vocabulary"] == 0 for e in descriptor["splits"].values())
    first = texts["test"].splitlines()[0].split() + ["<eos>"]
    ids = _read_ids(tmp_path / "out", descriptor, "test")
    assert [vocabulary[i] for i in ids[0]] == first


def test_text8_is_one_split_cut_into_lines_with_rare_words_unknown(tmp_path):
    rng = np.random.default_rng(1)
    words = rng.choice([f"common{i}" for i in range(20)], size=2400).tolist()
    words[::100] = [f"rare{i}" for i in range(24)]
    path = tmp_path / "text8.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("text8", " " + " ".join(words))
    corpus = Text8()
    corpus.remote_files = (remote_for(path),)
    descriptor = convert_corpus(
        corpus, tmp_path / "out", cache_dir=tmp_path / "cache", source=str(tmp_path)
    )
    assert list(descriptor["splits"]) == ["train"]
    train = descriptor["splits"]["train"]
    assert (train["num_lines"], train["num_tokens"], train["num_out_of_vocabulary"]) == (
        3,
        2400,
        24,
    )
    assert len(train["files"]) == 4
    vocabulary = (tmp_path / "out/vocabulary.txt").read_text().splitlines()
    assert not any(w.startswith("rare") for w in vocabulary) and vocabulary[-1] == "<unk>"
    ids = [i for line in _read_ids(tmp_path / "out", descriptor, "train") for i in line]
    assert ids.count(len(vocabulary) - 1) == 24
    assert json.loads((tmp_path / "out/corpus.json").read_text()) == descriptor


def test_bad_archives_and_names_are_named(tmp_path):
    with pytest.raises(KubeslimError, match="unknown corpus 'wiki'; known: ptb, pydoc_text, text8"):
        get_corpus("wiki")
    path = tmp_path / "simple-examples.tgz"
    path.write_bytes(b"not a tgz")
    corpus = Ptb()
    corpus.remote_files = (remote_for(path),)
    with pytest.raises(KubeslimError, match="simple-examples.tgz: not a readable .tgz"):
        convert_corpus(corpus, tmp_path / "out", cache_dir=tmp_path / "c", source=str(tmp_path))
    assert not (tmp_path / "out").exists()
