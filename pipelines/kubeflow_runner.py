"""Compiles the pipeline to the YAML a user uploads to the Kubeflow Pipelines UI."""

import logging
import os
from pathlib import Path

from kfp import compiler

from kubeslim.components.kfp_components import DEFAULT_IMAGE
from kubeslim.errors import KubeslimError
from kubeslim.fileio import check_output_dir
from kubeslim.pipelines.image_classifier import PIPELINE_NAME, ClusterOptions, create_pipeline

DEFAULT_OUTPUT = Path("build") / f"{PIPELINE_NAME}.yaml"

log = logging.getLogger(__name__)


def compile_pipeline(
    output_path: str | Path = DEFAULT_OUTPUT,
    image: str = DEFAULT_IMAGE,
    options: ClusterOptions | None = None,
) -> Path:
    """Writes the pipeline's IR YAML to ``output_path`` (atomically), tasks running ``image``
    and placed as ``options`` say."""
    output_path = Path(output_path)
    if output_path.is_dir() or output_path.suffix not in (".yaml", ".yml"):
        raise KubeslimError(f"--output {output_path}: give a path ending in .yaml")
    check_output_dir(output_path.parent)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.stem}.partial{output_path.suffix}")
    compiler.Compiler().compile(create_pipeline(image, options), str(partial))
    os.replace(partial, output_path)
    log.info("compiled %s (image %s) to %s", PIPELINE_NAME, image, output_path)
    return output_path
