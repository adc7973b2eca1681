"""The PTB language model's configurations, importable without TensorFlow."""

from dataclasses import dataclass

from kubeslim.components.text.named_configs import pick_config


@dataclass(frozen=True)
class LanguageModelConfig:
    """The tutorial's ``SmallConfig`` / ``MediumConfig`` / ``LargeConfig`` fields."""

    init_scale: float = 0.1
    learning_rate: float = 1.0
    max_grad_norm: float = 5.0
    num_layers: int = 2
    num_steps: int = 20
    hidden_size: int = 200
    max_epoch: int = 4  # epochs at the initial learning rate
    max_max_epoch: int = 13  # epochs in all
    keep_prob: float = 1.0
    lr_decay: float = 0.5
    batch_size: int = 20
    seed: int = 0


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
    """Configuration ``name`` with ``overrides`` (None values ignored).

    Raises:
      KubeslimError: an unknown name or field.
    """
    return pick_config(CONFIGS, name, "language-model", **overrides)
