"""word2vec's flags, importable without TensorFlow (the CLI builds its arguments from them)."""

from dataclasses import dataclass

from kubeslim.errors import KubeslimError

LOSSES = ("negative_sampling", "nce")
NEGATIVES_SHARED_BY = 16  # consecutive pairs of a batch that share their negative samples


@dataclass(frozen=True)
class Word2VecOptions:
    """The tutorials' flags."""

    embedding_size: int = 200
    window_size: int = 5
    num_negatives: int = 25
    subsample: float = 1e-3
    learning_rate: float = 0.025
    epochs: int = 15
    batch_size: int = 1024
    loss: str = "negative_sampling"
    seed: int = 0

    def check(self) -> None:
        if self.loss not in LOSSES:
            raise KubeslimError(f"--loss {self.loss!r} unknown; known: {', '.join(LOSSES)}")
        for name in ("embedding_size", "window_size", "num_negatives", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise KubeslimError(f"--{name} must be at least 1")
        if self.batch_size % NEGATIVES_SHARED_BY:
            raise KubeslimError(
                f"--batch_size {self.batch_size}: must be a multiple of {NEGATIVES_SHARED_BY} "
                "(that many pairs share their negative samples)"
            )
