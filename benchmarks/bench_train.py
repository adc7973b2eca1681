"""Benchmark of training fed from TFRecords against training fed from memory.

For LeNet on MNIST-sized (28x28x1) and CifarNet on CIFAR-sized (32x32x3) synthetic data,
measures in the same run (alternating, medians of several runs) the images per second
``model.fit`` trains at when fed by the real input pipeline (TFRecords read, parsed, decoded
and preprocessed by tf.data, as ``kubeslim train`` feeds it) and when fed the same number of
already-preprocessed images from memory. Target: the TFRecord-fed rate is at least 0.9 of
the in-memory one. Run with ``make bench-train``; results go to
benchmarks/results/train.{json,md}.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_input import synthetic_dataset
from results_files import write_results

BATCH = 32
TARGET = 0.9
CASES = {"lenet": ("mnist_sized", (28, 28, 1)), "cifarnet": ("cifar_sized", (32, 32, 3))}


def _compiled(model_name: str, size: int, channels: int):
    import keras

    from kubeslim.components.nets import nets_factory
    from kubeslim.components.train import SparseCrossentropy

    keras.utils.set_random_seed(0)
    model = nets_factory.build_network(model_name, 10, image_size=size, channels=channels)
    model.compile(optimizer="adam", loss=SparseCrossentropy(10), metrics=["accuracy"])
    return model


def _fit_rate(model, data, steps: int, epochs: int) -> float:
    """Images per second of the last ``epochs - 1`` epochs (the first one traces)."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    timer = Timer()
    model.fit(data, epochs=epochs, steps_per_epoch=steps, verbose=0, callbacks=[timer])
    return (epochs - 1) * steps * BATCH / sum(timer.seconds[1:])


def measure(
    dataset_dir: Path, model_name: str, steps: int, epochs: int, repeats: int
) -> dict[str, list[float]]:
    """TFRecord-fed and memory-fed training rates of ``model_name``, alternating feeds
    ``repeats`` times so that drifts in machine load hit both alike."""
    import tensorflow as tf

    from kubeslim.components.model_dir import ModelConfig
    from kubeslim.components.nets import nets_factory

    net_fn = nets_factory.get_network_fn(model_name)
    _, shape = CASES[model_name]
    config = ModelConfig(
        model_name, net_fn.preprocessing_name, shape[0], shape[2], 10, tuple("0123456789"), "x"
    )
    records = config.make_dataset(dataset_dir, "train", batch_size=BATCH, is_training=True, seed=0)
    # The same number of images, preprocessed once, then served from memory.
    images, labels = [], []
    for x, y in records.take(steps):
        images.append(x.numpy())
        labels.append(y.numpy())
    in_memory = (
        tf.data.Dataset.from_tensor_slices((np.concatenate(images), np.concatenate(labels)))
        .batch(BATCH)
        .cache()
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    rates: dict[str, list[float]] = {"tfrecords": [], "in_memory": []}
    for _ in range(repeats):
        for feed, data in (("tfrecords", records), ("in_memory", in_memory)):
            model = _compiled(model_name, shape[0], shape[2])
            rates[feed].append(_fit_rate(model, data, steps, epochs))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=4, help="epochs, the first untimed")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per feed")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kubeslim.beam.convert import convert_dataset

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        for model_name, (label, shape) in CASES.items():
            out = Path(tmp) / label
            convert_dataset(out, dataset=synthetic_dataset(label, shape, 10_000))
            rates = measure(out, model_name, args.steps, args.epochs, args.repeats)
            tfrecords = statistics.median(rates["tfrecords"])
            in_memory = statistics.median(rates["in_memory"])
            rows.append(
                {
                    "model": model_name,
                    "data": label,
                    "tfrecords_images_per_second": round(tfrecords, 1),
                    "in_memory_images_per_second": round(in_memory, 1),
                    "ratio": round(tfrecords / in_memory, 3),
                    "runs": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
                }
            )
            print(
                f"  {model_name:<9} TFRecords {tfrecords:8.0f} images/s, "
                f"in memory {in_memory:8.0f} images/s, ratio {tfrecords / in_memory:.3f}",
                flush=True,
            )
    report = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "batch_size": BATCH,
        "steps_per_epoch": args.steps,
        "timed_epochs": args.epochs - 1,
        "repeats": args.repeats,
        "results": rows,
        "target": TARGET,
    }
    write_results("train", _markdown(report), report)
    print(_markdown(report))


def _markdown(report: dict) -> str:
    lines = [
        "# Training throughput benchmark (`make bench-train`)",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['platform']}. "
        f"Batch {report['batch_size']}, {report['timed_epochs']} timed epochs of "
        f"{report['steps_per_epoch']} steps after one untimed; the feeds alternate "
        f"{report['repeats']} times in one run and the medians are compared.",
        "",
        "| net | data | TFRecord-fed images/s | in-memory images/s | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['model']} | {r['data']} | {r['tfrecords_images_per_second']:.0f} "
            f"| {r['in_memory_images_per_second']:.0f} | {r['ratio']:.3f} |"
        )
    lines += ["", f"Target: TFRecord-fed at least {report['target']} of in-memory.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
