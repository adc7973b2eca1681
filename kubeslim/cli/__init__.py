"""The ``kubeslim`` command: one subcommand per pipeline step, plus compiling, running and
submitting whole pipelines.

The subcommands are declared by area, each next to its handler (``data``, ``image_models``,
``text_models``, ``pipelines``), and their flags are generated from the steps' options
dataclasses (``framework``). The step modules are imported only when their subcommand runs,
so ``--help`` answers without loading TensorFlow. A ``KubeslimError`` or an OS error ends the
command with a one-line message and a non-zero exit.
"""

import logging
import os
import sys
from collections.abc import Sequence

from kubeslim import __version__
from kubeslim.cli import data, image_models, pipelines, text_models
from kubeslim.cli.framework import (
    Command,
    Invocation,
    Parser,
    UsageError,
    add_option_flags,
    add_override_flags,
    add_path_flags,
    fail,
    known_flags,
)
from kubeslim.errors import KubeslimError
from kubeslim.options import unknown_flag, unknown_name

COMMANDS: list[Command] = [
    *data.COMMANDS,
    *image_models.COMMANDS,
    *text_models.COMMANDS,
    *pipelines.COMMANDS,
]


def build_parser(argv: Sequence[str] = ()) -> Parser:
    """The ``kubeslim`` argument parser with every subcommand (``argv`` lets a command make
    flags that depend on another flag, as ``run-local``'s depend on ``--pipeline``)."""
    parser = Parser(
        prog="kubeslim",
        description="TF-Slim image classification and the classic text models as Kubeflow "
        "pipelines: Beam data jobs, TensorFlow 2 steps, KFP v2 DAGs.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"kubeslim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=command.epilog,
            allow_abbrev=False,
        )
        p.set_defaults(spec=command)
        add_path_flags(p, command.paths)
        for options in command.options:
            add_option_flags(p, options)
        if command.overrides is not None:
            add_override_flags(p, command.overrides, command.configs)
        if command.flags is not None:
            command.flags(p, argv)
    return parser


def _configure_logging(verbose: bool) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("absl", "apache_beam", "tensorflow"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def _command_name(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv`` (the first word not a flag), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``kubeslim``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _command_name(argv)
    names = [c.name for c in COMMANDS]
    if name is not None and name not in names:
        return fail("kubeslim", unknown_name(f"command {name!r}", name, names))
    prog = f"kubeslim {name}" if name else "kubeslim"
    try:
        parser = build_parser(argv)
        args, extra = parser.parse_known_args(argv)
        command: Command = args.spec
        sub = parser._subparsers._group_actions[0].choices[command.name]
        beam_args = _beam_args(command, extra, known_flags(sub))
    except UsageError as e:
        return fail(prog, str(e))
    except KubeslimError as e:
        return fail(prog, str(e))
    _configure_logging(args.verbose)
    invocation = Invocation(command, args, beam_args)
    try:
        invocation.check()
        if command.tensorflow and not args.verbose:
            from kubeslim.quiet_tensorflow import import_tensorflow

            import_tensorflow()
        command.run(invocation)
    except KubeslimError as e:
        return fail(prog, str(e))
    except OSError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    return 0


def _beam_args(command: Command, extra: list[str], known: list[str]) -> list[str]:
    """What is left of the command line: Beam's pipeline options for a Beam job, checked;
    anything else is an unknown flag.

    Raises:
      UsageError: a flag that neither the command nor Beam knows.
    """
    if not extra:
        return []
    if not command.beam:
        flag = next((a for a in extra if a.startswith("-")), extra[0])
        if not flag.startswith("-"):
            raise UsageError(f"unexpected argument {flag!r}")
        raise UsageError(unknown_flag(flag, known))
    from kubeslim.beam.runner import check_beam_args

    return check_beam_args(extra, known)
