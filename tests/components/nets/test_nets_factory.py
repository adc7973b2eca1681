"""Every registered net is proven against a real reference: TF-Slim's own graph
(``test_tf_slim_parity``), a manifest of TF-Slim's published model code
(``test_tf_slim_manifests``), or, for the nets TF-Slim's table does not hold, the published
number of parameters; each of these builds the net and runs it."""

import gc
import json

import keras
import numpy as np
import pytest

from kubeslim.components.nets import nets_factory
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError

from ...tf_slim_graphs import SHIPPED
from .test_tf_slim_manifests import MANIFESTS

# name: (classes, trainable parameters, decimals in millions or None for exact, source).
PUBLISHED = {
    "lenet": (10, 2_432 + 51_264 + 3_212_288 + 10_250, None, "TF-Slim layer shapes"),
    "cifarnet": (10, 4_864 + 102_464 + 1_573_248 + 73_920 + 1_930, None, "TF-Slim layer shapes"),
    "resnet_cifar_20": (10, 0.27e6, 2, "He et al. 2015, table 6"),
    "resnet_cifar_32": (10, 0.46e6, 2, "He et al. 2015, table 6"),
    "resnet_cifar_44": (10, 0.66e6, 2, "He et al. 2015, table 6"),
    "resnet_cifar_56": (10, 0.85e6, 2, "He et al. 2015, table 6"),
    "resnet_cifar_110": (10, 1.7e6, 1, "He et al. 2015, table 6"),
}
MANIFEST_NETS = {json.loads(p.read_text())["kubeslim_name"] for p in MANIFESTS.glob("*.json")}


def test_every_registered_net_is_checked_against_a_reference():
    assert set(nets_factory.NETS) == set(PUBLISHED) | set(SHIPPED) | MANIFEST_NETS


def test_every_net_names_a_known_preprocessing():
    for name in nets_factory.NETS:
        preprocessing = nets_factory.get_network_fn(name).preprocessing_name
        assert preprocessing in preprocessing_factory.PREPROCESSING, name


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_net_gives_logits_and_has_the_published_parameter_count(name):
    classes, published, decimals, source = PUBLISHED[name]
    size = nets_factory.get_network_fn(name).default_image_size
    model = nets_factory.build_network(name, classes)
    logits = model(np.zeros((2, size, size, 3), np.float32), training=False)
    assert tuple(logits.shape) == (2, classes)
    count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    if decimals is None:
        assert count == published, source
    else:
        assert round(count / 1e6, decimals) == round(published / 1e6, decimals), source
    del model, logits
    keras.backend.clear_session()
    gc.collect()


def test_layer_scopes_follow_tf_slim():
    model = nets_factory.build_network("inception_v4", 5, image_size=75)
    scopes = {nets_factory.layer_scope(model, layer) for layer in model.layers}
    assert "InceptionV4/Mixed_5b/Branch_0/Conv2d_0a_1x1" in scopes
    assert "InceptionV4/Mixed_5b/Branch_0/Conv2d_0a_1x1/BatchNorm" in scopes
    assert "InceptionV4/Logits/Logits" in scopes
    assert nets_factory.in_scopes("InceptionV4/Logits/Logits", ["InceptionV4/Logits"])
    assert not nets_factory.in_scopes("InceptionV4/Logits2", ["InceptionV4/Logits"])


def test_weight_decay_regularizes_every_kernel():
    plain = nets_factory.build_network("lenet", 10, channels=1)
    decayed = nets_factory.build_network("lenet", 10, channels=1, weight_decay=0.01)
    assert not plain.losses
    kernels = [w for w in decayed.trainable_weights if w.path.endswith("kernel")]
    expected = sum(0.005 * float(np.sum(np.square(w.numpy()))) for w in kernels)
    assert len(decayed.losses) == 4
    assert float(sum(decayed.losses)) == pytest.approx(expected, rel=1e-5)


def test_unknown_net_is_refused_with_the_known_names():
    with pytest.raises(
        KubeslimError,
        match=r"unknown model 'lenet5'; did you mean 'lenet'\? \(--help lists the 31 known\)",
    ):
        nets_factory.get_network_fn("lenet5")
