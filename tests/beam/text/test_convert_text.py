"""Text corpora to token-id TFRecords with tensorflow-transform vocabularies: the embedded
pydoc_text and numbers_enfr, and PTB, text8 and WMT en-fr from small files in their real
formats served on 127.0.0.1 or read from a local mirror."""

import collections
import gzip
import io
import json
import tarfile
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.convert_text import convert_corpus
from kubeslim.beam.options import ConvertTextOptions
from kubeslim.beam.text.corpus_factory import get_corpus
from kubeslim.beam.text.ptb import Ptb
from kubeslim.beam.text.text8 import Text8
from kubeslim.beam.text.wmt_enfr import DEV_ARCHIVE, TRAIN_ARCHIVE, WmtEnfr
from kubeslim.errors import KubeslimError

from ..fakes import http_server, remote_for


def _read_ids(out, descriptor, split, feature="tokens"):
    files = [str(out / f) for f in descriptor["splits"][split]["files"]]
    spec = {feature: tf.io.VarLenFeature(tf.int64)}
    return [
        tf.sparse.to_dense(tf.io.parse_single_example(r, spec)[feature]).numpy().tolist()
        for r in tf.data.TFRecordDataset(files)
    ]


def _vocabulary(out, feature="tokens"):
    return (out / f"vocabulary_{feature}.txt").read_text().splitlines()


@pytest.fixture(scope="module")
def pydoc(tmp_path_factory):
    out = tmp_path_factory.mktemp("text") / "pydoc_text"
    return out, convert_corpus(out, ConvertTextOptions(corpus_name="pydoc_text"))


def test_pydoc_text_lines_become_ids_of_a_min_count_vocabulary(pydoc):
    out, descriptor = pydoc
    vocabulary = _vocabulary(out)
    assert descriptor["vocabularies"]["tokens"] == {
        "size": len(vocabulary),
        "out_of_vocabulary_id": len(vocabulary) - 1,
    }
    assert vocabulary[-1] == "<unk>"
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
        assert sum(map(len, ids)) == descriptor["splits"][split]["num_tokens"]["tokens"]


def test_the_transform_maps_raw_text_as_the_records_do(pydoc):
    import tensorflow_transform as tft

    out, _ = pydoc
    vocabulary = _vocabulary(out)
    layer = tft.TFTransformOutput(str(out / "transform")).transform_features_layer()
    ids = layer({"tokens": tf.constant(["the object is a class <eos>", "zzzunseen the"])})["tokens"]
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
            tmp_path / "out",
            ConvertTextOptions(cache_dir=str(tmp_path / "cache"), source=url),
            corpus=corpus,
        )
    assert log.requests[0][0] == "/simple-examples.tgz"
    vocabulary = _vocabulary(tmp_path / "out")
    assert "<eos>" in vocabulary and "<unk>" in vocabulary and vocabulary[-1] == "<oov>"
    assert {s: e["num_lines"] for s, e in descriptor["splits"].items()} == {
        "train": 60,
        "valid": 10,
        "test": 10,
    }
    assert descriptor["splits"]["train"]["num_tokens"] == {"tokens": 60 * 9}  # 8 + <eos>
    assert all(e["num_out_of_vocabulary"] == {"tokens": 0} for e in descriptor["splits"].values())
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
    questions = tmp_path / "questions-words.txt"
    questions.write_text(
        ": capital-common-countries\nCommon0 common1 common2 common3\n"
        ": family\ncommon4 common5 rare0 common6\ncommon7 common8 common9 common10\n"
    )
    corpus = Text8()
    corpus.remote_files = (remote_for(path), remote_for(questions))
    with http_server(tmp_path) as (url, log):
        descriptor = convert_corpus(
            tmp_path / "out",
            ConvertTextOptions(cache_dir=str(tmp_path / "cache"), source=url),
            corpus=corpus,
        )
    assert sorted(r[0] for r in log.requests) == ["/questions-words.txt", "/text8.zip"]
    assert list(descriptor["splits"]) == ["train"]
    train = descriptor["splits"]["train"]
    assert (train["num_lines"], train["num_tokens"], train["num_out_of_vocabulary"]) == (
        3,
        {"tokens": 2400},
        {"tokens": 24},
    )
    assert len(train["files"]) == 4
    vocabulary = _vocabulary(tmp_path / "out")
    assert not any(w.startswith("rare") for w in vocabulary) and vocabulary[-1] == "<unk>"
    ids = [i for line in _read_ids(tmp_path / "out", descriptor, "train") for i in line]
    assert ids.count(len(vocabulary) - 1) == 24
    assert json.loads((tmp_path / "out/corpus.json").read_text()) == descriptor
    # The analogy set, mapped to ids; a question with a word outside the vocabulary is dropped.
    assert descriptor["analogies"] == {"file": "analogies.ids.txt", "questions": 2, "skipped": 1}
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = lambda *ws: " ".join(str(index[w]) for w in ws)  # noqa: E731
    assert (tmp_path / "out/analogies.ids.txt").read_text().splitlines() == [
        ": capital-common-countries",
        ids("common0", "common1", "common2", "common3"),
        ": family",
        ids("common7", "common8", "common9", "common10"),
    ]


def test_bad_archives_and_names_are_named(tmp_path):
    with pytest.raises(
        KubeslimError,
        match="unknown corpus 'wiki'; known: numbers_enfr, parallel_files, ptb, pydoc_text, "
        "text8, text_files, wmt_enfr",
    ):
        get_corpus("wiki")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    path = mirror / "simple-examples.tgz"
    path.write_bytes(b"not a tgz")
    corpus = Ptb()
    corpus.remote_files = (remote_for(path),)
    with pytest.raises(KubeslimError, match="simple-examples.tgz: not a readable .tgz"):
        convert_corpus(
            tmp_path / "out",
            ConvertTextOptions(cache_dir=str(tmp_path / "c"), source=str(mirror)),
            corpus=corpus,
        )
    assert not (tmp_path / "out").exists()


def test_numbers_enfr_pairs_spelled_out_numbers_with_disjoint_splits(tmp_path):
    descriptor = convert_corpus(tmp_path / "out", ConvertTextOptions(corpus_name="numbers_enfr"))
    assert descriptor["features"] == ["source", "target"]
    assert {s: e["num_lines"] for s, e in descriptor["splits"].items()} == {
        "train": 8_499,
        "valid": 500,
        "test": 1_000,
    }
    source, target = (
        _vocabulary(tmp_path / "out", "source"),
        _vocabulary(tmp_path / "out", "target"),
    )
    assert {"thousand", "hundred", "and", ",", "seventy-seven"} <= set(source)
    assert {"mille", "cent", "soixante-dix-sept", "quatre-vingts"} <= set(target)
    corpus = get_corpus("numbers_enfr")
    english = {split: {en for en, _ in corpus.pairs(split)} for split in corpus.split_names}
    assert not english["test"] & english["train"] and not english["valid"] & english["train"]
    pairs = {en: fr for split in corpus.split_names for en, fr in corpus.pairs(split)}
    assert len(pairs) == 9_999
    assert pairs["seven thousand, seven hundred and seventy-seven"] == (
        "sept mille sept cent soixante-dix-sept"
    )
    en, fr = next(corpus.pairs("test"))
    ids = {f: _read_ids(tmp_path / "out", descriptor, "test", f)[0] for f in ("source", "target")}
    assert " ".join(source[i] for i in ids["source"]) == en.replace(",", " ,")
    assert " ".join(target[i] for i in ids["target"]) == fr


def _wmt_archives(root, train_pairs, dev_pairs, french_extra=()):
    """training-giga-fren.tar (gzipped, line-aligned .en/.fr) and dev-v2.tgz (newstest2013)."""
    with tarfile.open(root / "training-giga-fren.tar", "w") as tar:
        for lang, lines in (
            ("en", [e for e, _ in train_pairs]),
            ("fr", [f for _, f in train_pairs]),
        ):
            data = gzip.compress(
                "".join(x + "\n" for x in [*lines, *french_extra * (lang == "fr")]).encode()
            )
            info = tarfile.TarInfo(f"giga-fren.release2.fixed.{lang}.gz")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with tarfile.open(root / "dev-v2.tgz", "w:gz") as tar:
        for lang, i in (("en", 0), ("fr", 1)):
            data = "".join(p[i] + "\n" for p in dev_pairs).encode()
            info = tarfile.TarInfo(f"dev/newstest2013.{lang}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _wmt_corpus(root):
    corpus = WmtEnfr()
    corpus.remote_files = (
        remote_for(root / TRAIN_ARCHIVE.filename),
        remote_for(root / DEV_ARCHIVE.filename),
    )
    return corpus


def test_wmt_enfr_from_127_0_0_1_tokenizes_as_the_tutorial_and_drops_long_pairs(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    train = [
        ("The cat sat.", "Le chat s'est assis."),
        ("In 1995, it rained!", "En 1995, il pleuvait !"),
    ]
    train = train * 5 + [("word " * 41, "chat " * 3), ("short", "chat " * 50)]
    dev = [("The cat (2013)", "chat (2013)")]
    _wmt_archives(served, train, dev)
    corpus = _wmt_corpus(served)
    corpus.vocabulary_size = 12
    with http_server(served) as (url, log):
        descriptor = convert_corpus(
            tmp_path / "out",
            ConvertTextOptions(cache_dir=str(tmp_path / "cache"), source=url),
            corpus=corpus,
        )
    assert sorted(r[0] for r in log.requests) == ["/dev-v2.tgz", "/training-giga-fren.tar"]
    assert descriptor["splits"]["train"]["num_lines"] == 10
    assert descriptor["splits"]["train"]["num_dropped"] == 2  # 41 source / 50 target tokens
    source, target = (
        _vocabulary(tmp_path / "out", "source"),
        _vocabulary(tmp_path / "out", "target"),
    )
    # The vocabulary counts every train pair, dropped or not, as the tutorial's does: source
    # has 12 words, target 13 of which the limit keeps 12; plus the out-of-vocabulary id.
    assert len(source) == len(target) == 13 and source[-1] == target[-1] == "<unk>"
    assert {"0000", ",", ".", "!", "The"} <= set(source)  # digits normalized, case kept
    ids = _read_ids(tmp_path / "out", descriptor, "valid", "target")
    assert [target[i] for i in ids[0]] == ["chat", "<unk>", "0000", "<unk>"]
    assert descriptor["splits"]["valid"]["num_out_of_vocabulary"] == {"source": 2, "target": 2}


def test_wmt_enfr_with_misaligned_languages_is_named(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    _wmt_archives(mirror, [("a", "b")] * 3, [("c", "d")], french_extra=("extra",))
    with pytest.raises(
        KubeslimError,
        match="training-giga-fren.tar: the English and French of "
        "giga-fren.release2.fixed.\\*.gz have different numbers of lines",
    ):
        convert_corpus(
            tmp_path / "out",
            ConvertTextOptions(cache_dir=str(tmp_path / "c"), source=str(mirror)),
            corpus=_wmt_corpus(mirror),
        )
    assert not (tmp_path / "out").exists()
