"""What a text corpus is to the converter: its files, its splits as records of raw text (one
string per feature), how the text is cut into tokens, and its vocabulary policy. A new corpus
is one module with a ``TextCorpus`` (or ``ParallelCorpus``) subclass and one line in
``corpus_factory.CORPORA``."""

from collections.abc import Iterable, Iterator
from pathlib import Path

from kubeslim.beam.download import RemoteFile, fetch
from kubeslim.corpus_spec import TOKENS_KEY

EOS = "<eos>"
UNK = "<unk>"


class TextCorpus:
    """A monolingual corpus; subclasses set the class attributes and implement ``lines``."""

    name: str
    remote_files: tuple[RemoteFile, ...] = ()
    split_names: tuple[str, ...] = ("train", "valid", "test")
    features: tuple[str, ...] = (TOKENS_KEY,)  # one TFRecord feature and vocabulary each
    min_count: int | None = None  # words seen fewer times in train are out of vocabulary
    vocabulary_size: int | None = None  # at most this many words per feature, most frequent
    max_tokens: tuple[int, ...] | None = None  # longer records are counted and dropped
    shards: int = 1

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        """Fetches and verifies the corpus's files (from ``source``, a mirror, if given)."""
        self.files = {r.filename: fetch(r, cache_dir, source) for r in self.remote_files}

    def lines(self, split: str) -> Iterable[str]:
        """The split as lines of space-separated tokens."""
        raise NotImplementedError

    def records(self, split: str) -> Iterator[tuple[str, ...]]:
        """The split's records: one raw string per feature."""
        return ((line,) for line in self.lines(split))

    def write_extras(self, output_dir: Path, vocabularies: dict[str, list[str]]) -> dict:
        """Writes any further files the corpus ships (text8: its analogy set mapped to ids)
        and returns what the descriptor should say of them."""
        return {}

    def tokenize(self, text):
        """Raw strings [batch] -> tokens (a RaggedTensor), in TensorFlow ops so that the
        tensorflow-transform graph, and every model exported with it, cuts text the same way."""
        import tensorflow as tf

        return tf.strings.split(text)
