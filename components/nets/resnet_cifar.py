"""The CIFAR-10 ResNets of TensorFlow's CIFAR-10 Estimator example (He et al. 2015, section
4.2): a 3x3 stem, three stages of ``n`` two-convolution residual units at 16, 32 and 64
channels, and a dense head, 6n+2 layers in all. Shortcuts that change width average-pool and
zero-pad the channels (option A), so they add no parameters."""

from functools import partial

import keras
import tensorflow as tf
from keras import layers

from kubeslim.components.nets.slim_ops import BatchNorm, conv2d, scope

_BATCH_NORM = BatchNorm(decay=0.997, epsilon=1e-5, scale=True)
_WIDTHS = (16, 32, 64)
_STRIDES = (1, 2, 2)


class PadChannels(layers.Layer):
    """Zero-pads the channel axis by ``pad`` on each side."""

    def __init__(self, pad: int, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.pad(inputs, [[0, 0], [0, 0], [0, 0], [self.pad, self.pad]])

    def get_config(self) -> dict:
        return {**super().get_config(), "pad": self.pad}


def _residual(x: keras.KerasTensor, filters: int, stride: int, name: str) -> keras.KerasTensor:
    kw = {"batch_norm": _BATCH_NORM, "initializer": "he_normal"}
    residual = conv2d(x, filters, 3, scope(name, "conv1"), stride=stride, **kw)
    residual = conv2d(residual, filters, 3, scope(name, "conv2"), activation=None, **kw)
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.AveragePooling2D(stride, name=scope(name, "shortcut"))(x)
        shortcut = PadChannels((filters - x.shape[-1]) // 2, name=scope(name, "pad"))(shortcut)
    out = layers.Add(name=scope(name, "add"))([shortcut, residual])
    return layers.Activation("relu", name=scope(name, "relu"))(out)


def resnet_cifar(
    num_classes: int,
    image_size: int = 32,
    channels: int = 3,
    dropout_keep_prob: float = 1.0,
    *,
    depth: int,
) -> keras.Model:
    """Builds the ``depth``-layer CIFAR ResNet (``depth`` = 6n+2)."""
    if (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
    units = (depth - 2) // 6
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 16, 3, "conv1", batch_norm=_BATCH_NORM, initializer="he_normal")
    for stage, (width, stride) in enumerate(zip(_WIDTHS, _STRIDES, strict=True), start=1):
        for unit in range(1, units + 1):
            net = _residual(
                net, width, stride if unit == 1 else 1, scope(f"stage{stage}", f"unit_{unit}")
            )
    net = layers.GlobalAveragePooling2D(name="pool")(net)
    net = layers.Dropout(1.0 - dropout_keep_prob, name="dropout")(net)
    logits = layers.Dense(num_classes, name="logits")(net)
    return keras.Model(images, logits, name=f"resnet_cifar_{depth}")


def _of_depth(depth: int) -> partial:
    net = partial(resnet_cifar, depth=depth)
    net.default_image_size = 32
    net.preprocessing_name = "cifarnet"
    return net


resnet_cifar_20 = _of_depth(20)
resnet_cifar_32 = _of_depth(32)
resnet_cifar_44 = _of_depth(44)
resnet_cifar_56 = _of_depth(56)
resnet_cifar_110 = _of_depth(110)
