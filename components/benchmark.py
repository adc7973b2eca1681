"""Times any net's forward and forward-backward pass on random data (the tutorials'
``alexnet_benchmark.py``), so architectures and machines can be compared without data."""

import logging
import statistics
import time
from typing import Any

import keras
import tensorflow as tf

from kubeslim.components.nets import nets_factory
from kubeslim.components.options import BenchmarkOptions

log = logging.getLogger(__name__)


def _time_batches(step, images: tf.Tensor, num_batches: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        step(images)
    seconds = []
    for _ in range(num_batches):
        start = time.perf_counter()
        step(images)
        seconds.append(time.perf_counter() - start)
    return seconds


def benchmark_network(
    options: BenchmarkOptions | None = None,
    *,
    warmup: int = 2,
    num_classes: int = 1000,
    channels: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Seconds per batch of ``options.model_name``: inference, and a training step's forward
    and backward pass (the gradients of the mean logit, as the AlexNet benchmark took the
    gradient of an L2 loss; no optimizer update).

    Returns:
      Mean and standard deviation per batch for ``forward`` and ``forward_backward``, and
      images per second for each.
    """
    options = options or BenchmarkOptions()
    model_name, batch_size, num_batches = (
        options.model_name,
        options.batch_size,
        options.num_batches,
    )
    keras.utils.set_random_seed(seed)
    model = nets_factory.build_network(
        model_name, num_classes, image_size=options.image_size or None, channels=channels
    )
    size = model.input_shape[1]
    images = tf.random.uniform((batch_size, size, size, channels), -1.0, 1.0)

    @tf.function
    def forward(x: tf.Tensor) -> tf.Tensor:
        return model(x, training=False)

    @tf.function
    def forward_backward(x: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    result: dict[str, Any] = {
        "model_name": model_name,
        "batch_size": batch_size,
        "image_size": size,
        "num_batches": num_batches,
        "parameters": model.count_params(),
        "device": "GPU" if tf.config.list_logical_devices("GPU") else "CPU",
    }
    for name, step in (("forward", forward), ("forward_backward", forward_backward)):
        seconds = _time_batches(step, images, num_batches, warmup)
        mean = statistics.fmean(seconds)
        result[name] = {
            "seconds_per_batch": mean,
            "stdev": statistics.stdev(seconds) if len(seconds) > 1 else 0.0,
            "images_per_second": batch_size / mean,
        }
        log.info(
            "%s %s: %.4f s/batch +/- %.4f, %.1f images/s",
            model_name,
            name,
            mean,
            result[name]["stdev"],
            batch_size / mean,
        )
    return result
