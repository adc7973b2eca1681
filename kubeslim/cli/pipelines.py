"""The whole-pipeline commands: ``compile-pipeline``, ``run-local`` and ``submit``. The
parameters of ``run-local`` and ``submit --param`` are the chosen pipeline's
(``pipelines.parameters``), checked before anything runs."""

import argparse
import os
from collections.abc import Sequence
from typing import Any

from kubeslim.cli.framework import Command, Invocation, value_type
from kubeslim.pipelines.cluster import LOCAL_RUNNERS, ClusterOptions
from kubeslim.pipelines.pipeline_factory import DEFAULT_PIPELINE, PIPELINES, get_pipeline
from kubeslim.pipelines.submit import SubmitOptions

IMAGE_ENV = "KUBESLIM_IMAGE"


def _chosen_pipeline(argv: Sequence[str]) -> str:
    """The ``--pipeline`` of ``argv`` (its flags depend on it), or the default."""
    chooser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    chooser.add_argument("--pipeline", default=DEFAULT_PIPELINE)
    chosen = chooser.parse_known_args(argv)[0].pipeline
    return chosen if chosen in PIPELINES else DEFAULT_PIPELINE


def _pipeline_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pipeline",
        default=DEFAULT_PIPELINE,
        choices=PIPELINES.names(),
        help=f"which pipeline (default: {DEFAULT_PIPELINE})",
    )


def _compile_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    _pipeline_flag(parser)
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="YAML file to write (default: build/kubeslim-PIPELINE.yaml)",
    )


def _compile_pipeline(run: Invocation) -> None:
    from kubeslim.pipelines.kubeflow_runner import compile_pipeline

    cluster = run.options(ClusterOptions)
    if run.image is None and os.environ.get(IMAGE_ENV):
        cluster = ClusterOptions.make(**{**vars(cluster), "image": os.environ[IMAGE_ENV]})
    path = compile_pipeline(run.output, cluster, run.pipeline)
    print(f"pipeline written to {path}: upload it in the Kubeflow Pipelines UI")


def _parameter_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """One flag per parameter of the pipeline ``--pipeline`` names in ``argv``."""
    _pipeline_flag(parser)
    parser.add_argument(
        "--pipeline_root",
        default="runs",
        metavar="PATH",
        help="runs are written here, one directory each (default: runs)",
    )
    parser.add_argument(
        "--runner",
        default="subprocess",
        choices=LOCAL_RUNNERS,
        help="subprocess: every task in this Python environment; docker: every task in a "
        "container of --image, as a cluster runs it (default: subprocess)",
    )
    parser.add_argument(
        "--image",
        help="the component image, with --runner docker (`make image` builds kubeslim:local)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show everything kfp.local and the tasks print (always in the run's "
        "kfp-local.log), not a line per task",
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="reuse an earlier run's outputs (under --pipeline_root) for every task whose "
        "inputs are unchanged, as Kubeflow does; the key does not see code changes, so it is "
        "off by default here",
    )
    parser.add_argument(
        "--fail_on_gate",
        action="store_true",
        help="exit non-zero when the quality gate does not bless the model (for CI)",
    )
    chosen = _chosen_pipeline(argv)
    group = parser.add_argument_group(
        f"the {chosen} pipeline's parameters (--pipeline NAME --help shows another's)"
    )
    for p in get_pipeline(chosen).parameters():
        show = '""' if p.default == "" else p.default
        group.add_argument(
            f"--{p.name}",
            type=value_type(p.kind, p.name),
            default=None,
            metavar=p.kind.__name__.upper(),
            help=f"{p.help} (default: {show})".replace("%", "%%"),
        )


def _given_parameters(run: Invocation) -> dict[str, Any]:
    names = [p.name for p in get_pipeline(run.pipeline).parameters()]
    return {n: getattr(run.args, n) for n in names if getattr(run.args, n, None) is not None}


def _run_local(run: Invocation) -> None:
    from kubeslim.errors import KubeslimError
    from kubeslim.pipelines.local_runner import run_local

    definition, parameters = get_pipeline(run.pipeline), _given_parameters(run)
    definition.check(parameters)  # a bad value is named before the run begins
    print(f"running {definition.name}: a line per task as it ends (--verbose: their logs)")
    result = run_local(
        run.pipeline_root,
        run.pipeline,
        runner=run.runner,
        image=run.image,
        verbose=run.verbose,
        cache=run.cache,
        **parameters,
    )
    m = result.metrics
    seconds = sum(t.seconds or 0 for t in result.tasks)
    cached = sum(t.status == "CACHED" for t in result.tasks)
    reused = f" ({cached} from the cache)" if cached else ""
    print(f"\n{len(result.tasks)} tasks{reused} in {seconds:.0f} s: run {result.run_dir}")
    if run.pipeline == "image_classifier":
        print(
            f"Test top-1 accuracy: {m['top1_accuracy']:.4f} "
            f"(top-5 {m['top5_accuracy']:.4f}, loss {m['loss']:.4f}) "
            f"on {m['num_examples']} {result.parameters['dataset_name']} {m['split']} images"
        )
    else:
        print(f"Evaluation: {_flat_scalars(m)}")
    if result.gate is not None:
        print(f"Quality gate: {result.gate}")
    if result.promoted is not None:
        print(f"Promoted: {result.promoted}")
    if result.report is not None:
        print(f"Report: {result.report}")
    print(f"Log: {result.log}")
    print("Outputs, in the run's directory:")
    for name, path in result.outputs.items():
        inside = path.is_relative_to(result.run_dir)
        print(f"  {name}" if inside else f"  {name}  (cached: {path})")
    if run.fail_on_gate and result.gate is not None and not result.gate.startswith("blessed"):
        raise KubeslimError(f"--fail_on_gate: the quality gate said {result.gate}")


def _flat_scalars(metrics: dict[str, Any], prefix: str = "") -> str:
    """``a.b=1.2345, c=7`` for the numbers in nested ``metrics``."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            parts.append(_flat_scalars(value, f"{prefix}{key}."))
        elif isinstance(value, float):
            parts.append(f"{prefix}{key}={value:.4f}")
        elif isinstance(value, int):
            parts.append(f"{prefix}{key}={value}")
    return ", ".join(p for p in parts if p)


def _submit_flags(parser: argparse.ArgumentParser, _: Sequence[str]) -> None:
    _pipeline_flag(parser)
    parser.add_argument(
        "--package",
        metavar="PATH",
        help="compiled pipeline (default: build/kubeslim-PIPELINE.yaml, as compile-pipeline "
        "writes it)",
    )
    parser.add_argument(
        "--params_file",
        metavar="PATH",
        help="a YAML mapping of pipeline parameters to values (ops/retrain-params.yaml); "
        "--param overrides it",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter, repeatable (`kubeslim run-local --pipeline NAME --help` "
        "lists them)",
    )


def _submit(run: Invocation) -> None:
    from kubeslim.pipelines.kubeflow_runner import default_output
    from kubeslim.pipelines.submit import TOKEN_ENV, submit_pipeline

    options = run.options(SubmitOptions)
    definition = get_pipeline(run.pipeline)
    parameters = definition.parse_file(run.params_file) if run.params_file else {}
    parameters.update(definition.parse(run.param))
    definition.check(parameters)
    result = submit_pipeline(
        run.package or default_output(run.pipeline),
        options,
        parameters,
        token=os.environ.get(TOKEN_ENV),
    )
    print(f"pipeline {result.pipeline_id}, version {result.version_id} ({result.version_name})")
    kind = "recurring run" if result.recurring_run_id else "run"
    print(f"{kind} {result.recurring_run_id or result.run_id}: {result.url}")


COMMANDS = [
    Command(
        "compile-pipeline",
        "Compile a KFP pipeline to YAML for the Kubeflow Pipelines UI.",
        _compile_pipeline,
        options=(ClusterOptions,),
        flags=_compile_flags,
        tensorflow=False,
    ),
    Command(
        "run-local",
        "Run a whole pipeline on this machine with kfp.local, then print its evaluation and "
        "where every output went. A parameter not given keeps the pipeline's default.",
        _run_local,
        flags=_parameter_flags,
        tensorflow=False,
    ),
    Command(
        "submit",
        "Upload the compiled pipeline to Kubeflow Pipelines as a new version and start a run "
        "(or a recurring run). The token is read from $KFP_TOKEN, never from a flag.",
        _submit,
        options=(SubmitOptions,),
        flags=_submit_flags,
        tensorflow=False,
    ),
]
