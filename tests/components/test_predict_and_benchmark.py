"""`kubeslim predict` on image files and `kubeslim benchmark` on random data."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kubeslim import dataset_spec
from kubeslim.components import input_pipeline
from kubeslim.components.benchmark import benchmark_network
from kubeslim.components.options import BenchmarkOptions
from kubeslim.components.predict import predict
from kubeslim.errors import KubeslimError


def test_predict_gives_the_top_five_of_each_file(tmp_path, digits_dir, export_dir):
    files = dataset_spec.split_files(digits_dir, dataset_spec.read_descriptor(digits_dir), "test")
    paths, labels = [], []
    for i, (encoded, label) in enumerate(
        tf.data.TFRecordDataset(files).map(input_pipeline.parse_example).take(20)
    ):
        path = tmp_path / f"digit{i}.png"
        Image.open(io.BytesIO(encoded.numpy())).save(path)
        paths.append(path)
        labels.append(str(int(label)))
    results = predict(export_dir, paths)
    assert [r["image"] for r in results] == [str(p) for p in paths]
    for r in results:
        scores = [s for _, s in r["top"]]
        assert len(r["top"]) == 5 and scores == sorted(scores, reverse=True)
    top1 = [r["top"][0][0] for r in results]
    assert np.mean(np.array(top1) == np.array(labels)) >= 0.9


def test_predict_names_a_file_that_is_not_an_image(tmp_path, export_dir):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    with pytest.raises(KubeslimError, match="notes.txt: not a PNG or JPEG"):
        predict(export_dir, [bad])
    with pytest.raises(KubeslimError, match="missing.png"):
        predict(export_dir, [tmp_path / "missing.png"])


def test_benchmark_times_forward_and_forward_backward():
    r = benchmark_network(
        BenchmarkOptions(model_name="cifarnet", batch_size=4, num_batches=3), warmup=1
    )
    assert r["parameters"] == 1_947_496 and r["image_size"] == 32
    for name in ("forward", "forward_backward"):
        assert r[name]["seconds_per_batch"] > 0
        assert r[name]["images_per_second"] == pytest.approx(4 / r[name]["seconds_per_batch"])
