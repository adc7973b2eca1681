"""One source of truth: the compiled pipelines' parameters and defaults, the components'
parameters, every command's --help and the README's flag reference all equal the options
dataclasses."""

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from kubeslim.cli import COMMANDS, build_parser, reference
from kubeslim.options import spec_of
from kubeslim.pipelines import components, text_components
from kubeslim.pipelines.kubeflow_runner import compile_pipeline
from kubeslim.pipelines.pipeline_factory import PIPELINES, get_pipeline

ROOT = Path(__file__).resolve().parent.parent.parent
KFP_TYPES = {str: "STRING", int: "NUMBER_INTEGER", float: "NUMBER_DOUBLE", bool: "BOOLEAN"}


@pytest.mark.parametrize("name", PIPELINES.names())
def test_compiled_parameters_and_defaults_are_the_dataclasses(name, tmp_path):
    definition = get_pipeline(name)
    path = compile_pipeline(tmp_path / "p.yaml", pipeline=name)
    spec = next(yaml.safe_load_all(path.read_text()))  # then the kfp-kubernetes document
    compiled = spec["root"]["inputDefinitions"]["parameters"]
    expected = {}
    for group in definition.groups:
        kinds = typing.get_type_hints(group.options)
        for field in group.fields():
            default = group.defaults.get(field.name, field.default)
            expected[group.prefix + field.name] = (KFP_TYPES[kinds[field.name]], default)
    assert set(compiled) == set(expected)
    for parameter, (kind, default) in expected.items():
        assert compiled[parameter]["parameterType"] == kind, parameter
        assert compiled[parameter].get("defaultValue", "") == default, parameter
    assert get_pipeline("translation").check({})["corpus_name"] == "numbers_enfr"


def _component_inputs(component) -> dict[str, str]:
    spec = component.component_spec
    return {n: p.type for n, p in (spec.inputs or {}).items() if not p.type.startswith("system.")}


@pytest.mark.parametrize("name", PIPELINES.names())
def test_every_component_takes_exactly_its_steps_options(name):
    """A component's parameters are written out (a lightweight component's source must
    stand alone); this holds them equal to the options they are made into."""
    module = components if name == "image_classifier" else text_components
    users = {}
    definition = get_pipeline(name)
    for group in definition.groups:
        for component in vars(module).values():
            if not hasattr(component, "component_spec"):
                continue
            inputs = _component_inputs(component)
            kinds = typing.get_type_hints(group.options)
            fields = {f.name: kinds[f.name].__name__ for f in group.fields()}
            if fields and set(fields) <= set(inputs):
                assert {n: inputs[n] for n in fields} == {
                    n: {"str": "String", "int": "Integer", "float": "Float", "bool": "Boolean"}[k]
                    for n, k in fields.items()
                }
                users.setdefault(group.options.__name__, []).append(component.name)
    steps = {g.options.__name__ for g in definition.groups} - {"RunOptions", "ImageRunOptions"}
    assert steps <= set(users), f"no component takes all of {steps - set(users)}"


def test_help_shows_the_dataclass_defaults():
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices
    checked = 0
    for command in COMMANDS:
        actions = {a.dest: a for a in subcommands[command.name]._actions}
        for cls in command.options:
            for field in dataclasses.fields(cls):
                spec = spec_of(field)
                if spec.pipeline_only:
                    continue
                shown = spec.unset or ('""' if field.default == "" else str(field.default))
                help_text = actions[field.name].help.replace("%%", "%")
                assert help_text.endswith(f"(default: {shown})"), (command.name, field.name)
                checked += 1
    assert checked > 90


def test_the_readme_flag_reference_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    assert reference.BEGIN in readme, "run `make docs`"
    start = readme.index(reference.BEGIN)
    end = readme.index(reference.END) + len(reference.END)
    assert readme[start:end] == reference.render(), "the README is stale: run `make docs`"


def test_run_local_and_submit_take_the_chosen_pipelines_parameters():
    args = build_parser(["run-local", "--pipeline", "translation"]).parse_args(
        ["run-local", "--pipeline", "translation", "--config_overrides", "epochs=2"]
    )
    assert (args.pipeline, args.config_overrides) == ("translation", "epochs=2")
    parsed = get_pipeline("image_classifier").parse(["num_epochs=4", "strict=true"])
    assert parsed == {"num_epochs": 4, "strict": True}
