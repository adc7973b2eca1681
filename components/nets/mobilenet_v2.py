"""MobileNet V2 (arXiv:1801.04381) as TF-Slim's ``nets/mobilenet/mobilenet_v2.py`` defines
it: a 3x3 convolution (``Conv``), 17 inverted residual blocks (``expanded_conv``,
``expanded_conv_1``... each an ``expand`` 1x1, a ``depthwise`` 3x3 and a linear ``project``
1x1), and a 1x1 convolution (``Conv_1``), at any depth multiplier. Its end points are also
TF-Slim's ``layer_1`` ... ``layer_19``, one per layer, and a block's
``layer_N/expansion_output``, ``layer_N/depthwise_output`` and ``layer_N/output``."""

from functools import partial

import keras
from keras import layers

from kubeslim.components.nets.slim_ops import (
    BatchNorm,
    conv2d,
    depthwise_conv2d,
    end_point,
    logits_head,
    scope,
)

MOBILENET_V2_BATCH_NORM = BatchNorm(decay=0.997, epsilon=0.001, scale=True)
# (expansion factor, stride, depth) of the 17 blocks.
_BLOCKS = [(1, 1, 16), (6, 2, 24), (6, 1, 24), (6, 2, 32), (6, 1, 32), (6, 1, 32)]
_BLOCKS += [(6, 2, 64)] + [(6, 1, 64)] * 3 + [(6, 1, 96)] * 3
_BLOCKS += [(6, 2, 160)] + [(6, 1, 160)] * 2 + [(6, 1, 320)]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-Slim's ``_make_divisible``: ``value`` rounded to a multiple of ``divisor``, never
    below ``min_value`` nor more than 10% under ``value``."""
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * value else rounded)


def _expanded_conv(
    x: keras.KerasTensor, expansion: int, stride: int, depth: int, name: str, layer: str
) -> keras.KerasTensor:
    bn = MOBILENET_V2_BATCH_NORM
    inputs = x
    inner = make_divisible(x.shape[-1] * expansion, 8 if expansion > 1 else 1)
    if inner > x.shape[-1]:
        x = conv2d(x, inner, 1, scope(name, "expand"), batch_norm=bn, activation="relu6")
        x = end_point(x, layer, "expansion_output")
    x = depthwise_conv2d(x, scope(name, "depthwise"), stride=stride, batch_norm=bn)
    x = end_point(x, layer, "depthwise_output")
    x = conv2d(x, depth, 1, scope(name, "project"), batch_norm=bn, activation=None)
    if stride == 1 and inputs.shape[-1] == depth:
        x = layers.Add(name=scope(name, "add"))([inputs, x])
    return end_point(end_point(x, layer, "output"), layer)


def mobilenet_v2(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
    *,
    depth_multiplier: float = 1.0,
) -> keras.Model:
    """Builds MobileNet V2: float images [batch, size, size, channels] -> logits, or pooled
    features when ``num_classes`` is 0. Every layer's depth is multiplied, then rounded by
    ``make_divisible`` (at least 8), as in TF-Slim."""
    bn = MOBILENET_V2_BATCH_NORM

    def depth(d: int) -> int:
        return make_divisible(d * depth_multiplier)

    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, depth(32), 3, "Conv", stride=2, batch_norm=bn, activation="relu6")
    net = end_point(net, "layer_1")
    for i, (expansion, stride, d) in enumerate(_BLOCKS):
        name = f"expanded_conv_{i}" if i else "expanded_conv"
        net = _expanded_conv(net, expansion, stride, depth(d), name, f"layer_{i + 2}")
    net = conv2d(net, depth(1280), 1, "Conv_1", batch_norm=bn, activation="relu6")
    net = end_point(net, f"layer_{len(_BLOCKS) + 2}")
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Conv2d_1c_1x1")
    return keras.Model(images, logits, name="MobilenetV2")


mobilenet_v2_140 = partial(mobilenet_v2, depth_multiplier=1.4)
for _net in (mobilenet_v2, mobilenet_v2_140):
    _net.default_image_size = 224
    _net.preprocessing_name = "inception"
