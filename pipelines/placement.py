"""Where pipeline steps run on the cluster, shared by every kubeslim pipeline: the project's
image on every task, GPU steps on the GPU node pool (accelerator limit, node selector,
toleration of its taint), CPU and memory requests on every step, caching on, retries with
back-off for the steps that download."""

from kfp import dsl, kubernetes

from kubeslim.pipelines.cluster import ClusterOptions


def retry_download(task: dsl.PipelineTask, cluster: ClusterOptions) -> None:
    """Retries a step that downloads, with exponential back-off."""
    task.set_retry(
        num_retries=cluster.download_retries,
        backoff_duration="60s",
        backoff_factor=2,
        backoff_max_duration="3600s",
    )


def _on_gpu_pool(task: dsl.PipelineTask, cluster: ClusterOptions, num_gpus) -> None:
    task.set_accelerator_type(cluster.accelerator_type)
    task.set_accelerator_limit(num_gpus)
    task.set_cpu_request(cluster.gpu_cpu_request)
    task.set_memory_request(cluster.gpu_memory_request)
    if cluster.node_selector:
        kubernetes.add_node_selector(task, *cluster.node_selector)
    if cluster.toleration_key:
        kubernetes.add_toleration(
            task, key=cluster.toleration_key, operator="Exists", effect="NoSchedule"
        )


def place_tasks(
    tasks: list[tuple[dsl.PipelineTask, str, bool]], cluster: ClusterOptions, num_gpus
) -> None:
    """Sets each ``(task, display name, uses GPU)``'s image, name, caching and resources."""
    for task, display_name, uses_gpu in tasks:
        task.set_display_name(display_name)
        task.set_container_image(uses_gpu and cluster.gpu_image or cluster.image)
        task.set_caching_options(True)
        if uses_gpu:
            _on_gpu_pool(task, cluster, num_gpus)
        else:
            task.set_cpu_request(cluster.cpu_request)
            task.set_memory_request(cluster.memory_request)
