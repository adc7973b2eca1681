"""Benchmark of the tf.data input pipeline against the training step it feeds.

For the digits and for MNIST-sized (28x28x1) and CIFAR-sized (32x32x3) synthetic TFRecords,
measures the examples per second the input pipeline alone delivers (parse, decode, each
preprocessing in training mode, batch), and in the same run the images per second that
LeNet and CifarNet train at on in-memory tensors. If the pipeline delivers several times
what the model consumes, input is not the bottleneck. Run with ``make bench-input``; results
go to benchmarks/results/.
"""

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from results_files import write_results

BATCH = 32
PREPROCESSING_SIZES = {"lenet": 28, "cifarnet": 32, "inception": 224, "vgg": 224}
TARGET = 3.0


def synthetic_dataset(name: str, shape: tuple[int, int, int], count: int):
    from kubeslim.beam.datasets.base import ArrayDataset

    class Synthetic(ArrayDataset):
        image_shape = shape
        default_num_shards = {"train": 4, "test": 1}

        def __init__(self):
            rng = np.random.default_rng(0)
            self.name = name
            self._images = rng.integers(0, 256, (count, *shape), dtype=np.uint8)
            self._labels = rng.integers(0, 10, count)

        def class_names(self) -> list[str]:
            return [str(i) for i in range(10)]

        def splits(self) -> list[str]:
            return ["train", "test"]

        def split_records(self, seed: int) -> dict[str, Sequence[int]]:
            return {"train": np.arange(count - 100), "test": np.arange(count - 100, count)}

        def open_split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
            return self._images, self._labels

    return Synthetic()


def input_rate(dataset_dir: Path, preprocessing: str, channels: int, examples: int) -> float:
    """Examples per second of the training input pipeline with ``preprocessing``."""
    from kubeslim.components.model_dir import ModelConfig

    size = PREPROCESSING_SIZES[preprocessing]
    config = ModelConfig("lenet", preprocessing, size, channels, 10, tuple("0123456789"), "x")
    ds = config.make_dataset(dataset_dir, "train", batch_size=BATCH, is_training=True, seed=0)
    iterator = iter(ds)
    for _ in range(20):  # warm-up: tracing, AUTOTUNE, the shuffle buffer filling
        next(iterator)
    steps = examples // BATCH
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return steps * BATCH / (time.perf_counter() - start)


def training_rate(model_name: str, size: int, channels: int, steps: int = 60) -> float:
    """Images per second of training steps on in-memory tensors."""
    import keras

    from kubeslim.components.nets import nets_factory

    keras.utils.set_random_seed(0)
    model = nets_factory.get_network_fn(model_name)(10, image_size=size, channels=channels)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images = np.random.default_rng(0).normal(size=(BATCH, size, size, channels)).astype("f4")
    labels = np.random.default_rng(1).integers(0, 10, BATCH)
    for _ in range(5):
        model.train_on_batch(images, labels)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=4000, help="examples per measurement")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kubeslim.beam.convert import convert_dataset
    from kubeslim.beam.datasets.dataset_factory import get_dataset

    rows, rates = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-input-") as tmp:
        datasets = {
            "digits": (get_dataset("digits"), 1),
            "mnist_sized": (synthetic_dataset("mnist_sized", (28, 28, 1), 10_000), 1),
            "cifar_sized": (synthetic_dataset("cifar_sized", (32, 32, 3), 10_000), 3),
        }
        for label, (dataset, channels) in datasets.items():
            out = Path(tmp) / label
            convert_dataset(out, dataset=dataset)
            for preprocessing in PREPROCESSING_SIZES:
                rate = input_rate(out, preprocessing, channels, args.examples)
                rates[(label, preprocessing)] = rate
                rows.append(
                    {
                        "dataset": label,
                        "preprocessing": preprocessing,
                        "output_size": PREPROCESSING_SIZES[preprocessing],
                        "examples_per_second": round(rate, 1),
                    }
                )
                print(f"  input {label:<12} {preprocessing:<10} {rate:9.0f} examples/s", flush=True)
    consumers = {
        "lenet": training_rate("lenet", 28, 1),
        "cifarnet": training_rate("cifarnet", 32, 3),
    }
    for name, rate in consumers.items():
        print(f"  train {name:<10} {rate:9.0f} images/s", flush=True)
    ratios = {
        "lenet": round(rates[("mnist_sized", "lenet")] / consumers["lenet"], 2),
        "cifarnet": round(rates[("cifar_sized", "cifarnet")] / consumers["cifarnet"], 2),
    }
    report = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "batch_size": BATCH,
        "input": rows,
        "training_images_per_second": {k: round(v, 1) for k, v in consumers.items()},
        "input_over_training": ratios,
        "target": TARGET,
    }
    write_results("input", _markdown(report), report)
    print(_markdown(report))


def _markdown(report: dict) -> str:
    lines = [
        "# Input pipeline benchmark (`make bench-input`)",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['platform']}. "
        f"Training-mode input pipeline (parse, decode, preprocess, batch {report['batch_size']}),"
        " one run.",
        "",
        "| dataset | preprocessing | output size | examples/s |",
        "| --- | --- | --- | --- |",
    ]
    for r in report["input"]:
        lines.append(
            f"| {r['dataset']} | {r['preprocessing']} | {r['output_size']} "
            f"| {r['examples_per_second']:.0f} |"
        )
    lines += [
        "",
        "| net | trains at (images/s, in-memory) | input delivers | ratio |",
        "| --- | --- | --- | --- |",
    ]
    pairs = {"lenet": ("mnist_sized", "lenet"), "cifarnet": ("cifar_sized", "cifarnet")}
    for net, rate in report["training_images_per_second"].items():
        delivered = next(
            r["examples_per_second"]
            for r in report["input"]
            if (r["dataset"], r["preprocessing"]) == pairs[net]
        )
        lines.append(
            f"| {net} | {rate:.0f} | {delivered:.0f} | {report['input_over_training'][net]}x |"
        )
    lines += [
        "",
        f"Target: the input pipeline delivers at least {report['target']}x what the net consumes.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
