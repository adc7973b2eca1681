"""Where pipeline steps run on the cluster, shared by every kubeslim pipeline: the project's
image on every task, GPU steps on the GPU node pool (accelerator limit, node selector,
toleration of its taint), CPU and memory requests on every step, caching on."""

from dataclasses import dataclass

from kfp import dsl, kubernetes


@dataclass(frozen=True)
class ClusterOptions:
    """The cluster side of the pipeline, fixed at compile time.

    The defaults follow the NVIDIA device plugin and GPU feature discovery (the
    ``nvidia.com/gpu`` resource, ``nvidia.com/gpu.present=true`` node label) and the
    ``nvidia.com/gpu`` taint that GKE and AKS put on GPU node pools.
    """

    accelerator_type: str = "nvidia.com/gpu"
    gpu_node_selector: tuple[str, str] | None = ("nvidia.com/gpu.present", "true")
    gpu_toleration_key: str | None = "nvidia.com/gpu"
    gpu_cpu_request: str = "4"
    gpu_memory_request: str = "16Gi"
    cpu_request: str = "2"
    memory_request: str = "8Gi"
    download_retries: int = 3

    def retry_download(self, task: dsl.PipelineTask) -> None:
        """Retries a step that downloads, with exponential back-off."""
        task.set_retry(
            num_retries=self.download_retries,
            backoff_duration="60s",
            backoff_factor=2,
            backoff_max_duration="3600s",
        )


def _on_gpu_pool(task: dsl.PipelineTask, options: ClusterOptions, num_gpus) -> None:
    task.set_accelerator_type(options.accelerator_type)
    task.set_accelerator_limit(num_gpus)
    task.set_cpu_request(options.gpu_cpu_request)
    task.set_memory_request(options.gpu_memory_request)
    if options.gpu_node_selector:
        kubernetes.add_node_selector(task, *options.gpu_node_selector)
    if options.gpu_toleration_key:
        kubernetes.add_toleration(
            task, key=options.gpu_toleration_key, operator="Exists", effect="NoSchedule"
        )


def place_tasks(
    tasks: list[tuple[dsl.PipelineTask, str, bool]],
    image: str,
    options: ClusterOptions,
    num_gpus,
) -> None:
    """Sets each ``(task, display name, uses GPU)``'s image, name, caching and resources."""
    for task, display_name, uses_gpu in tasks:
        task.set_display_name(display_name)
        task.set_container_image(image)
        task.set_caching_options(True)
        if uses_gpu:
            _on_gpu_pool(task, options, num_gpus)
        else:
            task.set_cpu_request(options.cpu_request)
            task.set_memory_request(options.memory_request)
