"""Sources and outputs on an object store: an S3-compatible server (moto's, on 127.0.0.1)
started and stopped here, read and written through Beam's file systems with Beam's own S3
options."""

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.mnist import Mnist
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import read_marker

from ..s3 import BUCKET, download, keys, put, s3_args, upload
from .fakes import make_mnist, mnist_files, read_split


def _same_tree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return names == sorted(p.name for p in b.iterdir()) and not mismatch and not errors


@pytest.fixture(scope="module")
def mnist_on_s3(s3_endpoint, tmp_path_factory) -> dict:
    """MNIST files on S3 converted into S3, and the same files converted on disk."""
    root = tmp_path_factory.mktemp("mnist")
    local = root / "mirror"
    local.mkdir()
    arrays = make_mnist(local, n_train=30, n_test=10)
    source = upload(s3_endpoint, local, "mnist")
    dataset = Mnist(files=mnist_files(local))
    converted = f"s3://{BUCKET}/converted"
    for out, where in ((converted, source), (root / "from_disk", str(local))):
        convert_dataset(
            out,
            ConvertOptions(source=where, cache_dir=str(root / f"cache_{where[:2]}")),
            dataset=dataset,
            beam_args=s3_args(s3_endpoint),
        )
    return {"uri": converted, "arrays": arrays, "dataset": dataset, "on_disk": root / "from_disk"}


def test_mnist_from_s3_into_s3_equals_the_conversion_on_disk(mnist_on_s3, s3_endpoint, tmp_path):
    from_s3 = download(s3_endpoint, "converted", tmp_path / "from_s3")
    assert _same_tree(from_s3, mnist_on_s3["on_disk"])  # the marker file too: complete
    assert len(read_split(from_s3, "train")) == 30
    assert keys(s3_endpoint, ".converted.tmp-") == []  # no staging left


def test_analyze_reads_a_data_set_on_s3_and_writes_its_transform_to_s3_for_training(
    mnist_on_s3, s3_endpoint, tmp_path
):
    from kubeslim.beam.analyze import analyze_dataset
    from kubeslim.components.options import TrainOptions
    from kubeslim.components.train import train

    statistics = analyze_dataset(
        mnist_on_s3["uri"], f"s3://{BUCKET}/transform", beam_args=s3_args(s3_endpoint)
    )
    images = mnist_on_s3["arrays"]["train_images"].astype(np.float64)
    assert statistics["num_examples"] == 30
    assert statistics["pixel_mean"] == pytest.approx([images.mean()], rel=1e-5)
    assert statistics["pixel_std"] == pytest.approx([images.std()], rel=1e-5)
    written = download(s3_endpoint, "transform", tmp_path / "transform")
    assert json.loads((written / "statistics.json").read_text()) == statistics
    assert (written / "transform_fn" / "saved_model.pb").is_file()
    assert read_marker(written)["kind"] == "transform"
    # Training reads the data where TensorFlow can, and the transform from the store.
    model_dir = tmp_path / "model"
    options = TrainOptions(num_epochs=1, batch_size=10)
    train(mnist_on_s3["on_disk"], model_dir, options, transform_dir=f"s3://{BUCKET}/transform")
    assert json.loads((model_dir / "transform" / "statistics.json").read_text()) == statistics
    assert json.loads((model_dir / "model_config.json").read_text())["uses_transform"]


def test_training_from_s3_names_what_tensorflow_cannot_read(mnist_on_s3, tmp_path):
    from kubeslim.components.train import train

    with pytest.raises(KubeslimError, match=r"--dataset_dir s3://.*no s3:// file system"):
        train(mnist_on_s3["uri"], tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_an_s3_output_replaces_its_own_and_never_objects_kubeslim_did_not_write(
    mnist_on_s3, s3_endpoint, tmp_path
):
    args = {"dataset": mnist_on_s3["dataset"], "beam_args": s3_args(s3_endpoint)}
    source = f"s3://{BUCKET}/mnist"
    put(s3_endpoint, "theirs/notes.txt", b"mine")
    with pytest.raises(KubeslimError, match="s3://.*/theirs holds objects kubeslim did not"):
        convert_dataset(f"s3://{BUCKET}/theirs", ConvertOptions(source=source), **args)
    assert keys(s3_endpoint, "theirs/") == ["theirs/notes.txt"]

    again = f"s3://{BUCKET}/again"
    convert_dataset(again, ConvertOptions(source=source), **args)
    convert_dataset(again, ConvertOptions(source=source, num_shards="train=3"), **args)
    shards = [k for k in keys(s3_endpoint, "again/") if k.endswith(".tfrecord")]
    assert shards == [f"again/mnist_test-0000{i}-of-00002.tfrecord" for i in range(2)] + [
        f"again/mnist_train-0000{i}-of-00003.tfrecord" for i in range(3)
    ]


def test_an_image_folder_on_s3_is_read_and_written_by_local_worker_processes(s3_endpoint, tmp_path):
    """Listed by the driver, read and written by Beam's local worker processes, all through
    S3: the workers, which Beam starts without the job's options, get its S3 flags."""
    rng = np.random.default_rng(3)
    photos = tmp_path / "photos"
    for name in ("daisy", "tulips"):
        (photos / name).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(photos / name / f"{i}.png")
    source = upload(s3_endpoint, photos, "photos")
    workers = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    descriptor = convert_dataset(
        f"s3://{BUCKET}/photos-converted",
        ConvertOptions(dataset_name="image_folder", source=source, validation_size=0.2),
        beam_args=[*s3_args(s3_endpoint), *workers],
    )
    assert len([k for k in keys(s3_endpoint, "photos-converted/") if k.endswith(".tfrecord")]) == 5
    assert descriptor["class_names"] == ["daisy", "tulips"]
    counts = {split: entry["num_examples"] for split, entry in descriptor["splits"].items()}
    assert sum(counts.values()) == 10 and counts["validation"] == 2


def test_a_missing_object_is_one_clear_error_and_nothing_is_written(s3_endpoint, tmp_path):
    local = tmp_path / "mirror"
    local.mkdir()
    make_mnist(local, n_train=10, n_test=10)
    dataset = Mnist(files=mnist_files(local))
    (local / "t10k-labels-idx1-ubyte.gz").unlink()
    source = upload(s3_endpoint, local, "partial")
    with pytest.raises(KubeslimError, match="t10k-labels-idx1-ubyte.gz.*s3://.*not found"):
        convert_dataset(
            tmp_path / "out",
            ConvertOptions(source=source, cache_dir=str(tmp_path / "cache")),
            dataset=dataset,
            beam_args=s3_args(s3_endpoint),
        )
    assert not (tmp_path / "out").exists()


def test_text_files_on_s3_convert_into_s3_as_the_same_files_on_disk(s3_endpoint, tmp_path):
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(40)]
    (tmp_path / "text").mkdir()
    for k in range(2):
        lines = (" ".join(rng.choice(words, rng.integers(3, 9))) for _ in range(300))
        (tmp_path / "text" / f"part{k}.txt").write_text("\n".join(lines) + "\n")
    source = upload(s3_endpoint, tmp_path / "text", "text")
    into_s3 = f"s3://{BUCKET}/corpus"
    for out, pattern in (
        (into_s3, f"{source}/*.txt"),
        (tmp_path / "from_disk", f"{tmp_path}/text/*.txt"),
    ):
        convert_corpus(
            out,
            ConvertTextOptions(corpus_name="text_files", source=pattern, min_count=2),
            beam_args=s3_args(s3_endpoint),
        )
    from_s3 = download(s3_endpoint, "corpus", tmp_path / "from_s3")
    shards = sorted(p.name for p in from_s3.glob("*.tfrecord"))
    assert shards and shards == sorted(p.name for p in (tmp_path / "from_disk").glob("*.tfrecord"))
    for name in [*shards, "vocabulary_tokens.txt", "corpus.json"]:
        assert (from_s3 / name).read_bytes() == (tmp_path / "from_disk" / name).read_bytes(), name
    assert (from_s3 / "transform" / "transform_fn" / "saved_model.pb").is_file()
