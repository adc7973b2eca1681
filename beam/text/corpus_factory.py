"""Maps corpus names to ``TextCorpus`` classes."""

from kubeslim.beam.text.base import TextCorpus
from kubeslim.beam.text.numbers_enfr import NumbersEnfr
from kubeslim.beam.text.parallel_files import ParallelFiles
from kubeslim.beam.text.ptb import Ptb
from kubeslim.beam.text.pydoc_text import PydocText
from kubeslim.beam.text.text8 import Text8
from kubeslim.beam.text.text_files import TextFiles
from kubeslim.beam.text.wmt_enfr import WmtEnfr
from kubeslim.errors import KubeslimError

CORPORA: dict[str, type[TextCorpus]] = {
    "numbers_enfr": NumbersEnfr,
    "parallel_files": ParallelFiles,
    "ptb": Ptb,
    "pydoc_text": PydocText,
    "text8": Text8,
    "text_files": TextFiles,
    "wmt_enfr": WmtEnfr,
}


def get_corpus(name: str) -> TextCorpus:
    """A fresh corpus ``name``.

    Raises:
      KubeslimError: ``name`` is not registered.
    """
    if name not in CORPORA:
        raise KubeslimError(f"unknown corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    return CORPORA[name]()
