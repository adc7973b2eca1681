import os

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.mnist import Mnist
from kubeslim.beam.download import RemoteFile
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError

from ..fakes import http_server, make_mnist, mnist_files, read_split


def test_mnist_round_trip_from_a_mirror(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    arrays = make_mnist(served, n_train=30, n_test=10)
    with http_server(served) as (url, _):
        descriptor = convert_dataset(
            tmp_path / "out",
            ConvertOptions(cache_dir=str(tmp_path / "cache"), source=url, num_shards="train=3"),
            dataset=Mnist(files=mnist_files(served)),
        )
    assert descriptor["splits"]["train"]["num_examples"] == 30
    assert descriptor["splits"]["test"]["files"] == [
        "mnist_test-00000-of-00002.tfrecord",
        "mnist_test-00001-of-00002.tfrecord",
    ]
    for split in ("train", "test"):
        decoded = sorted(
            (int(ex["image/class/label"]), tf.io.decode_png(ex["image/encoded"]).numpy().tobytes())
            for ex in read_split(tmp_path / "out", split)
        )
        expected = sorted(
            (int(label), image[..., np.newaxis].tobytes())
            for image, label in zip(
                arrays[f"{split}_images"], arrays[f"{split}_labels"], strict=True
            )
        )
        assert decoded == expected


def test_canonical_checksums_refuse_other_files_and_write_nothing(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_mnist(served, n_train=5, n_test=5)
    out = tmp_path / "out"
    with http_server(served) as (url, _), pytest.raises(KubeslimError, match="expected 9912422"):
        convert_dataset(
            out,
            ConvertOptions(dataset_name="mnist", cache_dir=str(tmp_path / "cache"), source=url),
        )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_truncated_idx_is_a_clear_error(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_mnist(served, n_train=5, n_test=5)
    import gzip

    images = served / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-100]))
    with pytest.raises(KubeslimError, match="train-images-idx3-ubyte: 3836 bytes, but its header"):
        convert_dataset(
            tmp_path / "out",
            ConvertOptions(cache_dir=str(tmp_path / "cache"), source=str(served)),
            dataset=Mnist(files=mnist_files(served)),
        )


def test_a_local_mirror_is_read_not_written(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_mnist(served, n_train=10, n_test=2)
    before = sorted(p.name for p in served.iterdir())
    convert_dataset(
        tmp_path / "out",
        ConvertOptions(
            cache_dir=str(tmp_path / "cache"), source=str(served), num_shards="train=2,test=1"
        ),
        dataset=Mnist(files=mnist_files(served)),
    )
    assert sorted(p.name for p in served.iterdir()) == before


def test_a_second_mirror_with_other_files_is_converted_not_the_first_ones_cache(tmp_path):
    """The decompressed idx files in the cache are keyed by the content of their .gz, not
    by time: mirror B's older files still replace what mirror A left in the cache."""
    mirrors = {}
    for seed, name in enumerate("ab"):
        mirrors[name] = tmp_path / name
        mirrors[name].mkdir()
        arrays = make_mnist(mirrors[name], n_train=10, n_test=10, seed=seed)
    for path in mirrors["b"].iterdir():
        os.utime(path, (0, 0))  # older than anything the first conversion cached
    unpinned = {
        split: tuple(RemoteFile(r.url) for r in remotes)
        for split, remotes in mnist_files(mirrors["a"]).items()
    }
    for name in "ab":
        convert_dataset(
            tmp_path / f"out-{name}",
            ConvertOptions(
                cache_dir=str(tmp_path / "cache"),
                source=str(mirrors[name]),
                num_shards="train=1,test=1",
            ),
            dataset=Mnist(files=unpinned),
        )
    stored = sorted(
        tf.io.decode_png(ex["image/encoded"]).numpy().tobytes()
        for ex in read_split(tmp_path / "out-b", "train")
    )
    assert stored == sorted(image[..., np.newaxis].tobytes() for image in arrays["train_images"])
