"""A registry of names whose entries are imported when first used, so listing the names (for
``--help`` and for checking an option) loads neither TensorFlow nor kfp."""

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from kubeslim.errors import KubeslimError
from kubeslim.options import unknown_name


class LazyRegistry(Mapping[str, Any]):
    """``name -> "module:attribute"`` under ``package``; ``registry[name]`` imports it.

    Args:
      package: the package the modules are in.
      entries: name -> ``"module:attribute"``.
      what: what a name names, for errors ("model", "preprocessing").
    """

    def __init__(self, package: str, entries: dict[str, str], what: str):
        self._package, self._entries, self._what = package, dict(entries), what

    def __getitem__(self, name: str) -> Any:
        module, attribute = self._entries[name].split(":")
        return getattr(importlib.import_module(f"{self._package}.{module}"), attribute)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def get_entry(self, name: str) -> Any:
        """The entry of ``name``.

        Raises:
          KubeslimError: ``name`` is not registered, naming the closest one.
        """
        if name not in self._entries:
            raise KubeslimError(unknown_name(f"{self._what} {name!r}", name, self._entries))
        return self[name]
