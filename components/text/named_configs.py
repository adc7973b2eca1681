"""Named configurations with command-line overrides, as the text tutorials' ``--config
small|medium|large``; importable without TensorFlow."""

from dataclasses import replace
from typing import Any, TypeVar

from kubeslim.errors import KubeslimError

Config = TypeVar("Config")


def pick_config(configs: dict[str, Config], name: str, what: str, **overrides: Any) -> Config:
    """``configs[name]`` with ``overrides`` (None values ignored) for a ``what`` model.

    Raises:
      KubeslimError: an unknown name or field.
    """
    if name not in configs:
        raise KubeslimError(f"--config {name!r} unknown; known: {', '.join(configs)}")
    try:
        return replace(configs[name], **{k: v for k, v in overrides.items() if v is not None})
    except TypeError as e:
        raise KubeslimError(f"unknown {what} option: {e}") from None
