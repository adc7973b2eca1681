import io
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.datasets.image_folder import ImageFolder
from kubeslim.beam.options import ConvertOptions
from kubeslim.components import input_pipeline
from kubeslim.errors import KubeslimError

from ..fakes import jpeg_bytes, jpeg_tensorflow_rejects, png_bytes, read_split


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
        tmp_path / "out",
        ConvertOptions(
            dataset_name="image_folder",
            validation_size=0.2,
            source=str(tmp_path / "photos"),
            num_shards="train=2",
        ),
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
        convert_dataset(
            tmp_path / "out",
            ConvertOptions(dataset_name="image_folder", source=str(tmp_path / "photos")),
        )


def test_image_folder_needs_a_source_and_rejects_unknown_options(tmp_path):
    with pytest.raises(KubeslimError, match="needs --source ROOT"):
        convert_dataset(tmp_path / "out", ConvertOptions(dataset_name="image_folder"))
    with pytest.raises(KubeslimError, match="'mnist' does not take --validation_size"):
        dataset_factory.get_dataset("mnist", validation_size=0.1)


def _convert(tmp_path, **kwargs):
    return convert_dataset(
        tmp_path / "out",
        ConvertOptions(
            dataset_name="image_folder",
            validation_size=2,
            source=str(tmp_path / "photos"),
            num_shards="train=1",
            **kwargs,
        ),
    )


def test_an_image_pillow_reads_but_tensorflow_cannot_is_skipped_or_fails_strict(tmp_path):
    bad = jpeg_tensorflow_rejects()
    with Image.open(io.BytesIO(bad)) as image:
        image.load()  # Pillow reads it...
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(bad, channels=3)  # ...training's reader does not
    _tree(tmp_path / "photos", {"cats": 4, "dogs": 4})
    (tmp_path / "photos" / "cats" / "damaged.jpg").write_bytes(bad)
    with pytest.raises(
        KubeslimError, match="cats/damaged.jpg: TensorFlow cannot decode it .*--strict"
    ):
        _convert(tmp_path, strict=True)
    assert not (tmp_path / "out").exists()
    descriptor = _convert(tmp_path)
    skipped = [s for split in descriptor["splits"].values() for s in split["skipped"]]
    assert [s["record"] for s in skipped] == [str(tmp_path / "photos" / "cats" / "damaged.jpg")]
    assert "jpeg::Uncompress failed" in skipped[0]["reason"]
    for split in ("train", "validation"):
        for ex in read_split(tmp_path / "out", split):  # what training will read, all of it
            input_pipeline.decode_image(ex["image/encoded"], 3)


def test_sixteen_bit_grey_is_scaled_as_tensorflow_reads_it_not_clipped(tmp_path):
    _tree(tmp_path / "photos", {"cats": 3, "dogs": 3})
    ramp = (np.arange(40 * 50).reshape(40, 50) * 30).astype(np.uint16)  # 0 to 59970
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, "PNG")
    (tmp_path / "photos" / "dogs" / "scan.png").write_bytes(buffer.getvalue())
    _convert(tmp_path)
    examples = read_split(tmp_path / "out", "train") + read_split(tmp_path / "out", "validation")
    (stored,) = [e for e in examples if (e["image/height"], e["image/width"]) == (40, 50)]
    pixels = tf.io.decode_image(stored["image/encoded"], channels=1).numpy()[..., 0]
    peer = tf.io.decode_png(buffer.getvalue(), channels=1, dtype=tf.uint8).numpy()[..., 0]
    np.testing.assert_array_equal(pixels, peer)  # TensorFlow's own reading of the 16-bit file
    assert (pixels == 255).mean() < 0.01


def _corrupt(paths):
    for path in paths:
        Path(path).write_bytes(b"not an image any more")


def test_a_class_or_split_left_without_examples_is_an_error_naming_it(tmp_path):
    _tree(tmp_path / "photos", {"cats": 3, "dogs": 3})
    _corrupt((tmp_path / "photos" / "dogs").glob("*.*"))
    with pytest.raises(KubeslimError, match="class 'dogs' has no examples: all its 3 images"):
        _convert(tmp_path)
    assert not (tmp_path / "out").exists()
    _tree(tmp_path / "more", {"cats": 3, "dogs": 3})
    folder = ImageFolder(validation_size=1)
    folder.prepare(tmp_path / "cache", str(tmp_path / "more"))
    (held_out,) = folder.split_records(seed=0)["validation"]
    _corrupt([held_out.handle])
    with pytest.raises(KubeslimError, match="split 'validation' has no examples: all its 1 "):
        convert_dataset(
            tmp_path / "out", ConvertOptions(source=str(tmp_path / "more")), dataset=ImageFolder(1)
        )
    assert not (tmp_path / "out").exists()


def test_links_that_leave_the_source_root_are_refused(tmp_path):
    _tree(tmp_path / "photos", {"cats": 3, "dogs": 3})
    outside = tmp_path / "private.jpg"
    outside.write_bytes(jpeg_bytes(np.random.default_rng(1)))
    inside_link = tmp_path / "photos" / "dogs" / "same-cat.jpg"
    inside_link.symlink_to(tmp_path / "photos" / "cats" / "0.jpg")
    splits = _convert(tmp_path)["splits"]
    assert sum(split["num_examples"] for split in splits.values()) == 7
    (tmp_path / "photos" / "dogs" / "private.jpg").symlink_to(outside)
    with pytest.raises(KubeslimError, match="dogs/private.jpg is a symbolic link to .*outside"):
        _convert(tmp_path)
    (tmp_path / "photos" / "dogs" / "private.jpg").unlink()
    (tmp_path / "photos" / "etc").symlink_to("/etc")
    with pytest.raises(KubeslimError, match="photos/etc is a symbolic link to /etc, outside"):
        _convert(tmp_path)


def test_class_names_that_labels_txt_cannot_hold_are_refused(tmp_path):
    _tree(tmp_path / "photos", {"cats": 3, "two\nlines": 3})
    with pytest.raises(KubeslimError, match="class name 'two\\\\nlines' is empty or has control"):
        _convert(tmp_path)
    assert not (tmp_path / "out").exists()


def test_an_output_holding_or_inside_the_source_is_refused_before_any_work(tmp_path):
    files = _tree(tmp_path / "project" / "photos", {"cats": 3, "dogs": 3})
    for out, message in (
        (tmp_path / "project", "holds --source"),
        (tmp_path / "project" / "photos" / "x", "lies inside --source"),
    ):
        with pytest.raises(KubeslimError, match=message):
            convert_dataset(
                out,
                ConvertOptions(
                    dataset_name="image_folder", source=str(tmp_path / "project" / "photos")
                ),
            )
    for path, (_, data) in files.items():
        assert open(path, "rb").read() == data
