"""The embedded pydoc_text corpus, converted once for the text-model tests."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kubeslim.beam.convert_text import convert_corpus

    out = tmp_path_factory.mktemp("text") / "pydoc_text"
    convert_corpus("pydoc_text", out)
    return out


@pytest.fixture(scope="session")
def numbers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded numbers_enfr parallel corpus, converted."""
    from kubeslim.beam.convert_text import convert_corpus

    out = tmp_path_factory.mktemp("text") / "numbers_enfr"
    convert_corpus("numbers_enfr", out)
    return out
