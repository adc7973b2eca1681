"""The contract between the text converter (``beam/convert_text.py``) and the text models:
file names, the TFRecord feature keys, and readers for the descriptor and vocabularies."""

import json
from pathlib import Path
from typing import Any

from kubeslim import storage
from kubeslim.errors import KubeslimError

DESCRIPTOR_FILE = "corpus.json"
TRANSFORM_DIR = "transform"
TOKENS_KEY = "tokens"  # the one feature of a monolingual corpus
# A word2vec analogy set mapped to ids: "a b c d" id lines (a is to b as c is to d) under
# ": section" lines, questions with a word outside the vocabulary left out.
ANALOGIES_FILE = "analogies.ids.txt"


def shard_prefix(corpus: str, split: str) -> str:
    """Shards are ``{prefix}-00000-of-0000N.tfrecord``, e.g. ``ptb_train-00000-of-00001``."""
    return f"{corpus}_{split}"


def vocabulary_file(feature: str = TOKENS_KEY) -> str:
    """``vocabulary_{feature}.txt``: one word per line, its line number its id; the last line
    names the out-of-vocabulary id."""
    return f"vocabulary_{feature}.txt"


def read_descriptor(corpus_dir: str | Path) -> dict[str, Any]:
    """``corpus.json`` of a converted corpus.

    Raises:
      KubeslimError: ``corpus_dir`` is not one.
    """
    storage.check_tensorflow_can_read(str(corpus_dir), "--corpus_dir")
    path = storage.join(corpus_dir, DESCRIPTOR_FILE)
    try:
        return json.loads(storage.read_bytes(path))
    except FileNotFoundError:
        raise KubeslimError(
            f"{path} not found: {corpus_dir} is not a converted corpus (run `kubeslim "
            "convert-text` first)"
        ) from None


def read_vocabulary(corpus_dir: str | Path, feature: str = TOKENS_KEY) -> list[str]:
    """The words of ``feature`` by id; the last names the out-of-vocabulary id.

    Raises:
      KubeslimError: ``corpus_dir`` has no vocabulary for ``feature``.
    """
    path = storage.join(corpus_dir, vocabulary_file(feature))
    try:
        return storage.read_bytes(path).decode("utf-8").splitlines()
    except FileNotFoundError:
        raise KubeslimError(
            f"{path} not found: {corpus_dir} has no {feature!r} vocabulary"
        ) from None


def read_analogies(
    path: str | Path, words: list[str]
) -> tuple[list[tuple[str, list[list[int]]]], int]:
    """A ``questions-words.txt``-format file (``: section`` lines, then ``a b c d`` lines: a
    is to b as c is to d) mapped to the ids of ``words`` (case-insensitive).

    Returns:
      Each section's name with its questions (4 ids each), and the number of questions left
      out for a word outside ``words``.

    Raises:
      KubeslimError: the file cannot be read or a question is not 4 words.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise KubeslimError(f"{path}: {e.strerror}") from None
    index = {w: i for i, w in enumerate(words)}
    sections: list[tuple[str, list[list[int]]]] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        if not line.strip():
            continue
        question = line.lower().split()
        if len(question) != 4:
            raise KubeslimError(f"{path}:{number}: expected 4 words, got {line!r}")
        if all(w in index for w in question):
            if not sections:
                sections.append(("", []))
            sections[-1][1].append([index[w] for w in question])
        else:
            skipped += 1
    return sections, skipped


def write_vocabulary(directory: str | Path, words: list[str], feature: str = TOKENS_KEY) -> None:
    """Writes ``words`` as ``read_vocabulary`` reads them."""
    path = Path(directory) / vocabulary_file(feature)
    path.write_text("".join(w + "\n" for w in words), encoding="utf-8")


def split_files(corpus_dir: str | Path, descriptor: dict[str, Any], split: str) -> list[str]:
    """The shard paths of ``split``.

    Raises:
      KubeslimError: the corpus has no such split.
    """
    if split not in descriptor["splits"]:
        raise KubeslimError(
            f"corpus {descriptor['name']!r} has no split {split!r}; it has: "
            f"{', '.join(descriptor['splits'])}"
        )
    return [storage.join(corpus_dir, f) for f in descriptor["splits"][split]["files"]]
