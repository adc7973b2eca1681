"""Inception V1 (GoogLeNet with batch norm) as TF-Slim's ``nets/inception_v1.py`` defines it."""

import keras

from kubeslim.components.nets.inception_utils import (
    INCEPTION_BATCH_NORM,
    Conv,
    Pool,
    block,
)
from kubeslim.components.nets.slim_ops import conv2d, logits_head, max_pool

# (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5" (3x3 in TF-Slim), pool projection) per block.
_MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
# TF-Slim names this one convolution differently; keeping its name keeps its checkpoints.
_BRANCH_2_3X3 = {"Mixed_5b": "Conv2d_0a_3x3"}
_POOL_BEFORE = {"Mixed_4b": ("MaxPool_4a_3x3", 3), "Mixed_5b": ("MaxPool_5a_2x2", 2)}


def _mixed(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    b0, b1a, b1b, b2a, b2b, b3 = _MIXED[name]
    return block(
        x,
        name,
        [
            [Conv(b0, 1, "Conv2d_0a_1x1")],
            [Conv(b1a, 1, "Conv2d_0a_1x1"), Conv(b1b, 3, "Conv2d_0b_3x3")],
            [Conv(b2a, 1, "Conv2d_0a_1x1"), Conv(b2b, 3, _BRANCH_2_3X3.get(name, "Conv2d_0b_3x3"))],
            [Pool("max", 3, "MaxPool_0a_3x3"), Conv(b3, 1, "Conv2d_0b_1x1")],
        ],
    )


def inception_v1(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
) -> keras.Model:
    """Builds Inception V1: float images [batch, size, size, channels] -> logits."""
    bn = INCEPTION_BATCH_NORM
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 64, 7, "Conv2d_1a_7x7", stride=2, batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_2a_3x3", padding="same")
    net = conv2d(net, 64, 1, "Conv2d_2b_1x1", batch_norm=bn)
    net = conv2d(net, 192, 3, "Conv2d_2c_3x3", batch_norm=bn)
    net = max_pool(net, 3, "MaxPool_3a_3x3", padding="same")
    for name in _MIXED:
        if name in _POOL_BEFORE:
            pool_name, size = _POOL_BEFORE[name]
            net = max_pool(net, size, pool_name, padding="same")
        net = _mixed(net, name)
    logits = logits_head(net, num_classes, dropout_keep_prob, "Logits.Conv2d_0c_1x1")
    return keras.Model(images, logits, name="InceptionV1")


inception_v1.default_image_size = 224
inception_v1.preprocessing_name = "inception"
