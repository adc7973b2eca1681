"""How the ``kubeslim`` subcommands are declared and their flags made.

A ``Command`` names its handler, the options dataclasses whose fields become its flags, its
path flags, and any flag of its own. Every flag of an options field is generated here: its
name and TF-Slim aliases, its type, its help with the default; the value is checked when the
handler makes the dataclass (``Invocation.options``). A bad flag or value ends the command with
one line naming it, and a mistyped flag names the closest known one.
"""

import argparse
import dataclasses
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from kubeslim.errors import KubeslimError
from kubeslim.options import Options, OptionsType, parse_value, spec_of


class UsageError(KubeslimError):
    """A command line that does not parse; the CLI prints it and exits 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed with the
    whole usage (the usage of a command with forty flags is a screenful)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass(frozen=True)
class PathFlag:
    """A flag naming a file or directory the command reads or writes."""

    name: str
    help: str
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """A subcommand.

    Attributes:
      name: as typed, e.g. ``convert-text``.
      help: one sentence, shown in ``kubeslim --help`` and atop the command's own.
      run: the handler.
      options: options dataclasses whose fields (other than pipeline-only ones) are flags.
      paths: path flags.
      overrides: a named configuration's dataclass: each field a flag that changes the chosen
        configuration's value.
      configs: the named configurations (``--config``'s choices), for the help.
      flags: ``(parser, argv)``: adds the command's other flags (positional arguments, ...).
      beam: the command runs a Beam job, so Beam's pipeline options are accepted.
      tensorflow: the command imports TensorFlow (quietly, before its handler runs).
      epilog: shown at the end of the command's help.
    """

    name: str
    help: str
    run: Callable[["Invocation"], None]
    options: tuple[type[Options], ...] = ()
    paths: tuple[PathFlag, ...] = ()
    overrides: type[Options] | None = None
    configs: dict[str, Options] | None = None
    flags: Callable[[argparse.ArgumentParser, Sequence[str]], None] | None = None
    beam: bool = False
    tensorflow: bool = True
    epilog: str | None = None


@dataclass
class Invocation:
    """What a handler gets: the parsed flags, and Beam's flags checked."""

    command: Command
    args: argparse.Namespace
    beam_args: list[str] = field(default_factory=list)

    def options(self, cls: type[OptionsType]) -> OptionsType:
        """``cls`` made from the flags given (its defaults for the others), checked.

        Raises:
          KubeslimError: a bad value, named by its flag.
        """
        given = {f.name: getattr(self.args, f.name) for f in _flag_fields(cls)}
        return cls.make(**{k: v for k, v in given.items() if v is not None})

    def check(self) -> None:
        """Makes every options dataclass of the command, and its configuration, so a bad
        value ends the command before any work (and before TensorFlow loads).

        Raises:
          KubeslimError: a bad value, named by its flag.
        """
        made = [self.options(cls) for cls in self.command.options]
        if self.command.overrides is not None:
            from kubeslim.components.text.named_configs import pick_config

            (name,) = {m.config for m in made if hasattr(m, "config")}
            pick_config(self.command.configs, name, **self.overrides())

    def overrides(self) -> dict[str, Any]:
        """The named configuration's fields given as flags."""
        cls = self.command.overrides
        return {
            f.name: getattr(self.args, f.name)
            for f in dataclasses.fields(cls)
            if getattr(self.args, f.name, None) is not None
        }

    def path(self, name: str) -> str | None:
        return getattr(self.args, name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.args, name)


def _flag_fields(cls: type[Options]) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if not spec_of(f).pipeline_only]


def _show(value: Any) -> str:
    return '""' if value == "" else str(value)


def value_type(
    kind: type, name: str, spec: Any = None, default: Any = None
) -> Callable[[str], Any]:
    """argparse's ``type`` for a flag of ``kind``: one clear line for a value of another, or
    for the value that stands for "not given" (``spec.unset``)."""

    def parse(text: str) -> Any:
        try:
            value = parse_value(text, kind, name)
        except KubeslimError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {_a(kind)}") from None
        if spec is not None and spec.unset and value == default:
            raise argparse.ArgumentTypeError(
                f"{text!r} is what leaving the flag out means ({spec.unset}); give a real value"
            )
        return value

    parse.__name__ = kind.__name__
    return parse


def _a(kind: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false"}.get(kind, "a string")


def add_option_flags(parser: argparse.ArgumentParser, cls: type[Options]) -> None:
    """A flag for each field of ``cls``: ``--NAME`` and its aliases, typed, with its help and
    default; given values are checked when the dataclass is made."""
    kinds = typing.get_type_hints(cls)
    for f in _flag_fields(cls):
        spec, kind = spec_of(f), kinds[f.name]
        names = [f"--{f.name}", *(f"--{a}" for a in spec.aliases)]
        choices = spec.known_choices()
        listed = (
            f"; one of: {', '.join(map(_show, choices))}" if choices and len(choices) <= 12 else ""
        )
        default = spec.unset or _show(f.default)
        help_text = f"{spec.help}{listed} (default: {default})"
        if kind is bool:
            action = argparse.BooleanOptionalAction if f.default else "store_true"
            parser.add_argument(*names, dest=f.name, action=action, default=None, help=help_text)
            continue
        parser.add_argument(
            *names,
            dest=f.name,
            type=value_type(kind, f.name, spec, f.default),
            default=None,
            metavar=spec.metavar or kind.__name__.upper(),
            help=help_text.replace("%", "%%"),
        )


def add_override_flags(
    parser: argparse.ArgumentParser, cls: type[Options], configs: dict[str, Options]
) -> None:
    """A flag for each field of a named configuration, changing the chosen one's value."""
    kinds = typing.get_type_hints(cls)
    group = parser.add_argument_group("the configuration's fields (each overrides --config's)")
    for f in dataclasses.fields(cls):
        kind = kinds[f.name]
        values = ", ".join(f"{n}: {getattr(c, f.name)}" for n, c in configs.items())
        help_text = f"{spec_of(f).help} ({values})"
        if kind is bool:
            group.add_argument(
                f"--{f.name}", action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
            continue
        group.add_argument(
            f"--{f.name}",
            type=value_type(kind, f.name),
            default=None,
            metavar=spec_of(f).metavar or kind.__name__.upper(),
            help=help_text,
        )


def add_path_flags(parser: argparse.ArgumentParser, paths: Sequence[PathFlag]) -> None:
    for p in paths:
        parser.add_argument(
            f"--{p.name}",
            *(f"--{a}" for a in p.aliases),
            dest=p.name,
            required=p.required,
            metavar="PATH",
            help=p.help,
        )


def known_flags(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings]


def fail(prog: str, message: str) -> int:
    """Prints ``prog: error: message`` on standard error; returns the exit status, 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2
