"""A user's own text files (``--corpus text_files``): every file a glob matches, each line to a
split by the hash of its text, vocabulary limits from the command line, and bad files named."""

import collections
import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.convert_text import convert_corpus
from kubeslim.beam.options import ConvertTextOptions
from kubeslim.cli import main
from kubeslim.errors import KubeslimError


def _split(line: str) -> str:
    """The documented rule: SHA-256 of the line's text, its first 4 bytes modulo 100."""
    bucket = int.from_bytes(hashlib.sha256(line.encode()).digest()[:4], "big") % 100
    return {98: "valid", 99: "test"}.get(bucket, "train")


def _write_text(folder, rng) -> list[str]:
    """Two files of Zipf-distributed words (and a file the pattern does not match)."""
    words = [f"w{i}" for i in range(200)]
    lines = [
        " ".join(words[min(k, 199)] for k in rng.zipf(1.3, rng.integers(3, 12)) - 1)
        for _ in range(3_000)
    ]
    folder.mkdir()
    (folder / "a.txt").write_text("\n".join(lines[:1_800]) + "\n\n")
    (folder / "b.txt").write_text("\n".join(f"  {line}\t" for line in lines[1_800:]))
    (folder / "notes.md").write_text("not text the pattern matches\n" * 50)
    return lines


def _read_ids(out, descriptor, split):
    files = [str(out / f) for f in descriptor["splits"][split]["files"]]
    spec = {"tokens": tf.io.VarLenFeature(tf.int64)}
    return [
        tf.sparse.to_dense(tf.io.parse_single_example(r, spec)["tokens"]).numpy().tolist()
        for r in tf.data.TFRecordDataset(files)
    ]


def test_own_text_files_split_by_hash_with_the_vocabulary_limits_given(tmp_path, capsys):
    lines = _write_text(tmp_path / "text", np.random.default_rng(0))
    out = tmp_path / "corpus"
    argv = ["convert-text", "--corpus", "text_files", "--source", f"{tmp_path}/text/*.txt"]
    argv += ["--min_count", "3", "--vocabulary_size", "60", "--output_dir", str(out)]
    assert main(argv) == 0
    descriptor = json.loads((out / "corpus.json").read_text())
    assert (descriptor["min_count"], descriptor["max_vocabulary_size"]) == (3, 60)
    by_split = collections.defaultdict(list)
    for line in lines:
        by_split[_split(line)].append([*line.split(), "<eos>"])
    train_counts = collections.Counter(t for tokens in by_split["train"] for t in tokens)
    vocabulary = (out / "vocabulary_tokens.txt").read_text().splitlines()
    assert vocabulary[-1] == "<unk>" and len(vocabulary) == 61
    assert all(train_counts[w] >= 3 for w in vocabulary[:-1])
    counts = [train_counts[w] for w in vocabulary[:-1]]
    assert counts == sorted(counts, reverse=True)  # the 60 most frequent, most frequent first
    assert all(n <= counts[-1] for w, n in train_counts.items() if w not in vocabulary)
    index = {w: i for i, w in enumerate(vocabulary[:-1])}
    for split in ("train", "valid", "test"):
        expected = sorted(tuple(index.get(t, 60) for t in tokens) for tokens in by_split[split])
        assert sorted(map(tuple, _read_ids(out, descriptor, split))) == expected, split
        assert descriptor["splits"][split]["num_lines"] == len(by_split[split]) > 0


def test_without_a_source_with_no_match_or_with_a_bad_file_the_error_names_it(tmp_path):
    def convert(source: str) -> None:
        options = ConvertTextOptions(corpus_name="text_files", source=source)
        convert_corpus(tmp_path / "out", options)

    with pytest.raises(KubeslimError, match="text_files needs --source PATTERN"):
        convert("")
    with pytest.raises(KubeslimError, match=r"--source '.*/nothing/\*\.txt' matches no file"):
        convert(f"{tmp_path}/nothing/*.txt")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "good.txt").write_text("some words here\n")
    (tmp_path / "text" / "latin1.txt").write_bytes(b"fine line\ncaf\xe9 au lait\n")
    with pytest.raises(KubeslimError, match=r"latin1\.txt, line 2: not UTF-8"):
        convert(f"{tmp_path}/text/*.txt")
    assert not (tmp_path / "out").exists()
