"""Compiles a pipeline to the YAML a user uploads to the Kubeflow Pipelines UI."""

import logging
import os
from pathlib import Path

from kfp import compiler

from kubeslim.errors import KubeslimError
from kubeslim.fileio import writable_location
from kubeslim.pipelines.cluster import ClusterOptions
from kubeslim.pipelines.pipeline_factory import DEFAULT_PIPELINE, build_pipeline, get_pipeline

log = logging.getLogger(__name__)


def default_output(pipeline: str = DEFAULT_PIPELINE) -> Path:
    """``build/kubeslim-<pipeline>.yaml``."""
    return Path("build") / f"kubeslim-{pipeline.replace('_', '-')}.yaml"


def _compiled_by_kubeslim(path: Path) -> bool:
    """Whether ``path`` starts as KFP's compiler starts a kubeslim pipeline's YAML."""
    try:
        with path.open() as f:
            head = [f.readline() for _ in range(2)]
    except (OSError, UnicodeDecodeError):
        return False
    return head[0].startswith("# PIPELINE DEFINITION") and head[1].startswith("# Name: kubeslim-")


def compile_pipeline(
    output_path: str | Path | None = None,
    cluster: ClusterOptions | None = None,
    pipeline: str = DEFAULT_PIPELINE,
) -> Path:
    """Writes pipeline ``pipeline``'s IR YAML to ``output_path`` (atomically), its tasks
    running the image and placed as ``cluster`` says. An existing file there is replaced only
    when it is a pipeline kubeslim compiled.

    Raises:
      KubeslimError: an unknown pipeline, or a path that is not a ``.yaml`` file kubeslim may
        write.
    """
    cluster = cluster or ClusterOptions()
    get_pipeline(pipeline)
    output_path = Path(output_path or default_output(pipeline))
    if output_path.is_dir() or output_path.suffix not in (".yaml", ".yml"):
        raise KubeslimError(f"--output {output_path}: give a path ending in .yaml")
    writable_location(output_path.parent, "--output's folder")
    if output_path.exists() and not _compiled_by_kubeslim(output_path):
        raise KubeslimError(
            f"--output {output_path} exists and is not a pipeline kubeslim compiled; "
            "kubeslim never replaces a file it did not write: choose another path"
        )
    built = build_pipeline(pipeline, cluster)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.stem}.partial{output_path.suffix}")
    compiler.Compiler().compile(built, str(partial))
    os.replace(partial, output_path)
    log.info("compiled %s (image %s) to %s", pipeline, cluster.image, output_path)
    return output_path
