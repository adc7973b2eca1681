"""A user's own sentence-aligned text for translation: ``--source 'SOURCE_GLOB,TARGET_GLOB'``,
two glob patterns on any file system ``tf.io.gfile`` reads (``europarl/*.en,europarl/*.fr``).
The k-th file of the first pattern (sorted) is aligned line by line with the k-th of the
second, as Giga-Fren's ``.en`` and ``.fr`` are: UTF-8, a sentence per line, and both files of
a pair of equal length. Pairs where either side is blank are skipped. Each pair goes to train,
valid or test by a hash of its two sentences (98, 1 and 1 in 100), so the splits are the same
on every run and a grown corpus keeps every pair where it was. Tokens are cut as the seq2seq
tutorial cut them; 40,000 words per language, as the tutorial's WMT model (``--min_count``
and ``--vocabulary_size`` change it)."""

from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

from kubeslim.beam.text.parallel import ParallelCorpus
from kubeslim.beam.text.text_files import matching_files, split_of, utf8_lines
from kubeslim.errors import KubeslimError

USAGE = (
    "--corpus parallel_files needs --source 'SOURCE_GLOB,TARGET_GLOB' (e.g. 'text/*.en,text/*.fr')"
)


class ParallelFiles(ParallelCorpus):
    name = "parallel_files"
    vocabulary_size = 40_000

    def __init__(self) -> None:
        super().__init__()
        self.file_pairs: list[tuple[str, str]] = []

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        patterns = (source or "").split(",")
        if len(patterns) != 2 or not all(p.strip() for p in patterns):
            raise KubeslimError(f"{USAGE}; got --source {source!r}")
        sources, targets = (
            matching_files(pattern.strip(), f"--source's {side} pattern")
            for pattern, side in zip(patterns, ("source", "target"), strict=True)
        )
        if len(sources) != len(targets):
            raise KubeslimError(
                f"--source: the source pattern matches {len(sources)} file(s) and the target "
                f"pattern {len(targets)}; each source file needs its target file"
            )
        self.file_pairs = list(zip(sources, targets, strict=True))

    def pairs(self, split: str) -> Iterator[tuple[str, str]]:
        for source_path, target_path in self.file_pairs:
            lines = zip_longest(utf8_lines(source_path), utf8_lines(target_path))
            for number, (source, target) in enumerate(lines, 1):
                if source is None or target is None:
                    shorter = source_path if source is None else target_path
                    raise KubeslimError(
                        f"{source_path} and {target_path} are not aligned: {shorter} ends "
                        f"at line {number - 1}, the other goes on"
                    )
                source, target = source[1].strip(), target[1].strip()
                if source and target and split_of(f"{source}\t{target}") == split:
                    yield source, target
