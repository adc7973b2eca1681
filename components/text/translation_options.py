"""The translation model's configurations, importable without TensorFlow (see
``kubeslim.options``)."""

from dataclasses import dataclass
from typing import ClassVar

from kubeslim.components.text.named_configs import OVERRIDES_HELP, ConfigChoice, pick_config
from kubeslim.errors import KubeslimError
from kubeslim.options import Options, at_least, in_range, option, positive

OPTIMIZERS = ("sgd", "adam")


def parse_buckets(text: str) -> tuple[tuple[int, int], ...]:
    """``"5:10,10:15"`` -> ((5, 10), (10, 15)), sorted.

    Raises:
      KubeslimError: not of that form, or a bucket too small.
    """
    try:
        buckets = tuple(
            tuple(int(n) for n in pair.split(":", 1)) for pair in text.split(",") if pair.strip()
        )
    except ValueError:
        buckets = ()
    if not buckets or any(len(b) != 2 or b[0] < 1 or b[1] < 2 for b in buckets):
        raise KubeslimError(
            f"--buckets {text!r}: expected SOURCE:TARGET pairs, e.g. 5:10,10:15 "
            "(source >= 1, target >= 2 words)"
        )
    return tuple(sorted(buckets))


def _buckets_problem(text: str) -> str | None:
    try:
        parse_buckets(text)
    except KubeslimError:
        return "be SOURCE:TARGET pairs, e.g. 5:10,10:15 (source >= 1, target >= 2 words)"
    return None


@dataclass(frozen=True)
class TranslationConfig(Options):
    """The seq2seq tutorial's ``translate.py`` flags (its defaults), plus an optimizer choice
    and the decoder's beam width."""

    size: int = option(1024, "LSTM units per layer, and the embedding size", check=at_least(1))
    num_layers: int = option(3, "LSTM layers of the encoder and of the decoder", check=at_least(1))
    batch_size: int = option(64, "sentence pairs per step", check=at_least(1))
    buckets: str = option(
        "5:10,10:15,20:25,40:50",
        "SOURCE:TARGET lengths of the buckets a pair is padded to (the smallest that holds it)",
        check=_buckets_problem,
        metavar="S:T,...",
    )
    num_samples: int = option(
        512, "sampled-softmax classes; 0 is the full softmax", check=at_least(0)
    )
    optimizer: str = option("sgd", "the optimizer", choices=OPTIMIZERS)
    learning_rate: float = option(0.5, "initial learning rate", check=positive)
    learning_rate_decay_factor: float = option(
        0.99,
        "the rate is multiplied by this when an epoch's loss beats none of the last three",
        check=in_range(0, 1, low_open=True),
    )
    max_gradient_norm: float = option(
        5.0, "gradients are clipped to this global norm", check=positive
    )
    epochs: int = option(10, "passes over the training pairs", check=at_least(1))
    beam_width: int = option(4, "beam search width; 1 decodes greedily", check=at_least(1))
    reverse_source: bool = option(True, "feed the encoder the source reversed, as the tutorial")
    seed: int = option(0, "initialization and shuffling seed", check=at_least(0))

    @property
    def bucket_sizes(self) -> tuple[tuple[int, int], ...]:
        return parse_buckets(self.buckets)


CONFIGS = {
    "tutorial": TranslationConfig(),
    # numbers_enfr on a CPU in minutes: one small layer, full softmax, Adam.
    "small": TranslationConfig(
        size=128,
        num_layers=1,
        batch_size=32,
        buckets="10:10",
        num_samples=0,
        optimizer="adam",
        learning_rate=0.005,
        epochs=4,
    ),
    # The tutorial's --self_test model.
    "self_test": TranslationConfig(
        size=32, num_layers=2, batch_size=32, buckets="3:3,6:6", num_samples=8, epochs=2
    ),
}


def get_config(name: str, **overrides) -> TranslationConfig:
    """Configuration ``name`` with ``overrides`` (None values ignored), checked.

    Raises:
      KubeslimError: an unknown name or field, or a bad value.
    """
    return pick_config(CONFIGS, name, **overrides)


@dataclass(frozen=True)
class TranslationChoice(ConfigChoice):
    """Which configuration a pipeline trains, and what of it to change."""

    CONFIGS: ClassVar[dict[str, TranslationConfig]] = CONFIGS
    config: str = option(
        "small",
        "small (numbers_enfr on a CPU), tutorial (WMT: 3 x 1024 LSTMs, sampled softmax) or "
        "self_test",
        choices=list(CONFIGS),
    )
    config_overrides: str = option("", OVERRIDES_HELP, pipeline_only=True)

    def resolve(self) -> TranslationConfig:
        return super().resolve()


@dataclass(frozen=True)
class TranslationEvalOptions(Options):
    """How a trained translator is scored."""

    eval_split: str = option(
        "test", "the split to score after training (wmt_enfr has train and valid)"
    )
    eval_beam_width: int = option(
        0,
        "beam search width of the scoring; 1 decodes greedily",
        check=at_least(0),
        unset="the configuration's",
    )
