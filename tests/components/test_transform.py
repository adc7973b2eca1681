"""One transform in training and serving: the TFT statistics feed the preprocessing, and the
SavedModel embeds the transform, so serving raw bytes equals the training evaluation path."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from kubeslim import dataset_spec
from kubeslim.beam.analyze import analyze_dataset
from kubeslim.components import input_pipeline
from kubeslim.components.export import export_saved_model
from kubeslim.components.freeze import freeze_saved_model, load_frozen_graph
from kubeslim.components.model_dir import ModelConfig, load_model, load_transform
from kubeslim.components.options import TrainOptions
from kubeslim.components.train import train
from kubeslim.model_spec import servable_dir

from ..serving import assert_served_as_loaded


@pytest.fixture(scope="module")
def transformed(digits_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("transformed")
    analyze_dataset(digits_dir, root / "transform")
    train(
        digits_dir,
        root / "model",
        TrainOptions(preprocessing_name="vgg", image_size=32, num_epochs=1, batch_size=128),
        transform_dir=root / "transform",
    )
    export_saved_model(root / "model", root / "export")
    return root


def _test_bytes(digits_dir, n=64):
    files = dataset_spec.split_files(digits_dir, dataset_spec.read_descriptor(digits_dir), "test")
    encoded, _ = next(
        iter(tf.data.TFRecordDataset(files).map(input_pipeline.parse_example).batch(n))
    )
    return encoded


def test_serving_raw_bytes_equals_the_training_evaluation_path(digits_dir, transformed):
    model, config, _ = load_model(transformed / "model")
    assert config.uses_transform and config.preprocessing_name == "vgg"
    ds = config.make_dataset(
        digits_dir,
        "test",
        batch_size=64,
        is_training=False,
        transform=load_transform(transformed / "model", config),
    )
    images, _ = next(iter(ds))
    expected = model(images, training=False).numpy()
    # A copy without transform/ beside it: the SavedModel must carry the transform itself.
    shutil.copytree(transformed / "export", transformed / "export_only")
    shutil.rmtree(transformed / "export_only" / "1" / "transform")
    serving = tf.saved_model.load(str(servable_dir(transformed / "export_only"))).signatures[
        "serving_default"
    ]
    served = serving(image_bytes=_test_bytes(digits_dir))["logits"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5, rtol=0)
    raw = {"image_bytes": np.asarray(_test_bytes(digits_dir, 8).numpy(), dtype=object)}
    assert_served_as_loaded(transformed / "export", "serving_default", raw)  # as TF Serving


def test_the_statistics_replace_imagenet_means(digits_dir, transformed):
    _, config, _ = load_model(transformed / "model")
    transform = load_transform(transformed / "model", config)
    encoded = _test_bytes(digits_dir, 1)[0]
    with_stats = config.preprocess_encoded(encoded, False, transform).numpy()
    imagenet = config.preprocess_encoded(encoded, False, None).numpy()
    mean = json.loads((transformed / "transform" / "statistics.json").read_text())["pixel_mean"]
    np.testing.assert_allclose(with_stats - imagenet, 123.68 - mean[0], rtol=1e-5)


def test_the_frozen_graph_matches_a_model_with_a_transform(digits_dir, transformed):
    freeze_saved_model(transformed / "export", transformed / "frozen")
    servable = servable_dir(transformed / "export")
    config = ModelConfig.load(servable)
    transform = load_transform(servable, config)
    images = tf.map_fn(
        lambda e: config.preprocess_encoded(e, False, transform),
        _test_bytes(digits_dir),
        fn_output_signature=tf.float32,
    ).numpy()
    saved = tf.saved_model.load(str(servable)).signatures["classify_images"]
    expected = saved(images=tf.constant(images))["logits"].numpy()
    frozen = load_frozen_graph(transformed / "frozen")(images)["logits"]
    # This one-epoch model on vgg-scale inputs has logits near 140; freezing changes kernel
    # fusion, so the bound is float32's relative noise, not an absolute one.
    assert np.abs(frozen - expected).max() <= 1e-5 * np.abs(expected).max()
