"""A user's own text: every file ``--source`` matches (a glob pattern on any file system
``tf.io.gfile`` reads: ``~/notes/*.txt``, ``gs://bucket/text/*.txt``), UTF-8, one sentence
per line, tokens separated by white space (already tokenized text stays as it is). Each line
goes to train, valid or test by a hash of its text (98, 1 and 1 in 100), so the splits are
the same on every run and a grown corpus keeps every line where it was. Each line gets
``<eos>``, as PTB's do. Words seen fewer than 5 times in train are out of vocabulary
(``--min_count`` changes it)."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

from kubeslim.beam.text.base import EOS, TextCorpus
from kubeslim.errors import KubeslimError

_SPLIT_OF_BUCKET = {98: "valid", 99: "test"}  # buckets 0-97: train


def split_of(line: str) -> str:
    """The split a line belongs to, by the SHA-256 of its text."""
    bucket = int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest()[:4], "big") % 100
    return _SPLIT_OF_BUCKET.get(bucket, "train")


class TextFiles(TextCorpus):
    name = "text_files"
    min_count = 5

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        import tensorflow as tf

        if not source:
            raise KubeslimError("--corpus text_files needs --source PATTERN (e.g. 'text/*.txt')")
        self.paths = sorted(p for p in tf.io.gfile.glob(source) if not tf.io.gfile.isdir(p))
        if not self.paths:
            raise KubeslimError(f"--source {source!r} matches no file")

    def lines(self, split: str) -> Iterator[str]:
        import tensorflow as tf

        for path in self.paths:
            with tf.io.gfile.GFile(path, "rb") as f:
                for number, raw in enumerate(f, 1):
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise KubeslimError(f"{path}, line {number}: not UTF-8 ({e})") from None
                    if (tokens := line.split()) and split_of(line.strip()) == split:
                        yield " ".join([*tokens, EOS])
