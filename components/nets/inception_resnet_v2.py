"""Inception-ResNet-v2 (arXiv:1602.07261) as TF-Slim's ``nets/inception_resnet_v2.py``
defines it: a stem, ``Mixed_5b``, 10 ``block35`` (scale 0.17), ``Mixed_6a``, 20 ``block17``
(scale 0.10), ``Mixed_7a``, 9 ``block8`` (scale 0.20) and one without activation, then
``Conv2d_7b_1x1``; the auxiliary head reads ``PreAuxLogits`` (after the block17s)."""

import keras
from keras import layers

from kubeslim.components.nets.inception_utils import (
    INCEPTION_BATCH_NORM,
    Conv,
    Pool,
    block,
)
from kubeslim.components.nets.slim_ops import (
    aux_logits_head,
    conv2d,
    join_aux_logits,
    logits_head,
    max_pool,
    scope,
)

_BLOCK35 = [
    [Conv(32, 1, "Conv2d_1x1")],
    [Conv(32, 1, "Conv2d_0a_1x1"), Conv(32, 3, "Conv2d_0b_3x3")],
    [Conv(32, 1, "Conv2d_0a_1x1"), Conv(48, 3, "Conv2d_0b_3x3"), Conv(64, 3, "Conv2d_0c_3x3")],
]
_BLOCK17 = [
    [Conv(192, 1, "Conv2d_1x1")],
    [
        Conv(128, 1, "Conv2d_0a_1x1"),
        Conv(160, (1, 7), "Conv2d_0b_1x7"),
        Conv(192, (7, 1), "Conv2d_0c_7x1"),
    ],
]
_BLOCK8 = [
    [Conv(192, 1, "Conv2d_1x1")],
    [
        Conv(192, 1, "Conv2d_0a_1x1"),
        Conv(224, (1, 3), "Conv2d_0b_1x3"),
        Conv(256, (3, 1), "Conv2d_0c_3x1"),
    ],
]
_MIXED_5B = [
    [Conv(96, 1, "Conv2d_1x1")],
    [Conv(48, 1, "Conv2d_0a_1x1"), Conv(64, 5, "Conv2d_0b_5x5")],
    [Conv(64, 1, "Conv2d_0a_1x1"), Conv(96, 3, "Conv2d_0b_3x3"), Conv(96, 3, "Conv2d_0c_3x3")],
    [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(64, 1, "Conv2d_0b_1x1")],
]
_MIXED_6A = [
    [Conv(384, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [
        Conv(256, 1, "Conv2d_0a_1x1"),
        Conv(256, 3, "Conv2d_0b_3x3"),
        Conv(384, 3, "Conv2d_1a_3x3", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]
_MIXED_7A = [
    [Conv(256, 1, "Conv2d_0a_1x1"), Conv(384, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [Conv(256, 1, "Conv2d_0a_1x1"), Conv(288, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [
        Conv(256, 1, "Conv2d_0a_1x1"),
        Conv(288, 3, "Conv2d_0b_3x3"),
        Conv(320, 3, "Conv2d_1a_3x3", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]


def _residual(
    x: keras.KerasTensor, branches: list, scale: float, name: str, activation: bool = True
) -> keras.KerasTensor:
    """``block35``/``block17``/``block8``: the branches concatenated, a 1x1 convolution back to
    the input's depth (with a bias, no batch norm), scaled and added to the input, then ReLU."""
    mixed = block(x, name, branches)
    up = conv2d(mixed, x.shape[-1], 1, scope(name, "Conv2d_1x1"), activation=None)
    up = layers.Rescaling(scale, name=scope(name, "scale"))(up)
    x = layers.Add(name=scope(name, "add"))([x, up])
    return layers.Activation("relu", name=scope(name, "relu"))(x) if activation else x


def inception_resnet_v2(
    num_classes: int,
    image_size: int = 299,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
) -> keras.Model:
    """Builds Inception-ResNet-v2: float images [batch, size, size, channels] -> logits (with
    the auxiliary head alongside), or pooled 1536-d features when ``num_classes`` is 0."""
    bn = INCEPTION_BATCH_NORM
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 32, 3, "Conv2d_1a_3x3", stride=2, padding="valid", batch_norm=bn)
    net = conv2d(net, 32, 3, "Conv2d_2a_3x3", padding="valid", batch_norm=bn)
    net = conv2d(net, 64, 3, "Conv2d_2b_3x3", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_3a_3x3")
    net = conv2d(net, 80, 1, "Conv2d_3b_1x1", padding="valid", batch_norm=bn)
    net = conv2d(net, 192, 3, "Conv2d_4a_3x3", padding="valid", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_5a_3x3")
    net = block(net, "Mixed_5b", _MIXED_5B)
    for i in range(1, 11):
        net = _residual(net, _BLOCK35, 0.17, scope("Repeat", f"block35_{i}"))
    net = block(net, "Mixed_6a", _MIXED_6A)
    for i in range(1, 21):
        net = _residual(net, _BLOCK17, 0.10, scope("Repeat_1", f"block17_{i}"))
    pre_aux_logits = net
    net = block(net, "Mixed_7a", _MIXED_7A)
    for i in range(1, 10):
        net = _residual(net, _BLOCK8, 0.20, scope("Repeat_2", f"block8_{i}"))
    net = _residual(net, _BLOCK8, 1.0, "Block8", activation=False)
    net = conv2d(net, 1536, 1, "Conv2d_7b_1x1", batch_norm=bn)
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Logits")
    if num_classes:
        names = ("Conv2d_1a_3x3", "Conv2d_1b_1x1", "Conv2d_2a_5x5", "Logits")
        logits = join_aux_logits(logits, aux_logits_head(pre_aux_logits, num_classes, names, bn))
    return keras.Model(images, logits, name="InceptionResnetV2")


inception_resnet_v2.default_image_size = 299
inception_resnet_v2.preprocessing_name = "inception"
