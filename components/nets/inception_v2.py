"""Inception V2 (BN-Inception) as TF-Slim's ``nets/inception_v2.py`` defines it, with its
separable first convolution."""

import keras
from keras import layers

from kubeslim.components.nets.inception_utils import (
    INCEPTION_BATCH_NORM,
    Conv,
    Pool,
    block,
)
from kubeslim.components.nets.slim_ops import conv2d, logits_head, max_pool

# (1x1, 3x3 reduce, 3x3, double-3x3 reduce, double-3x3, pool kind, pool projection)
_MIXED = {
    "Mixed_3b": (64, 64, 64, 64, 96, "avg", 32),
    "Mixed_3c": (64, 64, 96, 64, 96, "avg", 64),
    "Mixed_4b": (224, 64, 96, 96, 128, "avg", 128),
    "Mixed_4c": (192, 96, 128, 96, 128, "avg", 128),
    "Mixed_4d": (160, 128, 160, 128, 160, "avg", 96),
    "Mixed_4e": (96, 128, 192, 160, 192, "avg", 96),
    "Mixed_5b": (352, 192, 320, 160, 224, "avg", 128),
    "Mixed_5c": (352, 192, 320, 192, 224, "max", 128),
}
# (3x3 reduce, 3x3 stride 2, double-3x3 reduce, double-3x3) of the grid reductions.
_REDUCTIONS = {"Mixed_4a": (128, 160, 64, 96), "Mixed_5a": (128, 192, 192, 256)}


def _mixed(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    b0, b1a, b1b, b2a, b2b, pool, b3 = _MIXED[name]
    pool_name = "AvgPool_0a_3x3" if pool == "avg" else "MaxPool_0a_3x3"
    return block(
        x,
        name,
        [
            [Conv(b0, 1, "Conv2d_0a_1x1")],
            [Conv(b1a, 1, "Conv2d_0a_1x1"), Conv(b1b, 3, "Conv2d_0b_3x3")],
            [
                Conv(b2a, 1, "Conv2d_0a_1x1"),
                Conv(b2b, 3, "Conv2d_0b_3x3"),
                Conv(b2b, 3, "Conv2d_0c_3x3"),
            ],
            [Pool(pool, 3, pool_name), Conv(b3, 1, "Conv2d_0b_1x1")],
        ],
    )


def _reduction(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    b0a, b0b, b1a, b1b = _REDUCTIONS[name]
    return block(
        x,
        name,
        [
            [Conv(b0a, 1, "Conv2d_0a_1x1"), Conv(b0b, 3, "Conv2d_1a_3x3", stride=2)],
            [
                Conv(b1a, 1, "Conv2d_0a_1x1"),
                Conv(b1b, 3, "Conv2d_0b_3x3"),
                Conv(b1b, 3, "Conv2d_1a_3x3", stride=2),
            ],
            [Pool("max", 3, "MaxPool_1a_3x3", stride=2)],
        ],
    )


def inception_v2(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
) -> keras.Model:
    """Builds Inception V2: float images [batch, size, size, channels] -> logits."""
    bn = INCEPTION_BATCH_NORM
    images = keras.Input((image_size, image_size, channels), name="images")
    # A depthwise 7x7 (multiplier 8), a pointwise 1x1 to 64 channels, a bias and ReLU: TF-Slim's
    # arg scope gives batch norm to slim.conv2d only, not to this slim.separable_conv2d.
    net = layers.SeparableConv2D(
        64,
        7,
        strides=2,
        padding="same",
        depth_multiplier=8,
        activation="relu",
        depthwise_initializer=keras.initializers.TruncatedNormal(stddev=1.0),
        pointwise_initializer=keras.initializers.TruncatedNormal(stddev=1.0),
        name="Conv2d_1a_7x7",
    )(images)
    net = max_pool(net, 3, "MaxPool_2a_3x3", padding="same")
    net = conv2d(net, 64, 1, "Conv2d_2b_1x1", batch_norm=bn)
    net = conv2d(net, 192, 3, "Conv2d_2c_3x3", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_3a_3x3", padding="same")
    for name in ("Mixed_3b", "Mixed_3c"):
        net = _mixed(net, name)
    net = _reduction(net, "Mixed_4a")
    for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e"):
        net = _mixed(net, name)
    net = _reduction(net, "Mixed_5a")
    for name in ("Mixed_5b", "Mixed_5c"):
        net = _mixed(net, name)
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Conv2d_1c_1x1")
    return keras.Model(images, logits, name="InceptionV2")


inception_v2.default_image_size = 224
inception_v2.preprocessing_name = "inception"
