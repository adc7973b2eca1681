"""The converter core on the real digits: round trips, counts, shards, determinism and atomic
output."""

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from kubeslim.beam import convert
from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.datasets.base import ImageDataset, SourceImage
from kubeslim.beam.datasets.digits import stratified_split
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import MARKER_FILE, OutputDir

from .fakes import read_split


def _dir_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_records_decode_back_to_the_source_pixels_and_labels(digits_dir):
    source = load_digits()
    train_idx, test_idx = stratified_split(source.target, 0.2, seed=0)
    for split, indices in [("train", train_idx), ("test", test_idx)]:
        decoded = []
        for ex in read_split(digits_dir, split):
            assert ex["image/format"] == b"png"
            assert (ex["image/height"], ex["image/width"]) == (8, 8)
            pixels = tf.io.decode_png(ex["image/encoded"], channels=1).numpy()[..., 0]
            levels = np.round(pixels.astype(np.float64) * 16 / 255).astype(np.int64)
            decoded.append((int(ex["image/class/label"]), levels.tobytes()))
        expected = [
            (int(source.target[i]), source.images[i].astype(np.int64).tobytes()) for i in indices
        ]
        assert sorted(decoded) == sorted(expected)


def test_descriptor_labels_and_shards(digits_dir):
    descriptor = json.loads((digits_dir / "dataset.json").read_text())
    assert descriptor["num_classes"] == 10
    assert descriptor["image_shape"] == [8, 8, 1]
    assert descriptor["feature_keys"]["label"] == "image/class/label"
    splits = descriptor["splits"]
    assert splits["train"]["num_examples"] + splits["test"]["num_examples"] == 1797
    assert splits["test"]["num_examples"] == 359
    for split, entry in splits.items():
        labels = [int(ex["image/class/label"]) for ex in read_split(digits_dir, split)]
        assert len(labels) == entry["num_examples"]
        counts = np.bincount(labels, minlength=10)
        assert entry["examples_per_class"] == {str(c): int(n) for c, n in enumerate(counts)}
    assert splits["train"]["files"] == [
        "digits_train-00000-of-00002.tfrecord",
        "digits_train-00001-of-00002.tfrecord",
    ]
    assert splits["test"]["files"] == ["digits_test-00000-of-00001.tfrecord"]
    assert sorted(p.name for p in digits_dir.iterdir()) == sorted(
        [
            MARKER_FILE,
            "dataset.json",
            "labels.txt",
            *splits["train"]["files"],
            *splits["test"]["files"],
        ]
    )
    assert (digits_dir / "labels.txt").read_text().splitlines()[:2] == ["0:0", "1:1"]


def _previous_output(path: Path) -> Path:
    """A kubeslim data set directory written earlier, holding ``keep.txt``."""
    with OutputDir(path, "dataset").staging() as tmp:
        (tmp / "keep.txt").write_text("previous good output")
    return path


def test_rerun_is_byte_identical_across_runners_and_replaces_old_output(digits_dir, tmp_path):
    out = _previous_output(tmp_path / "again")
    convert.convert_dataset(
        out,
        beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    )
    assert _dir_bytes(out) == _dir_bytes(digits_dir)
    assert [p.name for p in tmp_path.iterdir()] == ["again"]


def test_shard_counts_and_seed_are_honoured(tmp_path):
    descriptor = convert.convert_dataset(
        tmp_path / "d", ConvertOptions(num_shards="train=3", seed=7)
    )
    assert descriptor["splits"]["train"]["num_shards"] == 3
    assert descriptor["splits"]["train"]["files"][2] == "digits_train-00002-of-00003.tfrecord"
    assert descriptor["seed"] == 7


class _BadRecordDataset(ImageDataset):
    """Twenty good images, then one whose pixels are not uint8."""

    name = "bad_record"
    image_shape = (4, 4, 1)
    default_num_shards = {"train": 2}

    def class_names(self) -> list[str]:
        return ["a", "b"]

    def split_records(self, seed: int) -> dict[str, Sequence[int]]:
        return {"train": list(range(21))}

    def read(self, split: str, refs: Sequence[int]) -> Iterator[SourceImage]:
        for i in refs:
            dtype = np.float32 if i == 20 else np.uint8
            yield SourceImage(label=i % 2, pixels=np.zeros((4, 4, 1), dtype))


def test_bad_record_fails_with_its_name_and_leaves_output_untouched(tmp_path, monkeypatch):
    monkeypatch.setitem(dataset_factory.DATASETS, "bad_record", _BadRecordDataset)
    out = _previous_output(tmp_path / "out")
    with pytest.raises(KubeslimError, match="train record 20: expected uint8"):
        convert.convert_dataset(out, ConvertOptions(dataset_name="bad_record"))
    assert sorted(p.name for p in out.iterdir()) == [MARKER_FILE, "keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_bad_output_paths_and_shard_counts_are_refused(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(KubeslimError, match="exists and is not a directory"):
        convert.convert_dataset(a_file)
    with pytest.raises(KubeslimError, match="is not a directory"):
        convert.convert_dataset(a_file / "sub")
    with pytest.raises(KubeslimError, match="names split 'validation'"):
        convert.convert_dataset(tmp_path / "o", ConvertOptions(num_shards="validation=2"))
    with pytest.raises(KubeslimError, match="has 3 records, cannot write 4 shards"):
        convert.plan_shards({"train": [1, 2, 3]}, {"train": 4}, seed=0)
