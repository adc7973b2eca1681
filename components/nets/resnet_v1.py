"""ResNet v1 (arXiv:1512.03385) as TF-Slim's ``nets/resnet_v1.py`` defines it: bottleneck
units with the stride on the 3x3 convolution and batch norm after every convolution."""

import keras
from keras import layers

from kubeslim.components.nets.resnet_utils import (
    HE_INIT,
    RESNET_BATCH_NORM,
    resnet_builder,
    subsample,
)
from kubeslim.components.nets.slim_ops import conv2d, conv2d_same, scope


def bottleneck(
    x: keras.KerasTensor, depth: int, depth_bottleneck: int, stride: int, name: str
) -> keras.KerasTensor:
    """``bottleneck_v1``: relu(shortcut + conv3(conv2(conv1(x))))."""
    name = scope(name, "bottleneck_v1")
    kw = {"batch_norm": RESNET_BATCH_NORM, "initializer": HE_INIT}
    if x.shape[-1] == depth:
        shortcut = subsample(x, stride, scope(name, "shortcut"))
    else:
        shortcut = conv2d(
            x, depth, 1, scope(name, "shortcut"), stride=stride, activation=None, **kw
        )
    residual = conv2d(x, depth_bottleneck, 1, scope(name, "conv1"), **kw)
    residual = conv2d_same(residual, depth_bottleneck, 3, stride, scope(name, "conv2"), **kw)
    residual = conv2d(residual, depth, 1, scope(name, "conv3"), activation=None, **kw)
    out = layers.Add(name=scope(name, "add"))([shortcut, residual])
    return layers.Activation("relu", name=scope(name, "relu"))(out)


def _stem(images: keras.KerasTensor) -> keras.KerasTensor:
    return conv2d_same(images, 64, 7, 2, "conv1", batch_norm=RESNET_BATCH_NORM, initializer=HE_INIT)


def _head(net: keras.KerasTensor) -> keras.KerasTensor:
    return net


resnet_v1_50 = resnet_builder(bottleneck, 50, "v1", _stem, _head)
resnet_v1_101 = resnet_builder(bottleneck, 101, "v1", _stem, _head)
resnet_v1_152 = resnet_builder(bottleneck, 152, "v1", _stem, _head)
resnet_v1_200 = resnet_builder(bottleneck, 200, "v1", _stem, _head)
