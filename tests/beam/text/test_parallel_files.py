"""A user's own sentence-aligned files (``--corpus parallel_files``): the k-th files of two
patterns aligned line by line, each pair to a split by the hash of its two sentences, cut by
the tutorial's tokenizer, then trained on by the translator; misaligned files named."""

import hashlib
import json
import re

import pytest
import tensorflow as tf

from kubeslim.beam.convert_text import convert_corpus
from kubeslim.beam.options import ConvertTextOptions
from kubeslim.cli import main
from kubeslim.errors import KubeslimError

_DIGITS = "zero one two three four five six seven eight nine".split()
_CHIFFRES = "zéro un deux trois quatre cinq six sept huit neuf".split()


def _split(source: str, target: str) -> str:
    """The documented rule: SHA-256 of the two sentences joined by a tab, modulo 100."""
    digest = hashlib.sha256(f"{source}\t{target}".encode()).digest()
    return {98: "valid", 99: "test"}.get(int.from_bytes(digest[:4], "big") % 100, "train")


def _tokens(sentence: str) -> list[str]:
    """The seq2seq tutorial's basic_tokenizer: punctuation split off, digits to 0."""
    return re.sub(r"[0-9]", "0", re.sub(r"""([.,!?"':;)(])""", r" \1 ", sentence)).split()


def _write_pairs(folder) -> list[tuple[str, str]]:
    """Two file pairs of digit strings spelled out, with punctuation, numbers and blanks."""
    folder.mkdir()
    pairs = []
    for part, numbers in (("a", range(0, 1_500)), ("b", range(1_500, 2_400))):
        english, french = [], []
        for n in numbers:
            spelled = [int(d) for d in str(n)]
            english.append(" ".join(_DIGITS[d] for d in spelled) + f", ({n}).")
            french.append(" ".join(_CHIFFRES[d] for d in spelled) + f", ({n}).")
        english.insert(7, "a line whose French is blank")
        french.insert(7, "   ")
        (folder / f"{part}.en").write_text("\n".join(english) + "\n")
        (folder / f"{part}.fr").write_text("\n".join(french) + "\n")
        pairs += [(e, f) for e, f in zip(english, french, strict=True) if f.strip()]
    return pairs


def _read_pairs(out, descriptor, split) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    vocabularies = {
        side: (out / f"vocabulary_{side}.txt").read_text().splitlines()
        for side in ("source", "target")
    }
    spec = {side: tf.io.VarLenFeature(tf.int64) for side in vocabularies}
    files = [str(out / f) for f in descriptor["splits"][split]["files"]]
    pairs = []
    for record in tf.data.TFRecordDataset(files):
        example = tf.io.parse_single_example(record, spec)
        pairs.append(
            tuple(
                tuple(vocabularies[side][i] for i in tf.sparse.to_dense(example[side]).numpy())
                for side in ("source", "target")
            )
        )
    return pairs


def test_own_parallel_files_convert_aligned_and_train_the_translator(tmp_path):
    pairs = _write_pairs(tmp_path / "text")
    out = tmp_path / "corpus"
    source = f"{tmp_path}/text/*.en,{tmp_path}/text/*.fr"
    argv = ["convert-text", "--corpus", "parallel_files", "--source", source]
    assert main([*argv, "--output_dir", str(out)]) == 0
    descriptor = json.loads((out / "corpus.json").read_text())
    assert descriptor["features"] == ["source", "target"]
    assert descriptor["max_vocabulary_size"] == 40_000
    for split in ("train", "valid", "test"):
        expected = sorted(
            (tuple(_tokens(e)), tuple(_tokens(f))) for e, f in pairs if _split(e, f) == split
        )
        assert expected, split
        assert sorted(_read_pairs(out, descriptor, split)) == expected, split
    assert "zéro" in (out / "vocabulary_target.txt").read_text().splitlines()

    model = tmp_path / "model"
    argv = ["translation-model", "--corpus_dir", str(out), "--model_dir", str(model)]
    assert main([*argv, "--config", "small", "--epochs", "1", "--buckets", "12:12"]) == 0
    assert list(model.glob("*.index")) or list(model.glob("*/*.index"))


def test_misaligned_or_unmatched_parallel_files_are_named(tmp_path):
    def convert(source: str) -> None:
        options = ConvertTextOptions(corpus_name="parallel_files", source=source)
        convert_corpus(tmp_path / "out", options)

    text = tmp_path / "text"
    text.mkdir()
    (text / "a.en").write_text("one\ntwo\nthree\n")
    (text / "a.fr").write_text("un\ndeux\n")
    with pytest.raises(KubeslimError, match="needs --source 'SOURCE_GLOB,TARGET_GLOB'"):
        convert(f"{text}/*.en")
    with pytest.raises(KubeslimError, match=r"--source's target pattern '.*\*\.de' matches no"):
        convert(f"{text}/*.en,{text}/*.de")
    (text / "b.en").write_text("four\n")
    with pytest.raises(KubeslimError, match=r"matches 2 file\(s\) and the target pattern 1"):
        convert(f"{text}/*.en,{text}/*.fr")
    with pytest.raises(
        KubeslimError, match=r"a\.en and .*a\.fr are not aligned: .*a\.fr ends at line 2"
    ):
        convert(f"{text}/a.en,{text}/a.fr")
    (text / "a.fr").write_bytes(b"un\ndeux\ntr\xe8s\n")
    with pytest.raises(KubeslimError, match=r"a\.fr, line 3: not UTF-8"):
        convert(f"{text}/a.en,{text}/a.fr")
    assert not (tmp_path / "out").exists()
