"""word2vec's options, importable without TensorFlow (see ``kubeslim.options``)."""

from dataclasses import dataclass

from kubeslim.options import Options, at_least, option, positive

LOSSES = ("negative_sampling", "nce")
NEGATIVES_SHARED_BY = 16  # consecutive pairs of a batch that share their negative samples


def _multiple_of_shared(batch_size: int) -> str | None:
    if batch_size >= 1 and batch_size % NEGATIVES_SHARED_BY == 0:
        return None
    return f"be a positive multiple of {NEGATIVES_SHARED_BY} (that many pairs share negatives)"


@dataclass(frozen=True)
class Word2VecOptions(Options):
    """The word2vec tutorials' flags."""

    embedding_size: int = option(200, "dimensions of a word vector", check=at_least(1))
    window_size: int = option(5, "context words on each side of a word", check=at_least(1))
    num_negatives: int = option(25, "negative samples per pair", check=at_least(1))
    subsample: float = option(
        1e-3, "subsampling threshold of frequent words; 0 keeps every word", check=at_least(0)
    )
    learning_rate: float = option(0.025, "initial learning rate, decaying to 0", check=positive)
    epochs: int = option(15, "passes over the corpus", check=at_least(1))
    batch_size: int = option(1024, "word pairs per step", check=_multiple_of_shared)
    loss: str = option("negative_sampling", "the loss", choices=LOSSES)
    seed: int = option(0, "initialization and sampling seed", check=at_least(0))


@dataclass(frozen=True)
class Word2VecEvalOptions(Options):
    """What word2vec's evaluation reports besides the corpus's analogy set."""

    neighbours_of: str = option(
        "list,string,function,class,error",
        "comma-separated words whose nearest neighbours are reported",
    )
