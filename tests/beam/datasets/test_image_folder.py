import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets import dataset_factory
from kubeslim.errors import KubeslimError

from ..fakes import jpeg_bytes, png_bytes, read_split


def _tree(root, per_class, seed=0):
    rng = np.random.default_rng(seed)
    files = {}
    for name, n in per_class.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            data = png_bytes(rng) if i % 2 else jpeg_bytes(rng, mode="L")
            path = root / name / f"{i}.{'png' if i % 2 else 'jpg'}"
            path.write_bytes(data)
            files[str(path)] = (name, data)
    (root / next(iter(per_class)) / ".DS_Store").write_bytes(b"hidden")
    return files


def test_image_folder_reads_class_folders_with_a_validation_fraction(tmp_path):
    files = _tree(tmp_path / "photos", {"cats": 6, "dogs": 4})
    descriptor = convert_dataset(
        dataset_factory.get_dataset("image_folder", validation_size=0.2),
        tmp_path / "out",
        source=str(tmp_path / "photos"),
        num_shards={"train": 2},
    )
    assert descriptor["class_names"] == ["cats", "dogs"]
    assert descriptor["splits"]["validation"]["num_examples"] == 2
    assert descriptor["splits"]["train"]["num_examples"] == 8
    assert descriptor["image_formats"] == ["jpeg", "png"]
    stored = read_split(tmp_path / "out", "train") + read_split(tmp_path / "out", "validation")
    by_bytes = {data: name for name, data in files.values()}
    for ex in stored:
        assert descriptor["class_names"][ex["image/class/label"]] == by_bytes[ex["image/encoded"]]
        image = tf.io.decode_image(ex["image/encoded"], channels=3).numpy()
        assert image.shape == (ex["image/height"], ex["image/width"], 3)


@pytest.mark.parametrize(
    "per_class, message",
    [
        ({"cats": 3, "dogs": 0}, "class folder 'dogs' has no image files"),
        ({"cats": 3}, "found 1 class folder"),
    ],
)
def test_bad_trees_are_refused(tmp_path, per_class, message):
    _tree(tmp_path / "photos", per_class)
    with pytest.raises(KubeslimError, match=message):
        convert_dataset("image_folder", tmp_path / "out", source=str(tmp_path / "photos"))


def test_image_folder_needs_a_source_and_rejects_unknown_options(tmp_path):
    with pytest.raises(KubeslimError, match="needs --source ROOT"):
        convert_dataset("image_folder", tmp_path / "out")
    with pytest.raises(KubeslimError, match="'mnist' does not take --validation_size"):
        dataset_factory.get_dataset("mnist", validation_size=0.1)
