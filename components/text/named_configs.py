"""Named configurations with overrides, as the text tutorials' ``--config small|medium|large``;
importable without TensorFlow."""

import dataclasses
from typing import Any, ClassVar, TypeVar

from kubeslim.errors import KubeslimError
from kubeslim.options import Options, parse_assignments, unknown_name

Config = TypeVar("Config", bound=Options)


def pick_config(configs: dict[str, Config], name: str, **overrides: Any) -> Config:
    """``configs[name]`` with ``overrides`` (None values ignored), checked.

    Raises:
      KubeslimError: an unknown name or field, or a bad value.
    """
    if name not in configs:
        raise KubeslimError(f"--config {name!r}: " + unknown_name("configuration", name, configs))
    chosen = configs[name]
    given = {k: v for k, v in overrides.items() if v is not None}
    type(chosen).make(**given)  # names the closest field to a misspelt one
    return dataclasses.replace(chosen, **given)


def config_with_overrides(configs: dict[str, Config], name: str, overrides: str) -> Config:
    """``pick_config`` with overrides written ``"epochs=2,hidden_size=128"`` (the
    pipelines' ``config_overrides`` parameter).

    Raises:
      KubeslimError: an unknown name or field, or a bad value.
    """
    chosen = pick_config(configs, name)
    return pick_config(configs, name, **parse_assignments(type(chosen), overrides))


class ConfigChoice(Options):
    """A named configuration and overrides of its fields, as a pipeline takes them; the
    subclass's ``CONFIGS`` maps names to configurations."""

    CONFIGS: ClassVar[dict[str, Options]]
    config: str
    config_overrides: str

    def check_together(self) -> None:
        try:
            self.resolve()
        except KubeslimError as e:
            if not self.config_overrides:
                raise
            raise KubeslimError(f"--config_overrides {self.config_overrides!r}: {e}") from None

    def resolve(self) -> Options:
        """The chosen configuration with the overrides applied, checked."""
        return config_with_overrides(self.CONFIGS, self.config, self.config_overrides)


OVERRIDES_HELP = (
    'fields of the configuration to change, e.g. "epochs=2,seed=3" (its fields are the '
    "model's command-line flags)"
)
