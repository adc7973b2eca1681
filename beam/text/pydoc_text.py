"""The embedded default corpus: the English text of Python's reference documentation, which
ships with every CPython as ``pydoc_data.topics``. No network needed.

Each line of a topic is a sentence of lowercase words and numbers ending in ``<eos>`` (as the
PTB reader marks line ends). Topics are split by name: every tenth to test, the next to
valid, the rest to train. Words seen fewer than 5 times in train become ``<unk>``.
"""

import re

from kubeslim.beam.text.base import EOS, TextCorpus

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+")


class PydocText(TextCorpus):
    name = "pydoc_text"
    min_count = 5

    def _topics(self, split: str) -> list[str]:
        from pydoc_data.topics import topics

        index = {"test": 9, "valid": 8}
        names = sorted(topics)
        if split in index:
            return [topics[n] for i, n in enumerate(names) if i % 10 == index[split]]
        return [topics[n] for i, n in enumerate(names) if i % 10 < 8]

    def lines(self, split: str) -> list[str]:
        lines = []
        for text in self._topics(split):
            for line in text.splitlines():
                if tokens := _TOKEN.findall(line.lower()):
                    lines.append(" ".join([*tokens, EOS]))
        return lines
