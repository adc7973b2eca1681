"""VGG A (11 layers), 16 and 19 as TF-Slim's ``nets/vgg.py`` defines them: blocks of 3x3
convolutions, each block closed by a 2x2 max pool, then fc6-fc8 as convolutions."""

from collections.abc import Sequence
from functools import partial

import keras

from kubeslim.components.nets.slim_ops import conv2d, fully_connected_head, max_pool, scope

_WIDTHS = (64, 128, 256, 512, 512)


def vgg(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.5,
    *,
    repeats: Sequence[int],
    name: str,
) -> keras.Model:
    """Builds a VGG net with ``repeats[i]`` convolutions in block ``i``."""
    images = keras.Input((image_size, image_size, channels), name="images")
    net = images
    for block, (count, width) in enumerate(zip(repeats, _WIDTHS, strict=True), start=1):
        for i in range(1, count + 1):
            net = conv2d(net, width, 3, scope(f"conv{block}", f"conv{block}_{i}"))
        net = max_pool(net, 2, f"pool{block}")
    logits = fully_connected_head(net, num_classes, dropout_keep_prob, 4096, 7)
    return keras.Model(images, logits, name=name)


vgg_a = partial(vgg, repeats=(1, 1, 2, 2, 2), name="vgg_a")
vgg_16 = partial(vgg, repeats=(2, 2, 3, 3, 3), name="vgg_16")
vgg_19 = partial(vgg, repeats=(2, 2, 4, 4, 4), name="vgg_19")
for _net in (vgg_a, vgg_16, vgg_19):
    _net.default_image_size = 224
    _net.preprocessing_name = "vgg"
