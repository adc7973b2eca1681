"""A pipeline's parameters, generated from the options dataclasses of its steps, without kfp.

A ``PipelineDefinition`` lists its steps' options as ``ParameterGroup``s: every field that is
not ``cli_only`` becomes a pipeline parameter with the field's type, default and help (a
``prefix`` keeps two steps' fields apart, e.g. ``freeze_max_difference``). The compiled
pipeline, ``run-local``'s flags and ``submit --param`` all come from here, and the values are
checked by making the dataclasses before a run starts.
"""

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeslim.errors import KubeslimError
from kubeslim.options import Options, at_least, option, parse_value, spec_of, unknown_name


@dataclass(frozen=True)
class Parameter:
    """One pipeline parameter."""

    name: str
    kind: type
    default: Any
    help: str


@dataclass(frozen=True)
class ParameterGroup:
    """A step's options as pipeline parameters.

    Attributes:
      options: the step's options dataclass.
      prefix: put before each field's name.
      defaults: field -> the pipeline's own default, where it differs from the dataclass's
        (a text pipeline's corpus); checked by the dataclass like any value.
    """

    options: type[Options]
    prefix: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(self.options) if not spec_of(f).cli_only]

    def parameters(self) -> list[Parameter]:
        kinds = typing.get_type_hints(self.options)
        return [
            Parameter(
                self.prefix + f.name,
                kinds[f.name],
                self.defaults.get(f.name, f.default),
                spec_of(f).help,
            )
            for f in self.fields()
        ]

    def pick(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The step's fields from the pipeline's ``values`` (names without the prefix)."""
        return {f.name: values[self.prefix + f.name] for f in self.fields()}

    def make(self, values: Mapping[str, Any]) -> Options:
        """The step's options from the pipeline's ``values``, checked.

        Raises:
          KubeslimError: a bad value, named by its pipeline parameter.
        """
        try:
            return self.options(**self.pick(values))
        except KubeslimError as e:
            if not self.prefix:
                raise
            raise KubeslimError(str(e).replace("--", f"--{self.prefix}", 1)) from None


@dataclass(frozen=True)
class PipelineDefinition:
    """A pipeline: its name, description, parameter groups and the body that makes its tasks.

    ``build(values, cluster)`` runs inside ``dsl.pipeline`` with ``values`` the pipeline
    parameters by name (KFP channels), and places the tasks as ``cluster`` says.
    """

    name: str
    description: str
    groups: tuple[ParameterGroup, ...]
    build: Callable[[dict[str, Any], Any], None]

    def parameters(self) -> list[Parameter]:
        """The parameters, in group order; a name in two groups (``seed``) is one parameter,
        which must have one type and one default."""
        merged: dict[str, Parameter] = {}
        for group in self.groups:
            for p in group.parameters():
                if p.name not in merged:
                    merged[p.name] = p
                    continue
                first = merged[p.name]
                if (first.kind, first.default) != (p.kind, p.default):
                    raise ValueError(f"{self.name}: parameter {p.name} is declared twice, apart")
                if p.help not in first.help:
                    merged[p.name] = dataclasses.replace(first, help=f"{first.help}; {p.help}")
        return list(merged.values())

    def check(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value (``given`` over the defaults), checked by the steps'
        dataclasses, before a run starts.

        Raises:
          KubeslimError: an unknown parameter or a bad value.
        """
        parameters = {p.name: p for p in self.parameters()}
        for name in given:
            if name not in parameters:
                raise KubeslimError(
                    f"pipeline {self.name}: "
                    + unknown_name(f"parameter {name!r}", name, parameters)
                )
        values = {name: given.get(name, p.default) for name, p in parameters.items()}
        for group in self.groups:
            group.make(values)
        return values

    def parse(self, assignments: Sequence[str]) -> dict[str, Any]:
        """``NAME=VALUE`` strings as typed parameter values, checked.

        Raises:
          KubeslimError: a malformed or unknown assignment or a bad value.
        """
        kinds = {p.name: p.kind for p in self.parameters()}
        given = {}
        for text in assignments:
            name, sep, value = text.partition("=")
            if not sep:
                raise KubeslimError(f"--param {text!r}: expected NAME=VALUE")
            if name not in kinds:
                raise KubeslimError(
                    f"--param {text!r}: " + unknown_name(f"parameter {name!r}", name, kinds)
                )
            given[name] = parse_value(value, kinds[name], name)
        self.check(given)
        return given

    def parse_file(self, path: str | Path) -> dict[str, Any]:
        """A YAML mapping of parameter names to values (``ops/retrain-params.yaml``) as typed
        parameter values, checked.

        Raises:
          KubeslimError: the file is missing or not such a mapping, or a name or value is bad
            (named with the file).
        """
        import yaml

        try:
            given = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as e:
            raise KubeslimError(f"--params_file {path}: {e}") from None
        if not isinstance(given, dict):
            raise KubeslimError(f"--params_file {path}: not a mapping of parameter names to values")
        assignments = [
            f"{name}={str(value).lower() if isinstance(value, bool) else value}"
            for name, value in given.items()
        ]
        try:
            return self.parse(assignments)
        except KubeslimError as e:
            raise KubeslimError(f"--params_file {path}: {e}") from None

    def function(self, cluster: Any) -> Callable[..., None]:
        """The pipeline function for ``dsl.pipeline``: its signature and docstring are the
        parameters (KFP reads both), its body ``build``."""
        parameters = self.parameters()
        names = [p.name for p in parameters]

        def pipeline(*values: Any) -> None:
            self.build(dict(zip(names, values, strict=True)), cluster)

        pipeline.__name__ = self.name.replace("-", "_")
        pipeline.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=p.default,
                    annotation=p.kind,
                )
                for p in parameters
            ]
        )
        pipeline.__doc__ = (
            f"{self.description}\n\nArgs:\n"
            + "\n".join(f"    {p.name}: {p.help}" for p in parameters)
            + "\n"
        )
        return pipeline


@dataclass(frozen=True)
class RunOptions(Options):
    """A pipeline's own settings, beside its steps' options."""

    beam_options: str = option(
        "",
        'Beam pipeline flags for the Beam steps, e.g. "--runner=DataflowRunner --project=P '
        '--region=R --temp_location=gs://B/tmp"; "" runs them in the step\'s pod',
    )
    num_gpus: int = option(
        1, "GPUs for the train, evaluate and export steps (mirrored in training)", check=at_least(0)
    )
