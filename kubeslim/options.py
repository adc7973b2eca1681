"""Options defined once: each step's settings are a frozen dataclass whose fields carry their
default, help, type and check (``option``), validated when the dataclass is made.

Everything else is generated from them or tested against them: the CLI's flags
(``kubeslim.cli``), the KFP pipelines' parameters and defaults (``kubeslim.pipelines``), and
the README's flag tables. This module imports neither TensorFlow nor kfp, so ``--help`` stays
fast.

Field types are the ones a KFP parameter can have (``str``, ``int``, ``float``, ``bool``), so
a dataclass's defaults are also its pipeline's; "no value" is ``""`` or ``0``, as the help says.
"""

import dataclasses
import difflib
import math
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from kubeslim.errors import KubeslimError

Check = Callable[[Any], str | None]
"""A value -> what is wrong with it (a phrase after "must"), or None."""

_METADATA = "kubeslim"


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """How one option is shown and checked (kept in its field's metadata)."""

    help: str
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    check: Check | None = None
    aliases: tuple[str, ...] = ()  # other flag names (TF-Slim's, where they differ)
    metavar: str | None = None
    cli_only: bool = False  # not a pipeline parameter (how a command line runs, not what)
    pipeline_only: bool = False  # not a command-line flag (the command line has another way)
    unset: str | None = None  # what the default means when it stands for "not given"

    def known_choices(self) -> Sequence[str] | None:
        return self.choices() if callable(self.choices) else self.choices


def option(
    default: Any,
    help: str,
    *,
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    check: Check | None = None,
    aliases: tuple[str, ...] = (),
    metavar: str | None = None,
    cli_only: bool = False,
    pipeline_only: bool = False,
    unset: str | None = None,
) -> Any:
    """A dataclass field with its help, choices (a list, or a function giving it, for
    registries that load late) and check.

    ``unset`` says what the default means when it stands for "not given" (a pipeline
    parameter cannot be None): ``image_size`` 0 is "the network's default". The default is
    then what a pipeline passes, and a command line leaves the flag out instead of giving it.
    """
    spec = OptionSpec(help, choices, check, aliases, metavar, cli_only, pipeline_only, unset)
    return dataclasses.field(default=default, metadata={_METADATA: spec})


def spec_of(field: dataclasses.Field) -> OptionSpec:
    return field.metadata.get(_METADATA) or OptionSpec(help="")


OVERWRITE_HELP = (
    "also replace a kubeslim output of another kind (an earlier output of this step is "
    "replaced anyway; a directory kubeslim did not write never is)"
)


def overwrite_option() -> Any:
    """The ``--overwrite`` flag of a step that writes an output directory (CLI only; see
    ``kubeslim.fileio``)."""
    return option(False, OVERWRITE_HELP, cli_only=True)


# Checks, each a phrase that follows "must".
def at_least(low: float) -> Check:
    return lambda v: None if v >= low else f"be at least {low}"


def positive(v: float) -> str | None:
    return None if v > 0 else "be positive"


def in_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Check:
    """``low <= v <= high``, with either end open."""

    def check(v: float) -> str | None:
        low_ok = v > low if low_open else v >= low
        high_ok = v < high if high_open else v <= high
        if low_ok and high_ok:
            return None
        return f"be in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"

    return check


def zero_or(check: Check) -> Check:
    """0 (meaning "none" or "the default") or a value passing ``check``."""

    def zero_or_check(v: Any) -> str | None:
        problem = None if v == 0 else check(v)
        return problem and f"be 0 or {problem.removeprefix('be ')}"

    return zero_or_check


class Options:
    """Base of the options dataclasses: checks every field when an instance is made.

    Subclasses are ``@dataclasses.dataclass(frozen=True)`` with ``option`` fields and may add
    ``check_together`` for rules across fields.
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if hints[field.name] is float and type(value) is int:
                value = float(value)
                object.__setattr__(self, field.name, value)
            problem = _problem(value, hints[field.name], spec_of(field))
            if problem:
                raise KubeslimError(f"--{field.name} {value!r}: {problem}")
        self.check_together()

    def check_together(self) -> None:
        """Rules that involve several fields; raise ``KubeslimError``."""

    @classmethod
    def from_mapping(cls: type["OptionsType"], values: Mapping[str, Any]) -> "OptionsType":
        """An instance from the mapping's entries that are fields (others ignored, so a
        component can pass its ``locals()``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def make(cls: type["OptionsType"], **values: Any) -> "OptionsType":
        """An instance; an unknown name is an error naming the closest field.

        Raises:
          KubeslimError: an unknown option or a bad value.
        """
        names = _field_names(cls)
        for name in values:
            if name not in names:
                raise KubeslimError(unknown_name(f"option {name!r}", name, names))
        return cls(**values)


OptionsType = TypeVar("OptionsType", bound=Options)


def _problem(value: Any, kind: Any, spec: OptionSpec) -> str | None:
    """What is wrong with ``value`` for a field of type ``kind``, or None."""
    if kind in (str, int, float, bool):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"must be {kind.__name__}"
    if kind is float and not math.isfinite(value):
        return "must be a finite number"
    choices = spec.known_choices()
    if choices is not None and value not in choices:
        return unknown_name("value", str(value), choices)
    if spec.check is not None and (problem := spec.check(value)):
        return f"must {problem}"
    return None


def unknown_name(what: str, name: str, known: Iterable[str]) -> str:
    """``unknown <what>; did you mean X? known: ...`` for a name not among ``known``."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if len(known) > 30:
        return f"unknown {what}{hint} (--help lists the {len(known)} known)"
    listed = ", ".join(k if k else '""' for k in known)
    return f"unknown {what}{hint} (known: {listed})"


def unknown_flag(flag: str, known: Iterable[str]) -> str:
    """``unknown flag --sead; did you mean --seed?`` for a command-line flag."""
    name = flag.split("=", 1)[0]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"unknown flag {name}" + (f"; did you mean {close[0]}?" if close else "")


def parse_value(text: str, kind: Any, name: str) -> Any:
    """``text`` as a value of ``kind`` (str, int, float or bool).

    Raises:
      KubeslimError: naming the option and the kind it takes.
    """
    if kind is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
    else:
        try:
            return kind(text)
        except ValueError:
            pass
    raise KubeslimError(f"--{name} {text!r}: must be {kind.__name__}")


def parse_assignments(cls: type[Options], text: str) -> dict[str, Any]:
    """``"a=1,b=x"`` -> ``{"a": 1, "b": "x"}``, typed as ``cls``'s fields (values are not
    checked here: making the dataclass checks them).

    Raises:
      KubeslimError: not NAME=VALUE pairs, an unknown name, or a value of the wrong type.
    """
    kinds = typing.get_type_hints(cls)
    values = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise KubeslimError(f"{item!r}: expected NAME=VALUE")
        if name not in _field_names(cls):
            raise KubeslimError(unknown_name(f"option {name!r}", name, _field_names(cls)))
        values[name] = parse_value(value.strip(), kinds[name], name)
    return values


def _field_names(cls: type[Options]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def defaults(cls: type[Options]) -> dict[str, Any]:
    """Field name -> default."""
    return {f.name: f.default for f in dataclasses.fields(cls)}
