"""MobileNet V1 (arXiv:1704.04861) as TF-Slim's ``nets/mobilenet_v1.py`` defines it: a 3x3
convolution, then 13 depthwise separable layers (``Conv2d_<i>_depthwise`` and
``Conv2d_<i>_pointwise``), each with batch norm and ReLU6, at any depth multiplier."""

from functools import partial

import keras

from kubeslim.components.nets.slim_ops import BatchNorm, conv2d, depthwise_conv2d, logits_head

MOBILENET_V1_BATCH_NORM = BatchNorm(decay=0.9997, epsilon=0.001, scale=True)
# (stride, depth) of the 13 depthwise separable layers.
_SEPARABLE = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)]
_SEPARABLE += [(1, 512)] * 5 + [(2, 1024), (1, 1024)]


def mobilenet_v1(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.999,
    *,
    depth_multiplier: float = 1.0,
    min_depth: int = 8,
) -> keras.Model:
    """Builds MobileNet V1: float images [batch, size, size, channels] -> logits, or pooled
    features when ``num_classes`` is 0. Every layer's depth is ``max(int(depth *
    depth_multiplier), min_depth)``, as in TF-Slim."""
    bn = MOBILENET_V1_BATCH_NORM

    def depth(d: int) -> int:
        return max(int(d * depth_multiplier), min_depth)

    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, depth(32), 3, "Conv2d_0", stride=2, batch_norm=bn, activation="relu6")
    for i, (stride, d) in enumerate(_SEPARABLE, start=1):
        net = depthwise_conv2d(net, f"Conv2d_{i}_depthwise", stride=stride, batch_norm=bn)
        net = conv2d(net, depth(d), 1, f"Conv2d_{i}_pointwise", batch_norm=bn, activation="relu6")
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Conv2d_1c_1x1")
    return keras.Model(images, logits, name="MobilenetV1")


mobilenet_v1_075 = partial(mobilenet_v1, depth_multiplier=0.75)
mobilenet_v1_050 = partial(mobilenet_v1, depth_multiplier=0.50)
mobilenet_v1_025 = partial(mobilenet_v1, depth_multiplier=0.25)
for _net in (mobilenet_v1, mobilenet_v1_075, mobilenet_v1_050, mobilenet_v1_025):
    _net.default_image_size = 224
    _net.preprocessing_name = "inception"
