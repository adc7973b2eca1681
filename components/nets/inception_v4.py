"""Inception V4 as TF-Slim's ``nets/inception_v4.py`` defines it (arXiv:1602.07261): a stem,
4 Inception-A, Reduction-A, 7 Inception-B, Reduction-B and 3 Inception-C blocks, with the
auxiliary head on ``Mixed_6h``."""

import keras

from kubeslim.components.nets.inception_utils import (
    INCEPTION_BATCH_NORM,
    Conv,
    Fork,
    Pool,
    block,
)
from kubeslim.components.nets.slim_ops import (
    aux_logits_head,
    conv2d,
    join_aux_logits,
    logits_head,
)

_INCEPTION_A = [
    [Conv(96, 1, "Conv2d_0a_1x1")],
    [Conv(64, 1, "Conv2d_0a_1x1"), Conv(96, 3, "Conv2d_0b_3x3")],
    [Conv(64, 1, "Conv2d_0a_1x1"), Conv(96, 3, "Conv2d_0b_3x3"), Conv(96, 3, "Conv2d_0c_3x3")],
    [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(96, 1, "Conv2d_0b_1x1")],
]
_REDUCTION_A = [
    [Conv(384, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [
        Conv(192, 1, "Conv2d_0a_1x1"),
        Conv(224, 3, "Conv2d_0b_3x3"),
        Conv(256, 3, "Conv2d_1a_3x3", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]
_INCEPTION_B = [
    [Conv(384, 1, "Conv2d_0a_1x1")],
    [
        Conv(192, 1, "Conv2d_0a_1x1"),
        Conv(224, (1, 7), "Conv2d_0b_1x7"),
        Conv(256, (7, 1), "Conv2d_0c_7x1"),
    ],
    [
        Conv(192, 1, "Conv2d_0a_1x1"),
        Conv(192, (7, 1), "Conv2d_0b_7x1"),
        Conv(224, (1, 7), "Conv2d_0c_1x7"),
        Conv(224, (7, 1), "Conv2d_0d_7x1"),
        Conv(256, (1, 7), "Conv2d_0e_1x7"),
    ],
    [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(128, 1, "Conv2d_0b_1x1")],
]
_REDUCTION_B = [
    [Conv(192, 1, "Conv2d_0a_1x1"), Conv(192, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [
        Conv(256, 1, "Conv2d_0a_1x1"),
        Conv(256, (1, 7), "Conv2d_0b_1x7"),
        Conv(320, (7, 1), "Conv2d_0c_7x1"),
        Conv(320, 3, "Conv2d_1a_3x3", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]
_INCEPTION_C = [
    [Conv(256, 1, "Conv2d_0a_1x1")],
    [
        Conv(384, 1, "Conv2d_0a_1x1"),
        Fork((Conv(256, (1, 3), "Conv2d_0b_1x3"), Conv(256, (3, 1), "Conv2d_0c_3x1"))),
    ],
    [
        Conv(384, 1, "Conv2d_0a_1x1"),
        Conv(448, (3, 1), "Conv2d_0b_3x1"),
        Conv(512, (1, 3), "Conv2d_0c_1x3"),
        Fork((Conv(256, (1, 3), "Conv2d_0d_1x3"), Conv(256, (3, 1), "Conv2d_0e_3x1"))),
    ],
    [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(256, 1, "Conv2d_0b_1x1")],
]


def inception_v4(
    num_classes: int,
    image_size: int = 299,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
) -> keras.Model:
    """Builds Inception V4: float images [batch, size, size, channels] -> logits (with the
    auxiliary head alongside), or pooled 1536-d features when ``num_classes`` is 0."""
    bn = INCEPTION_BATCH_NORM
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 32, 3, "Conv2d_1a_3x3", stride=2, padding="valid", batch_norm=bn)
    net = conv2d(net, 32, 3, "Conv2d_2a_3x3", padding="valid", batch_norm=bn)
    net = conv2d(net, 64, 3, "Conv2d_2b_3x3", batch_norm=bn)
    net = block(
        net,
        "Mixed_3a",
        [
            [Pool("max", 3, "MaxPool_0a_3x3", stride=2, padding="valid")],
            [Conv(96, 3, "Conv2d_0a_3x3", stride=2, padding="valid")],
        ],
    )
    net = block(
        net,
        "Mixed_4a",
        [
            [Conv(64, 1, "Conv2d_0a_1x1"), Conv(96, 3, "Conv2d_1a_3x3", padding="valid")],
            [
                Conv(64, 1, "Conv2d_0a_1x1"),
                Conv(64, (1, 7), "Conv2d_0b_1x7"),
                Conv(64, (7, 1), "Conv2d_0c_7x1"),
                Conv(96, 3, "Conv2d_1a_3x3", padding="valid"),
            ],
        ],
    )
    net = block(
        net,
        "Mixed_5a",
        [
            [Conv(192, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
            [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
        ],
    )
    for letter in "bcde":
        net = block(net, f"Mixed_5{letter}", _INCEPTION_A)
    net = block(net, "Mixed_6a", _REDUCTION_A)
    for letter in "bcdefgh":
        net = block(net, f"Mixed_6{letter}", _INCEPTION_B)
    mixed_6h = net
    net = block(net, "Mixed_7a", _REDUCTION_B)
    for letter in "bcd":
        net = block(net, f"Mixed_7{letter}", _INCEPTION_C)
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Logits")
    if num_classes:
        names = ("AvgPool_1a_5x5", "Conv2d_1b_1x1", "Conv2d_2a", "Aux_logits")
        logits = join_aux_logits(logits, aux_logits_head(mixed_6h, num_classes, names, bn))
    return keras.Model(images, logits, name="InceptionV4")


inception_v4.default_image_size = 299
inception_v4.preprocessing_name = "inception"
