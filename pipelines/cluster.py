"""Where a compiled pipeline's steps run: the container image every step runs, and the
cluster settings fixed at compile time (``compile-pipeline``'s flags). No kfp import, so
``--help`` stays fast; ``placement`` applies them to the tasks."""

import re
from dataclasses import dataclass

from kubeslim.options import Options, at_least, option

DEFAULT_IMAGE = "ghcr.io/kubeslim/kubeslim:latest"
LOCAL_RUNNERS = ("subprocess", "docker")  # how `kubeslim run-local` runs the steps

# Kubernetes resource quantities: 4, 500m, 1.5, 16Gi, 2G, 1e3 ...
_QUANTITY = re.compile(r"^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[mkMGTPE]|[KMGTPE]i)?$")
_LABEL = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _quantity(value: str) -> str | None:
    return None if _QUANTITY.match(value) else "be a Kubernetes quantity, e.g. 4, 500m, 16Gi"


def _selector(value: str) -> str | None:
    if value.lower() == "none":
        return None
    key, sep, label = value.partition("=")
    if sep and _LABEL.match(key) and (not label or _LABEL.match(label)):
        return None
    return "be KEY=VALUE (a node label) or none"


def _taint_key(value: str) -> str | None:
    return None if value.lower() == "none" or _LABEL.match(value) else "be a taint key or none"


@dataclass(frozen=True)
class ClusterOptions(Options):
    """The cluster side of a pipeline. The defaults follow the NVIDIA device plugin and GPU
    feature discovery (the ``nvidia.com/gpu`` resource, the ``nvidia.com/gpu.present=true``
    node label) and the ``nvidia.com/gpu`` taint GKE and AKS put on GPU node pools."""

    image: str = option(
        DEFAULT_IMAGE,
        "container image of the steps (or $KUBESLIM_IMAGE)",
        check=lambda v: None if v and " " not in v else "be an image reference",
    )
    gpu_image: str = option(
        "",
        "container image of the GPU steps (train, evaluate, export), e.g. `make image-gpu`'s; "
        '"" is --image',
        check=lambda v: None if " " not in v else "be an image reference",
    )
    accelerator_type: str = option(
        "nvidia.com/gpu", "GPU resource of the train, evaluate and export steps"
    )
    gpu_node_selector: str = option(
        "nvidia.com/gpu.present=true",
        "node label (KEY=VALUE) of the GPU node pool, or none",
        check=_selector,
    )
    gpu_toleration: str = option(
        "nvidia.com/gpu",
        "taint key the GPU steps tolerate (Exists, NoSchedule), or none",
        check=_taint_key,
    )
    gpu_cpu_request: str = option("4", "the GPU steps' CPU request", check=_quantity)
    gpu_memory_request: str = option("16Gi", "the GPU steps' memory request", check=_quantity)
    cpu_request: str = option("2", "the other steps' CPU request", check=_quantity)
    memory_request: str = option("8Gi", "the other steps' memory request", check=_quantity)
    download_retries: int = option(
        3, "retries of the steps that download, with back-off", check=at_least(0)
    )

    @property
    def node_selector(self) -> tuple[str, str] | None:
        if self.gpu_node_selector.lower() == "none":
            return None
        key, _, value = self.gpu_node_selector.partition("=")
        return key, value

    @property
    def toleration_key(self) -> str | None:
        return None if self.gpu_toleration.lower() == "none" else self.gpu_toleration
