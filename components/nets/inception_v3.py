"""Inception V3 as TF-Slim's ``nets/inception_v3.py`` defines it (arXiv:1512.00567), with its
auxiliary head on ``Mixed_6e`` and TF-Slim's scope names, irregular ones included
(``Mixed_5c/Branch_1/Conv_1_0c_5x5``, ``Mixed_6a/Branch_0/Conv2d_1a_1x1`` for a 3x3)."""

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
    max_pool,
)


def _inception_a(pool_projection: int, branch_1: tuple[str, str]) -> list:
    return [
        [Conv(64, 1, "Conv2d_0a_1x1")],
        [Conv(48, 1, branch_1[0]), Conv(64, 5, branch_1[1])],
        [Conv(64, 1, "Conv2d_0a_1x1"), Conv(96, 3, "Conv2d_0b_3x3"), Conv(96, 3, "Conv2d_0c_3x3")],
        [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(pool_projection, 1, "Conv2d_0b_1x1")],
    ]


def _inception_b(width: int) -> list:
    return [
        [Conv(192, 1, "Conv2d_0a_1x1")],
        [
            Conv(width, 1, "Conv2d_0a_1x1"),
            Conv(width, (1, 7), "Conv2d_0b_1x7"),
            Conv(192, (7, 1), "Conv2d_0c_7x1"),
        ],
        [
            Conv(width, 1, "Conv2d_0a_1x1"),
            Conv(width, (7, 1), "Conv2d_0b_7x1"),
            Conv(width, (1, 7), "Conv2d_0c_1x7"),
            Conv(width, (7, 1), "Conv2d_0d_7x1"),
            Conv(192, (1, 7), "Conv2d_0e_1x7"),
        ],
        [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(192, 1, "Conv2d_0b_1x1")],
    ]


def _inception_c(branch_1_3x1: str) -> list:
    return [
        [Conv(320, 1, "Conv2d_0a_1x1")],
        [
            Conv(384, 1, "Conv2d_0a_1x1"),
            Fork((Conv(384, (1, 3), "Conv2d_0b_1x3"), Conv(384, (3, 1), branch_1_3x1))),
        ],
        [
            Conv(448, 1, "Conv2d_0a_1x1"),
            Conv(384, 3, "Conv2d_0b_3x3"),
            Fork((Conv(384, (1, 3), "Conv2d_0c_1x3"), Conv(384, (3, 1), "Conv2d_0d_3x1"))),
        ],
        [Pool("avg", 3, "AvgPool_0a_3x3"), Conv(192, 1, "Conv2d_0b_1x1")],
    ]


_REDUCTION_A = [
    [Conv(384, 3, "Conv2d_1a_1x1", stride=2, padding="valid")],
    [
        Conv(64, 1, "Conv2d_0a_1x1"),
        Conv(96, 3, "Conv2d_0b_3x3"),
        Conv(96, 3, "Conv2d_1a_1x1", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]
_REDUCTION_B = [
    [Conv(192, 1, "Conv2d_0a_1x1"), Conv(320, 3, "Conv2d_1a_3x3", stride=2, padding="valid")],
    [
        Conv(192, 1, "Conv2d_0a_1x1"),
        Conv(192, (1, 7), "Conv2d_0b_1x7"),
        Conv(192, (7, 1), "Conv2d_0c_7x1"),
        Conv(192, 3, "Conv2d_1a_3x3", stride=2, padding="valid"),
    ],
    [Pool("max", 3, "MaxPool_1a_3x3", stride=2, padding="valid")],
]


def inception_v3(
    num_classes: int,
    image_size: int = 299,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
) -> keras.Model:
    """Builds Inception V3: float images [batch, size, size, channels] -> logits (with the
    auxiliary head alongside), or pooled 2048-d features when ``num_classes`` is 0."""
    bn = INCEPTION_BATCH_NORM
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 32, 3, "Conv2d_1a_3x3", stride=2, padding="valid", batch_norm=bn)
    net = conv2d(net, 32, 3, "Conv2d_2a_3x3", padding="valid", batch_norm=bn)
    net = conv2d(net, 64, 3, "Conv2d_2b_3x3", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_3a_3x3")
    net = conv2d(net, 80, 1, "Conv2d_3b_1x1", padding="valid", batch_norm=bn)
    net = conv2d(net, 192, 3, "Conv2d_4a_3x3", padding="valid", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_5a_3x3")
    net = block(net, "Mixed_5b", _inception_a(32, ("Conv2d_0a_1x1", "Conv2d_0b_5x5")))
    net = block(net, "Mixed_5c", _inception_a(64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5")))
    net = block(net, "Mixed_5d", _inception_a(64, ("Conv2d_0a_1x1", "Conv2d_0b_5x5")))
    net = block(net, "Mixed_6a", _REDUCTION_A)
    for name, width in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        net = block(net, name, _inception_b(width))
    mixed_6e = net
    net = block(net, "Mixed_7a", _REDUCTION_B)
    net = block(net, "Mixed_7b", _inception_c("Conv2d_0b_3x1"))
    net = block(net, "Mixed_7c", _inception_c("Conv2d_0c_3x1"))
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Conv2d_1c_1x1")
    if num_classes:
        names = ("AvgPool_1a_5x5", "Conv2d_1b_1x1", "Conv2d_2a_{k}x{k}", "Conv2d_2b_1x1")
        logits = join_aux_logits(logits, aux_logits_head(mixed_6e, num_classes, names, bn))
    return keras.Model(images, logits, name="InceptionV3")


inception_v3.default_image_size = 299
inception_v3.preprocessing_name = "inception"
