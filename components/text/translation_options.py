"""The translation model's configurations, importable without TensorFlow."""

from dataclasses import dataclass

from kubeslim.components.text.named_configs import pick_config
from kubeslim.errors import KubeslimError

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class TranslationConfig:
    """The seq2seq tutorial's ``translate.py`` flags (its defaults), plus an optimizer choice
    and the decoder's beam width."""

    size: int = 1024  # LSTM units per layer, and the embedding size
    num_layers: int = 3
    batch_size: int = 64
    buckets: tuple[tuple[int, int], ...] = ((5, 10), (10, 15), (20, 25), (40, 50))
    num_samples: int = 512  # sampled-softmax classes; 0: full softmax
    optimizer: str = "sgd"
    learning_rate: float = 0.5
    learning_rate_decay_factor: float = 0.99  # when an epoch's loss beats none of the last 3
    max_gradient_norm: float = 5.0
    epochs: int = 10
    beam_width: int = 4
    reverse_source: bool = True  # the tutorial feeds the encoder the source reversed
    seed: int = 0

    def check(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise KubeslimError(
                f"--optimizer {self.optimizer!r} unknown; known: {', '.join(OPTIMIZERS)}"
            )
        for name in ("size", "num_layers", "batch_size", "epochs", "beam_width"):
            if getattr(self, name) < 1:
                raise KubeslimError(f"--{name} must be at least 1")
        if not self.buckets or any(s < 1 or t < 2 for s, t in self.buckets):
            raise KubeslimError(
                f"--buckets {self.buckets}: need (source, target) sizes, target >= 2"
            )


CONFIGS = {
    "tutorial": TranslationConfig(),
    # numbers_enfr on a CPU in minutes: one small layer, full softmax, Adam.
    "small": TranslationConfig(
        size=128,
        num_layers=1,
        batch_size=32,
        buckets=((10, 10),),
        num_samples=0,
        optimizer="adam",
        learning_rate=0.005,
        epochs=4,
    ),
    # The tutorial's --self_test model.
    "self_test": TranslationConfig(
        size=32, num_layers=2, batch_size=32, buckets=((3, 3), (6, 6)), num_samples=8, epochs=2
    ),
}


def parse_buckets(text: str) -> tuple[tuple[int, int], ...]:
    """``"5:10,10:15"`` -> ((5, 10), (10, 15)).

    Raises:
      KubeslimError: not of that form.
    """
    try:
        buckets = tuple(
            tuple(int(n) for n in pair.split(":", 1)) for pair in text.split(",") if pair
        )
    except ValueError:
        buckets = ()
    if not buckets or any(len(b) != 2 for b in buckets):
        raise KubeslimError(f"--buckets {text!r}: expected SOURCE:TARGET pairs, e.g. 5:10,10:15")
    return tuple(sorted(buckets))


def get_config(name: str, **overrides) -> TranslationConfig:
    """Configuration ``name`` with ``overrides`` (None values ignored), checked.

    Raises:
      KubeslimError: an unknown name or field, or a bad value.
    """
    config = pick_config(CONFIGS, name, "translation", **overrides)
    config.check()
    return config
