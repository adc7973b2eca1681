"""The PTB language model's configurations, importable without TensorFlow (see
``kubeslim.options``): the tutorial's small, medium and large, each field overridable."""

from dataclasses import dataclass
from typing import ClassVar

from kubeslim.components.text.named_configs import OVERRIDES_HELP, ConfigChoice, pick_config
from kubeslim.options import Options, at_least, in_range, option, positive


@dataclass(frozen=True)
class LanguageModelConfig(Options):
    """The tutorial's ``SmallConfig`` / ``MediumConfig`` / ``LargeConfig`` fields; the
    defaults are ``small``'s."""

    init_scale: float = option(
        0.1, "weights start uniform in [-init_scale, init_scale]", check=positive
    )
    learning_rate: float = option(1.0, "initial learning rate (plain SGD)", check=positive)
    max_grad_norm: float = option(5.0, "gradients are clipped to this global norm", check=positive)
    num_layers: int = option(2, "LSTM layers", check=at_least(1))
    num_steps: int = option(20, "unrolled steps (truncated backpropagation)", check=at_least(1))
    hidden_size: int = option(200, "LSTM units, and the embedding size", check=at_least(1))
    max_epoch: int = option(4, "epochs at the initial learning rate", check=at_least(1))
    max_max_epoch: int = option(13, "epochs in all", check=at_least(1))
    keep_prob: float = option(1.0, "dropout keep probability", check=in_range(0, 1, low_open=True))
    lr_decay: float = option(
        0.5, "learning-rate factor per epoch after max_epoch", check=in_range(0, 1, low_open=True)
    )
    batch_size: int = option(20, "sequences per batch", check=at_least(1))
    seed: int = option(0, "initialization and dropout seed", check=at_least(0))


CONFIGS = {
    "small": LanguageModelConfig(),
    "medium": LanguageModelConfig(
        init_scale=0.05,
        num_steps=35,
        hidden_size=650,
        max_epoch=6,
        max_max_epoch=39,
        keep_prob=0.5,
        lr_decay=0.8,
    ),
    "large": LanguageModelConfig(
        init_scale=0.04,
        max_grad_norm=10.0,
        num_steps=35,
        hidden_size=1500,
        max_epoch=14,
        max_max_epoch=55,
        keep_prob=0.35,
        lr_decay=1 / 1.15,
    ),
}


def get_config(name: str, **overrides) -> LanguageModelConfig:
    """Configuration ``name`` with ``overrides`` (None values ignored), checked.

    Raises:
      KubeslimError: an unknown name or field, or a bad value.
    """
    return pick_config(CONFIGS, name, **overrides)


@dataclass(frozen=True)
class LanguageModelChoice(ConfigChoice):
    """Which configuration a pipeline trains, and what of it to change."""

    CONFIGS: ClassVar[dict[str, LanguageModelConfig]] = CONFIGS
    config: str = option(
        "small", "the tutorial's configuration (small, medium, large)", choices=list(CONFIGS)
    )
    config_overrides: str = option("", OVERRIDES_HELP, pipeline_only=True)

    def resolve(self) -> LanguageModelConfig:
        return super().resolve()
