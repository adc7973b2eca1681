"""Sources on an object store: an S3-compatible server (moto's, on 127.0.0.1) started and
stopped here, read through Beam's file systems with Beam's own S3 options."""

import filecmp
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.mnist import Mnist
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError

from ..s3 import s3_args, s3_server, upload
from .fakes import make_mnist, mnist_files, read_split


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_server(tmp_path_factory.mktemp("s3") / "server.log") as endpoint:
        yield endpoint


def _same_tree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return names == sorted(p.name for p in b.iterdir()) and not mismatch and not errors


def test_mnist_from_an_s3_mirror_equals_the_same_files_from_disk(s3_endpoint, tmp_path):
    local = tmp_path / "mirror"
    local.mkdir()
    make_mnist(local, n_train=30, n_test=10)
    source = upload(s3_endpoint, local, "mnist")
    dataset = Mnist(files=mnist_files(local))
    for name, where in (("from_s3", source), ("from_disk", str(local))):
        convert_dataset(
            tmp_path / name,
            ConvertOptions(source=where, cache_dir=str(tmp_path / f"cache_{name}")),
            dataset=dataset,
            beam_args=s3_args(s3_endpoint),
        )
    assert _same_tree(tmp_path / "from_s3", tmp_path / "from_disk")
    assert len(read_split(tmp_path / "from_s3", "train")) == 30


def test_an_image_folder_on_s3_is_read_by_the_workers(s3_endpoint, tmp_path):
    """Listed by the driver and read in Beam's worker, both through S3."""
    rng = np.random.default_rng(3)
    photos = tmp_path / "photos"
    for name in ("daisy", "tulips"):
        (photos / name).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(photos / name / f"{i}.png")
    source = upload(s3_endpoint, photos, "photos")
    descriptor = convert_dataset(
        tmp_path / "out",
        ConvertOptions(dataset_name="image_folder", source=source, validation_size=0.2),
        beam_args=s3_args(s3_endpoint),
    )
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


def test_text_files_on_s3_convert_as_the_same_files_on_disk(s3_endpoint, tmp_path):
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(40)]
    (tmp_path / "text").mkdir()
    for k in range(2):
        lines = (" ".join(rng.choice(words, rng.integers(3, 9))) for _ in range(300))
        (tmp_path / "text" / f"part{k}.txt").write_text("\n".join(lines) + "\n")
    source = upload(s3_endpoint, tmp_path / "text", "text")
    for name, pattern in (("from_s3", f"{source}/*.txt"), ("from_disk", f"{tmp_path}/text/*.txt")):
        convert_corpus(
            tmp_path / name,
            ConvertTextOptions(corpus_name="text_files", source=pattern, min_count=2),
            beam_args=s3_args(s3_endpoint),
        )
    shards = sorted(p.name for p in (tmp_path / "from_s3").glob("*.tfrecord"))
    assert shards and shards == sorted(p.name for p in (tmp_path / "from_disk").glob("*.tfrecord"))
    for name in [*shards, "vocabulary_tokens.txt", "corpus.json"]:
        a, b = tmp_path / "from_s3" / name, tmp_path / "from_disk" / name
        assert a.read_bytes() == b.read_bytes(), name
