import numpy as np
import pytest
from sklearn.datasets import load_digits

from kubeslim.beam.datasets import dataset_factory
from kubeslim.beam.datasets.digits import Digits, stratified_split
from kubeslim.errors import KubeslimError


def test_split_is_stratified_disjoint_and_deterministic():
    labels = load_digits().target
    train, test = stratified_split(labels, 0.2, seed=0)
    assert len(train) + len(test) == len(labels)
    assert not set(train) & set(test)
    for label in range(10):
        share = np.mean(labels[test] == label) / np.mean(labels == label)
        assert share == pytest.approx(1.0, abs=0.02)
    again_train, again_test = stratified_split(labels, 0.2, seed=0)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(test, again_test)
    assert not np.array_equal(test, stratified_split(labels, 0.2, seed=1)[1])


def test_read_scales_pixels_invertibly():
    dataset = Digits()
    source = load_digits()
    images = list(dataset.read("train", [0, 5]))
    for image, i in zip(images, [0, 5], strict=True):
        assert image.pixels.dtype == np.uint8 and image.pixels.shape == (8, 8, 1)
        assert image.label == source.target[i]
        recovered = np.round(image.pixels[..., 0].astype(np.float64) * 16 / 255)
        np.testing.assert_array_equal(recovered, source.images[i])


def test_factory_knows_digits_and_refuses_unknown_names():
    assert isinstance(dataset_factory.get_dataset("digits"), Digits)
    with pytest.raises(KubeslimError, match="unknown data set 'mnist2'.*digits"):
        dataset_factory.get_dataset("mnist2")
