"""Every registered preprocessing: documented shape and range, deterministic in evaluation,
varying in training where TF-Slim's version distorts."""

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.components.preprocessing import preprocessing_factory

# name -> (output size, value range or None for per-image standardization, distorts in training)
EXPECTED = {
    "cifarnet": (32, None, True),
    "inception": (64, (-1.0, 1.0), True),
    "lenet": (28, (-1.0, 1.0), False),
    "vgg": (48, (-124.0, 152.0), True),
}


def _image(seed: int = 0) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).integers(0, 256, (60, 80, 3), dtype=np.uint8))


def test_every_registered_preprocessing_is_specified_here():
    assert set(EXPECTED) == set(preprocessing_factory.PREPROCESSING)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_evaluation_shape_range_and_determinism(name):
    size, value_range, _ = EXPECTED[name]
    preprocess = preprocessing_factory.get_preprocessing(name)
    out = preprocess(_image(), size, size, False).numpy()
    assert out.shape == (size, size, 3) and out.dtype == np.float32
    if value_range is None:
        assert abs(out.mean()) < 1e-4 and out.std() == pytest.approx(1.0, abs=1e-3)
    else:
        assert value_range[0] <= out.min() and out.max() <= value_range[1]
    np.testing.assert_array_equal(preprocess(_image(), size, size, False).numpy(), out)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_training_shape_and_variation(name):
    size, value_range, distorts = EXPECTED[name]
    preprocess = preprocessing_factory.get_preprocessing(name)
    tf.random.set_seed(0)
    outs = [preprocess(_image(), size, size, True).numpy() for _ in range(4)]
    for out in outs:
        assert out.shape == (size, size, 3)
        if value_range is not None:
            assert value_range[0] <= out.min() and out.max() <= value_range[1]
    varied = any(not np.array_equal(outs[0], other) for other in outs[1:])
    assert varied == distorts


def test_training_works_inside_tf_data_and_on_grey_images():
    preprocess = preprocessing_factory.get_preprocessing("inception")
    grey = tf.data.Dataset.from_tensors(tf.zeros((30, 40, 1), tf.uint8)).repeat(3)
    batch = next(iter(grey.map(lambda x: preprocess(x, 16, 16, True)).batch(3)))
    assert batch.shape == (3, 16, 16, 1)
