"""The contract between the text converter (``beam/convert_text.py``) and the text models:
file names, the TFRecord feature key, and readers for the descriptor and vocabulary."""

import json
from pathlib import Path
from typing import Any

from kubeslim.errors import KubeslimError

DESCRIPTOR_FILE = "corpus.json"
VOCABULARY_FILE = "vocabulary.txt"
TRANSFORM_DIR = "transform"
TOKENS_KEY = "tokens"


def shard_prefix(corpus: str, split: str) -> str:
    """Shards are ``{prefix}-00000-of-0000N.tfrecord``, e.g. ``ptb_train-00000-of-00001``."""
    return f"{corpus}_{split}"


def read_descriptor(corpus_dir: str | Path) -> dict[str, Any]:
    """``corpus.json`` of a converted corpus.

    Raises:
      KubeslimError: ``corpus_dir`` is not one.
    """
    path = Path(corpus_dir) / DESCRIPTOR_FILE
    if not path.is_file():
        raise KubeslimError(
            f"{path} not found: {corpus_dir} is not a converted corpus (run `kubeslim "
            "convert-text` first)"
        )
    return json.loads(path.read_text())


def read_vocabulary(corpus_dir: str | Path) -> list[str]:
    """The words by id; the last names the out-of-vocabulary id."""
    return (Path(corpus_dir) / VOCABULARY_FILE).read_text(encoding="utf-8").splitlines()


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
    return [str(Path(corpus_dir) / f) for f in descriptor["splits"][split]["files"]]
