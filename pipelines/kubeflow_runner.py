"""Compiles a pipeline to the YAML a user uploads to the Kubeflow Pipelines UI."""

import logging
import os
from pathlib import Path

from kfp import compiler

from kubeslim.components.kfp_components import DEFAULT_IMAGE
from kubeslim.errors import KubeslimError
from kubeslim.fileio import check_output_dir
from kubeslim.pipelines.pipeline_factory import (
    DEFAULT_PIPELINE,
    get_pipeline_builder,
    pipeline_name,
)
from kubeslim.pipelines.placement import ClusterOptions

log = logging.getLogger(__name__)


def default_output(pipeline: str = DEFAULT_PIPELINE) -> Path:
    """``build/kubeslim-<pipeline>.yaml``."""
    return Path("build") / f"kubeslim-{pipeline.replace('_', '-')}.yaml"


def compile_pipeline(
    output_path: str | Path | None = None,
    image: str = DEFAULT_IMAGE,
    options: ClusterOptions | None = None,
    pipeline: str = DEFAULT_PIPELINE,
) -> Path:
    """Writes pipeline ``pipeline``'s IR YAML to ``output_path`` (atomically), tasks running
    ``image`` and placed as ``options`` say."""
    built = get_pipeline_builder(pipeline)(image, options)
    output_path = Path(output_path or default_output(pipeline))
    if output_path.is_dir() or output_path.suffix not in (".yaml", ".yml"):
        raise KubeslimError(f"--output {output_path}: give a path ending in .yaml")
    check_output_dir(output_path.parent)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.stem}.partial{output_path.suffix}")
    compiler.Compiler().compile(built, str(partial))
    os.replace(partial, output_path)
    log.info("compiled %s (image %s) to %s", pipeline_name(built), image, output_path)
    return output_path
