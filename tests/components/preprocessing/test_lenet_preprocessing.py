import numpy as np
import pytest
import tensorflow as tf

from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError


def test_lenet_pads_to_size_and_scales_to_unit_range():
    preprocess = preprocessing_factory.get_preprocessing("lenet")
    image = tf.constant(np.full((8, 8, 1), 255, np.uint8))
    out = preprocess(image, 28, 28, False).numpy()
    assert out.shape == (28, 28, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[10:18, 10:18], 127 / 128)
    assert (out[:10] == -1).all() and (out[:, 18:] == -1).all()
    np.testing.assert_array_equal(preprocess(image, 28, 28, True).numpy(), out)


def test_unknown_preprocessing_is_refused():
    with pytest.raises(KubeslimError, match="unknown preprocessing 'no_such'"):
        preprocessing_factory.get_preprocessing("no_such")
