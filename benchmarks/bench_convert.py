"""Benchmark of the converter.

MNIST: Beam with 2 worker processes (Beam's local runner, and a Dask cluster of 2 worker
processes started once by the benchmark) against the same per-record code in one plain process,
and against TF-Slim's way (a Python loop over tf.train.Example, tf.io.encode_png and
tf.io.TFRecordWriter), on synthetic MNIST-like idx files (sklearn's digit shapes upscaled to
28x28 with noise, so PNG compresses them as it does MNIST).

Image folder: the same digit shapes as JPEG files in ten class folders, converted with the
TensorFlow decode check every image from a file goes through (``beam/decode_check.py``),
against the check the converter made before it, Pillow decoding every file: what the check
costs.

Each variant runs in a fresh subprocess, so peak memory is its own. Run with
``make bench-convert``; results go to benchmarks/results/.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_processes import descendants, rss_mb
from convert_report import best, markdown
from convert_report import report as make_report
from results_files import write_results

TESTS = Path(__file__).resolve().parent.parent / "tests"
DASK_ADDRESS = "KUBESLIM_BENCH_DASK_ADDRESS"
SIZES = (60_000, 240_000, 1_000_000)
FOLDER_SIZES = (240_000,)
FOLDER_VALIDATION = 0.1
TEST_FRACTION = 6  # MNIST's train:test ratio
WORKERS = 2
_CHUNK = 50_000


def make_idx_files(root: Path, n_train: int, seed: int = 0) -> None:
    from sklearn.datasets import load_digits

    sys.path.insert(0, str(TESTS / "beam"))
    from fakes import write_idx

    digits = load_digits()
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_train // TEST_FRACTION)):
        pick = rng.integers(0, len(digits.images), n)
        images = np.zeros((n, 28, 28), np.uint8)
        for start in range(0, n, _CHUNK):  # in chunks: float images of 1M would not fit
            chunk = pick[start : start + _CHUNK]
            shapes = np.zeros((len(chunk), 28, 28))
            shapes[:, 2:26, 2:26] = np.kron(digits.images[chunk], np.ones((3, 3))) * (255 / 16)
            noise = rng.normal(0, 12, shapes.shape) * (shapes > 0)
            images[start : start + _CHUNK] = np.clip(shapes + noise, 0, 255)
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images, 2051)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", digits.target[pick], 2049)


def make_image_folder(root: Path, n: int, seed: int = 0) -> None:
    """``n`` 28x28 grey JPEGs of digit shapes in ten class folders, ``ROOT/DIGIT/i.jpg``."""
    import io

    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True)
    for i, pick in enumerate(rng.integers(0, len(digits.images), n)):
        image = np.zeros((28, 28))
        image[2:26, 2:26] = np.kron(digits.images[pick], np.ones((3, 3))) * (255 / 16)
        image = np.clip(image + rng.normal(0, 12, image.shape) * (image > 0), 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(image.astype(np.uint8), "L").save(buffer, "JPEG", quality=90)
        (root / str(digits.target[pick]) / f"{i}.jpg").write_bytes(buffer.getvalue())


def _generate(root: Path, n_train: int, maker: str = "make_idx_files") -> None:
    """Writes the input files from a child process, so this one's memory stays small."""
    code = (
        "import bench_convert, pathlib; "
        f"bench_convert.{maker}(pathlib.Path({str(root)!r}), {n_train})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)


def _dataset(data_dir: Path):
    from kubeslim.beam.datasets.mnist import Mnist
    from kubeslim.beam.download import RemoteFile

    files = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        files[split] = tuple(
            RemoteFile(f"http://canonical.invalid/{prefix}-{kind}-idx{d}-ubyte.gz")
            for kind, d in (("images", 3), ("labels", 1))
        )
    return Mnist(files=files)


def _shards(n: int) -> dict[str, int]:
    return {"train": max(WORKERS, n // 15_000), "test": WORKERS}


def _folder_shards(n: int) -> dict[str, int]:
    return {"train": max(WORKERS, n // 15_000), "validation": WORKERS}


def _num_shards(shards: dict[str, int]) -> str:
    """``{"train": 4, "test": 2}`` as ``ConvertOptions.num_shards`` takes it."""
    return ",".join(f"{split}={n}" for split, n in shards.items())


def _pillow_decodes_every_file() -> None:
    """Puts back the converter's earlier check, Pillow decoding each file whole, in place of
    the TensorFlow one (this process only: the single-process variant)."""
    import io

    from PIL import Image

    from kubeslim.beam import convert

    def undecodable(images, channels):
        bad = {}
        for index, data in enumerate(images):
            try:
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
            except (OSError, SyntaxError, ValueError) as e:
                bad[index] = str(e)
        return bad

    convert.decode_check.undecodable = undecodable


def _convert_in_one_process(dataset, data_dir: Path, cache_dir: Path, out_dir: Path, shards):
    from kubeslim.beam.convert import plan_shards, write_shard

    dataset.prepare(cache_dir, str(data_dir))
    out_dir.mkdir(parents=True)
    tasks = plan_shards(dataset.split_records(0), shards, seed=0)
    examples = 0
    for task in tasks:
        result = write_shard(dataset, task, out_dir, num_classes=10, strict=False)
        examples += sum(result.per_class.values())
    return examples


def run_variant(variant: str, data_dir: Path, cache_dir: Path, out_dir: Path, n: int) -> dict:
    """Runs one variant in this process; returns seconds and examples written.

    The clock starts after the variant's imports, which any process pays once; Beam's own
    start-up (job service, worker processes) is part of its time. Only the TF-Slim loop
    imports TensorFlow, so each peak memory is the variant's own.
    """
    from kubeslim.beam.convert import convert_dataset
    from kubeslim.beam.datasets.image_folder import ImageFolder
    from kubeslim.beam.options import ConvertOptions

    if variant == "tf_slim_loop":
        import tensorflow as tf
    if variant == "folder_single_process_pillow_check":
        _pillow_decodes_every_file()
    start = time.perf_counter()
    if variant in ("beam", "dask"):
        if variant == "beam":
            args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={WORKERS}"]
        else:
            args = ["--runner=DaskRunner", f"--dask_client_address={os.environ[DASK_ADDRESS]}"]
        descriptor = convert_dataset(
            out_dir,
            ConvertOptions(
                cache_dir=str(cache_dir), source=str(data_dir), num_shards=_num_shards(_shards(n))
            ),
            beam_args=args,
            dataset=_dataset(data_dir),
        )
        examples = sum(s["num_examples"] for s in descriptor["splits"].values())
    elif variant == "single_process":
        examples = _convert_in_one_process(
            _dataset(data_dir), data_dir, cache_dir, out_dir, _shards(n)
        )
    elif variant == "folder_beam":
        args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={WORKERS}"]
        descriptor = convert_dataset(
            out_dir,
            ConvertOptions(source=str(data_dir), num_shards=_num_shards(_folder_shards(n))),
            beam_args=args,
            dataset=ImageFolder(FOLDER_VALIDATION),
        )
        examples = sum(s["num_examples"] for s in descriptor["splits"].values())
    elif variant.startswith("folder_single_process"):
        examples = _convert_in_one_process(
            ImageFolder(FOLDER_VALIDATION), data_dir, cache_dir, out_dir, _folder_shards(n)
        )
    elif variant == "tf_slim_loop":
        dataset = _dataset(data_dir)
        dataset.prepare(cache_dir, str(data_dir))
        out_dir.mkdir(parents=True)
        examples = 0
        for split in ("train", "test"):
            # TF-Slim's converter read the whole idx file into one array, then looped.
            image_file, labels = dataset.open_split(split)
            images = image_file[np.arange(len(labels))]
            path = str(out_dir / f"mnist_{split}.tfrecord")
            with tf.io.TFRecordWriter(path) as writer:
                for image, label in zip(images, labels, strict=True):
                    png = tf.io.encode_png(image).numpy()
                    example = tf.train.Example(
                        features=tf.train.Features(
                            feature={
                                "image/encoded": _bytes(tf, png),
                                "image/format": _bytes(tf, b"png"),
                                "image/class/label": _int(tf, int(label)),
                                "image/height": _int(tf, 28),
                                "image/width": _int(tf, 28),
                            }
                        )
                    )
                    writer.write(example.SerializeToString())
                    examples += 1
    else:
        raise ValueError(variant)
    seconds = time.perf_counter() - start
    return {
        "variant": variant,
        "examples": examples,
        "seconds": round(seconds, 3),
        "examples_per_second": round(examples / seconds, 1),
    }


def _bytes(tf, value: bytes):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(tf, value: int):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _in_subprocess(
    variant: str,
    data_dir: Path,
    cache_dir: Path,
    out_dir: Path,
    n: int,
    workers: list[int] = (),
) -> dict:
    """Runs a variant in a fresh process, sampling the RSS of it and its workers (its child
    processes, or ``workers``: a cluster's) every 0.1 s (``ru_maxrss`` would not do: Linux
    carries it over fork and exec from the parent). Its output is removed afterwards."""
    command = [
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--data_dir",
        str(data_dir),
        "--cache_dir",
        str(cache_dir),
        "--out_dir",
        str(out_dir),
        "--n",
        str(n),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peak_main = peak_workers = 0.0
    while process.poll() is None:
        peak_main = max(peak_main, rss_mb(process.pid))
        pids = [*descendants(process.pid), *workers]
        peak_workers = max(peak_workers, sum(rss_mb(p) for p in pids))
        time.sleep(0.1)
    stdout, stderr = process.communicate()
    shutil.rmtree(out_dir, ignore_errors=True)
    if process.returncode:
        raise RuntimeError(f"{variant} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak_main, 1)
    result["peak_workers_rss_mb"] = round(peak_workers, 1)
    print(
        f"  {variant:<15} {result['examples']:>7} examples  {result['seconds']:7.2f} s  "
        f"{result['examples_per_second']:>9.0f}/s  peak {peak_main:.0f} MB "
        f"(workers together {peak_workers:.0f} MB)",
        flush=True,
    )
    return result


MNIST_VARIANTS = ("beam", "dask", "single_process", "tf_slim_loop")
FOLDER_VARIANTS = (
    "folder_single_process",
    "folder_single_process_pillow_check",
    "folder_beam",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--data_dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache_dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out_dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per variant; the fastest counts (default 3)"
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="MNIST training-split sizes to run (default 60000 240000 1000000)",
    )
    parser.add_argument(
        "--folder_sizes",
        type=int,
        nargs="*",
        default=list(FOLDER_SIZES),
        help="image-folder sizes (JPEG files) to run (default 240000)",
    )
    args = parser.parse_args()
    if args.variant:
        print(
            json.dumps(
                run_variant(args.variant, args.data_dir, args.cache_dir, args.out_dir, args.n)
            )
        )
        return

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        tmp = Path(tmp)
        small = tmp / "data-tiny"
        small.mkdir()
        _generate(small, 600)
        print("Beam fixed start-up (600 + 100 examples):", flush=True)
        _in_subprocess("beam", small, tmp / "cache-tiny", tmp / "warm", 600)
        startup = min(
            (
                _in_subprocess("beam", small, tmp / "cache-tiny", tmp / f"startup-{i}", 600)
                for i in range(args.repeats)
            ),
            key=lambda r: r["seconds"],
        )
        sys.path.insert(0, str(TESTS))
        from dask_cluster import dask_cluster

        with dask_cluster(tmp, WORKERS) as cluster:
            os.environ[DASK_ADDRESS] = cluster.address  # the dask variant's processes read it
            dask_workers = cluster.worker_pids
            # the workers import kubeslim and Beam on their first job, as Beam's do on each
            _in_subprocess("dask", small, tmp / "cache-tiny", tmp / "warm-dask", 600, dask_workers)
            for n in args.sizes:
                data = tmp / f"data-{n}"
                data.mkdir()
                _generate(data, n)
                print(f"{n} train + {n // TEST_FRACTION} test examples:", flush=True)
                cache = tmp / f"cache-{n}"
                _in_subprocess("single_process", data, cache, tmp / f"warm-{n}", n)  # the cache
                for variant in MNIST_VARIANTS:
                    workers = dask_workers if variant == "dask" else []
                    tries = [
                        _in_subprocess(variant, data, cache, tmp / f"{variant}-{n}", n, workers)
                        for _ in range(args.repeats)
                    ]
                    runs.append(best(n, tries))
                shutil.rmtree(data)
                shutil.rmtree(cache)
        folder_runs = []
        for n in args.folder_sizes:
            data = tmp / f"folder-{n}"
            _generate(data, n, "make_image_folder")
            print(f"{n} JPEG files in ten class folders:", flush=True)
            by_variant: dict[str, list[dict]] = {v: [] for v in FOLDER_VARIANTS}
            for i in range(args.repeats):  # alternating, so the machine's drift hits all alike
                for variant in FOLDER_VARIANTS:
                    out = tmp / f"{variant}-{n}-{i}"
                    by_variant[variant].append(_in_subprocess(variant, data, tmp / "cache", out, n))
            folder_runs += [best(n, t) for t in by_variant.values()]
            shutil.rmtree(data)
    report = make_report(runs, startup, folder_runs, WORKERS)
    write_results("convert", markdown(report), report)
    print(markdown(report))


if __name__ == "__main__":
    main()
