"""Sentence-aligned corpora for translation, cut into tokens as the seq2seq tutorial's
``data_utils.basic_tokenizer`` does: on white space, with the punctuation ``.,!?"':;)(`` split
off into tokens of its own and every digit normalized to ``0``. Case is kept."""

from collections.abc import Iterator

from kubeslim.beam.text.base import TextCorpus

SOURCE_KEY = "source"
TARGET_KEY = "target"
_PUNCTUATION = r"""([.,!?"':;)(])"""


class ParallelCorpus(TextCorpus):
    """Subclasses implement ``pairs``; the source and target get a vocabulary each."""

    features = (SOURCE_KEY, TARGET_KEY)
    # The tutorial's largest bucket is (40, 50); the decoder's input is GO + target, so a
    # target of at most 49 tokens fits.
    max_tokens = (40, 49)

    def pairs(self, split: str) -> Iterator[tuple[str, str]]:
        """The split's (source sentence, target sentence) pairs."""
        raise NotImplementedError

    def records(self, split: str) -> Iterator[tuple[str, ...]]:
        return self.pairs(split)

    def tokenize(self, text):
        import tensorflow as tf

        spaced = tf.strings.regex_replace(text, _PUNCTUATION, r" \1 ")
        return tf.strings.split(tf.strings.regex_replace(spaced, r"[0-9]", "0"))
