"""The embedded default translation corpus: the numbers 1 to 9,999 spelled out in English and
in French by the ``num2words`` package ("one hundred and twenty-three" -> "cent vingt-trois").
No network needed, deterministic, and not trivial: French counts in twenties from 70 on
("soixante et onze", "quatre-vingt-dix-neuf"), agrees "cents" and "quatre-vingts", and drops
English's "and".

The numbers are shuffled with a fixed seed; the first 1,000 are test, the next 500 valid and the
rest train, so no test number is seen in training.
"""

import random
from collections.abc import Iterator

from kubeslim.beam.text.parallel import ParallelCorpus

LARGEST = 9_999
_SPLITS = {"test": (0, 1_000), "valid": (1_000, 1_500), "train": (1_500, LARGEST)}


class NumbersEnfr(ParallelCorpus):
    name = "numbers_enfr"
    max_tokens = (10, 10)

    def pairs(self, split: str) -> Iterator[tuple[str, str]]:
        from num2words import num2words

        numbers = list(range(1, LARGEST + 1))
        random.Random(0).shuffle(numbers)
        start, end = _SPLITS[split]
        for n in numbers[start:end]:
            yield num2words(n, lang="en"), num2words(n, lang="fr")
