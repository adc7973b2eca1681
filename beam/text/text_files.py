"""A user's own text: every file ``--source`` matches (a glob pattern on any of Beam's file
systems: ``~/notes/*.txt``, ``gs://bucket/text/*.txt``, ``s3://bucket/text/*``), UTF-8, one sentence
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


def matching_files(source: str, flag: str = "--source") -> list[str]:
    """The files (not folders) the glob ``source`` matches, sorted.

    Raises:
      KubeslimError: it matches no file.
    """
    import os

    from apache_beam.io.filesystems import FileSystems

    pattern = os.path.expanduser(source)
    (result,) = FileSystems.match([pattern])
    paths = sorted(m.path for m in result.metadata_list if not os.path.isdir(m.path))
    if not paths:
        raise KubeslimError(f"{flag} {source!r} matches no file")
    return paths


def utf8_lines(path: str) -> Iterator[tuple[int, str]]:
    """``path``'s lines, numbered from 1, decoded as UTF-8.

    Raises:
      KubeslimError: a line is not UTF-8; the message names the file and the line.
    """
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path, compression_type="uncompressed") as f:
        for number, raw in enumerate(f, 1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise KubeslimError(f"{path}, line {number}: not UTF-8 ({e})") from None


class TextFiles(TextCorpus):
    name = "text_files"
    min_count = 5

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        if not source:
            raise KubeslimError("--corpus text_files needs --source PATTERN (e.g. 'text/*.txt')")
        self.paths = matching_files(source)

    def lines(self, split: str) -> Iterator[str]:
        for path in self.paths:
            for _, line in utf8_lines(path):
                if (tokens := line.split()) and split_of(line.strip()) == split:
                    yield " ".join([*tokens, EOS])
