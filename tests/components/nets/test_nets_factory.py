"""Every registered net builds for its default size, gives logits of shape
(batch, num_classes), and has the published number of parameters."""

import gc

import keras
import numpy as np
import pytest

from kubeslim.components.nets import nets_factory
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError

# name: (classes, count, which count, decimals in millions or None for exact, source).
# "trainable" is what TF-Slim and torchvision report; "all" adds batch norm's moving
# statistics, as Keras's count_params() and the Keras Applications table do.
TF_SLIM = "TF-Slim's graph, built with tf_slim 1.1.0's nets, trainable variables"
KERAS = "Keras Applications (count_params of the same architecture)"
TORCHVISION = "torchvision's model table (ResNet v1, no conv biases, BN with scale)"
PUBLISHED = {
    "lenet": (10, 2_432 + 51_264 + 3_212_288 + 10_250, "trainable", None, "TF-Slim layer shapes"),
    "cifarnet": (
        10,
        4_864 + 102_464 + 1_573_248 + 73_920 + 1_930,
        "trainable",
        None,
        "TF-Slim layer shapes",
    ),
    "alexnet_v2": (1000, 50_303_912, "trainable", None, TF_SLIM),
    "overfeat": (1000, 145_704_424, "trainable", None, TF_SLIM),
    "vgg_a": (1000, 132_863_336, "trainable", None, TF_SLIM),
    "vgg_16": (1000, 138_357_544, "trainable", None, TF_SLIM),
    "vgg_19": (1000, 143_667_240, "all", None, KERAS),
    "inception_v1": (1000, 6_617_624, "trainable", None, TF_SLIM),
    "inception_v2": (1000, 11_178_336, "trainable", None, TF_SLIM),
    "inception_v3": (1000, 23_851_784, "all", None, KERAS),
    "inception_v4": (1000, 42.7e6, "all", 1, "Szegedy et al. 2016 / timm, 42.7M"),
    "inception_resnet_v2": (1000, 55_873_736, "all", None, KERAS),
    "resnet_v1_50": (1000, 25_557_032, "trainable", None, TORCHVISION),
    "resnet_v1_101": (1000, 44_549_160, "trainable", None, TORCHVISION),
    "resnet_v1_152": (1000, 60_192_808, "trainable", None, TORCHVISION),
    "resnet_v1_200": (1000, 64.7e6, "trainable", 1, "fb.resnet.torch ResNet-200, 64.7M"),
    "resnet_v2_50": (1000, 25_613_800, "all", None, KERAS),
    "resnet_v2_101": (1000, 44_675_560, "all", None, KERAS),
    "resnet_v2_152": (1000, 60_380_648, "all", None, KERAS),
    "resnet_v2_200": (1000, 64.7e6, "trainable", 1, "He et al. 2016 (pre-activation), 64.7M"),
    "mobilenet_v1": (1000, 4_253_864, "all", None, KERAS),
    "mobilenet_v1_075": (1000, 2.6e6, "trainable", 1, "Howard et al. 2017, table 6"),
    "mobilenet_v1_050": (1000, 1.3e6, "trainable", 1, "Howard et al. 2017, table 6"),
    "mobilenet_v1_025": (1000, 0.5e6, "trainable", 1, "Howard et al. 2017, table 6"),
    "mobilenet_v2": (1000, 3_538_984, "all", None, KERAS),
    "resnet_cifar_20": (10, 0.27e6, "trainable", 2, "He et al. 2015, table 6"),
    "resnet_cifar_32": (10, 0.46e6, "trainable", 2, "He et al. 2015, table 6"),
    "resnet_cifar_44": (10, 0.66e6, "trainable", 2, "He et al. 2015, table 6"),
    "resnet_cifar_56": (10, 0.85e6, "trainable", 2, "He et al. 2015, table 6"),
    "resnet_cifar_110": (10, 1.7e6, "trainable", 1, "He et al. 2015, table 6"),
}


def test_every_registered_net_has_a_published_count():
    assert set(PUBLISHED) == set(nets_factory.NETS)


@pytest.mark.parametrize("name", sorted(nets_factory.NETS))
def test_net_gives_logits_and_has_the_published_parameter_count(name):
    classes, published, kind, decimals, source = PUBLISHED[name]
    net_fn = nets_factory.get_network_fn(name)
    size = net_fn.default_image_size
    model = nets_factory.build_network(name, classes)
    logits = model(np.zeros((2, size, size, 3), np.float32), training=False)
    assert tuple(logits.shape) == (2, classes)
    assert net_fn.preprocessing_name in preprocessing_factory.PREPROCESSING
    if kind == "trainable":
        count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    else:
        count = model.count_params()
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
        match=r"unknown model 'lenet5'; did you mean 'lenet'\? \(known: alexnet_v2, cifarnet",
    ):
        nets_factory.get_network_fn("lenet5")
