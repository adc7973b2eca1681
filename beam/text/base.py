"""What a text corpus is to the converter: its files, its splits as lines of space-separated
tokens, and its vocabulary policy. A new corpus is one module with a ``TextCorpus`` subclass
and one line in ``corpus_factory.CORPORA``."""

from pathlib import Path

from kubeslim.beam.download import RemoteFile, fetch

EOS = "<eos>"
UNK = "<unk>"


class TextCorpus:
    """A corpus; subclasses set the class attributes and implement ``lines``."""

    name: str
    remote_files: tuple[RemoteFile, ...] = ()
    split_names: tuple[str, ...] = ("train", "valid", "test")
    min_count: int | None = None  # words seen fewer times in train become <unk>
    vocabulary_size: int | None = None  # at most this many words, most frequent first
    shards: int = 1

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        """Fetches and verifies the corpus's files (from ``source``, a mirror, if given)."""
        self.files = {r.filename: fetch(r, cache_dir, source) for r in self.remote_files}

    def lines(self, split: str) -> list[str]:
        """The split as lines of lowercase space-separated tokens."""
        raise NotImplementedError
