"""The TFT analysis equals statistics computed directly with NumPy on the same images."""

import io
import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from PIL import Image

from kubeslim.beam.analyze import analyze_dataset
from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.options import ConvertOptions
from kubeslim.cli import main

from .fakes import read_split


def _numpy_statistics(dataset_dir, split, channels):
    examples = read_split(dataset_dir, split)
    images = [
        np.asarray(
            Image.open(io.BytesIO(ex["image/encoded"])).convert("L" if channels == 1 else "RGB")
        )
        .reshape(-1, channels)
        .astype(np.float64)
        for ex in examples
    ]
    pixels = np.concatenate(images)
    return examples, pixels.mean(axis=0), pixels.std(axis=0)


def test_digits_statistics_and_vocabulary(digits_dir, tmp_path):
    stats = analyze_dataset(digits_dir, tmp_path / "transform")
    examples, mean, std = _numpy_statistics(digits_dir, "train", 1)
    np.testing.assert_allclose(stats["pixel_mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(stats["pixel_std"], std, rtol=1e-5)
    labels = np.bincount([ex["image/class/label"] for ex in examples], minlength=10)
    assert stats["label_counts"] == {str(c): int(n) for c, n in enumerate(labels)}
    assert stats["image_height"] == {"min": 8.0, "max": 8.0, "mean": 8.0}
    assert json.loads((tmp_path / "transform" / "statistics.json").read_text()) == stats
    output = tft.TFTransformOutput(str(tmp_path / "transform"))
    assert set(output.transformed_feature_spec()) >= {"label", "pixel_mean", "pixel_std"}
    # Serving has image bytes and no label: the statistics must come from the bytes alone.
    served = output.transform_features_layer()({"image/encoded": tf.constant([b"", b""])})
    np.testing.assert_allclose(served["pixel_mean"].numpy(), [stats["pixel_mean"]] * 2)


def test_rgb_images_of_different_sizes(tmp_path):
    rng = np.random.default_rng(0)
    sizes = {"a": [(10, 12), (20, 9)], "b": [(7, 7), (16, 30), (11, 11)]}
    for name, shapes in sizes.items():
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i, (h, w) in enumerate(shapes):
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{i}.png")
    convert_dataset(
        tmp_path / "data",
        ConvertOptions(
            dataset_name="image_folder", source=str(tmp_path / "photos"), num_shards="train=1"
        ),
    )
    assert (
        main(
            [
                "analyze",
                "--dataset_dir",
                str(tmp_path / "data"),
                "--output_dir",
                str(tmp_path / "transform"),
            ]
        )
        == 0
    )
    stats = json.loads((tmp_path / "transform" / "statistics.json").read_text())
    examples, mean, std = _numpy_statistics(tmp_path / "data", "train", 3)
    np.testing.assert_allclose(stats["pixel_mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(stats["pixel_std"], std, rtol=1e-5)
    heights = [ex["image/height"] for ex in examples]
    assert stats["image_height"]["min"] == min(heights)
    assert stats["image_height"]["max"] == max(heights)
    assert stats["image_height"]["mean"] == pytest.approx(np.mean(heights))
