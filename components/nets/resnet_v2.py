"""ResNet v2 (pre-activation, arXiv:1603.05027) as TF-Slim's ``nets/resnet_v2.py`` defines
it: batch norm and ReLU before each convolution, a bare convolution stem, and a final
``postnorm``."""

import keras
from keras import layers

from kubeslim.components.nets.resnet_utils import (
    HE_INIT,
    RESNET_BATCH_NORM,
    resnet_builder,
    subsample,
)
from kubeslim.components.nets.slim_ops import conv2d, conv2d_same, scope


def _batch_norm_relu(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    x = RESNET_BATCH_NORM(x, name)
    return layers.Activation("relu", name=scope(name, "relu"))(x)


def bottleneck(
    x: keras.KerasTensor, depth: int, depth_bottleneck: int, stride: int, name: str
) -> keras.KerasTensor:
    """``bottleneck_v2``: shortcut + conv3(conv2(conv1(relu(bn(x)))))."""
    name = scope(name, "bottleneck_v2")
    kw = {"batch_norm": RESNET_BATCH_NORM, "initializer": HE_INIT}
    preact = _batch_norm_relu(x, scope(name, "preact"))
    if x.shape[-1] == depth:
        shortcut = subsample(x, stride, scope(name, "shortcut"))
    else:
        shortcut = conv2d(
            preact,
            depth,
            1,
            scope(name, "shortcut"),
            stride=stride,
            activation=None,
            initializer=HE_INIT,
        )
    residual = conv2d(preact, depth_bottleneck, 1, scope(name, "conv1"), **kw)
    residual = conv2d_same(residual, depth_bottleneck, 3, stride, scope(name, "conv2"), **kw)
    residual = conv2d(
        residual, depth, 1, scope(name, "conv3"), activation=None, initializer=HE_INIT
    )
    return layers.Add(name=scope(name, "add"))([shortcut, residual])


def _stem(images: keras.KerasTensor) -> keras.KerasTensor:
    return conv2d_same(images, 64, 7, 2, "conv1", activation=None, initializer=HE_INIT)


def _head(net: keras.KerasTensor) -> keras.KerasTensor:
    return _batch_norm_relu(net, "postnorm")


resnet_v2_50 = resnet_builder(bottleneck, 50, "v2", _stem, _head)
resnet_v2_101 = resnet_builder(bottleneck, 101, "v2", _stem, _head)
resnet_v2_152 = resnet_builder(bottleneck, 152, "v2", _stem, _head)
resnet_v2_200 = resnet_builder(bottleneck, 200, "v2", _stem, _head)
