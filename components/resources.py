"""Whether a training batch fits in memory, judged before training starts: a batch that
cannot fit is refused with the estimate, instead of the kernel killing the process halfway."""

import math

import keras

from kubeslim.errors import KubeslimError

# Every layer's output is kept for the backward pass, plus the gradients being made there;
# weights: the variables, their gradients and two optimizer slots.
_ACTIVATION_FACTOR = 1.25
_WEIGHT_COPIES = 4
_HEADROOM = 0.8  # of the memory available: the input pipeline and TensorFlow need some


def activations_per_example(model: keras.Model) -> int:
    """Floats every layer outputs for one example, nested models included."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += activations_per_example(layer)
            continue
        try:
            outputs = keras.tree.flatten(layer.output)
        except (AttributeError, ValueError):  # a layer never called
            continue
        for output in outputs:
            shape = getattr(output, "shape", None)
            if shape is not None and None not in shape[1:]:
                total += math.prod(shape[1:])
    return total


def available_memory_bytes() -> int | None:
    """This machine's available memory (``MemAvailable``), or None where it is unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_batch_fits(model: keras.Model, batch_size: int, precision_policy: str) -> None:
    """Refuses a batch whose activations cannot fit in the host's memory, when training on
    the CPU (a GPU's out-of-memory error is caught as it happens instead).

    Raises:
      KubeslimError: with the estimate and the largest batch that would fit.
    """
    import tensorflow as tf

    available = available_memory_bytes()
    if available is None or tf.config.list_logical_devices("GPU"):
        return
    width = 2 if precision_policy.startswith("mixed") else 4
    per_example = _ACTIVATION_FACTOR * activations_per_example(model) * width
    weights = _WEIGHT_COPIES * 4 * model.count_params()
    budget = _HEADROOM * available
    needed = weights + batch_size * per_example
    if needed > budget:
        fits = max(0, int((budget - weights) // per_example))
        raise KubeslimError(
            f"--batch_size {batch_size}: training {model.name} needs about "
            f"{needed / 2**30:.1f} GiB (activations and weights), more than the "
            f"{budget / 2**30:.1f} GiB this machine can give it; a batch of at most about "
            f"{fits} fits"
        )
