"""What ResNet v1 and v2 share, as in TF-Slim's ``nets/resnet_utils.py``: the block layout
per depth and the stem, the stacking of bottleneck units, and the pooled logits head."""

from collections.abc import Callable

import keras
from keras import layers

from kubeslim.components.nets.slim_ops import BatchNorm, logits_head, scope

RESNET_BATCH_NORM = BatchNorm(decay=0.997, epsilon=1e-5, scale=True)
HE_INIT = keras.initializers.VarianceScaling(2.0, "fan_in", "truncated_normal")

# Units per block; blocks 1-3 end with a stride-2 unit, block 4 keeps the resolution.
UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}
_BASE_DEPTHS = (64, 128, 256, 512)
_STRIDES = (2, 2, 2, 1)

# (x, depth, depth_bottleneck, stride, scope) -> x
Unit = Callable[[keras.KerasTensor, int, int, int, str], keras.KerasTensor]


def subsample(x: keras.KerasTensor, stride: int, name: str) -> keras.KerasTensor:
    """The identity shortcut, strided by a 1x1 max pool when the unit downsamples."""
    return x if stride == 1 else layers.MaxPooling2D(1, strides=stride, name=name)(x)


def stack_blocks(x: keras.KerasTensor, depth: int, unit: Unit) -> keras.KerasTensor:
    """Applies blocks 1-4 of a ResNet of ``depth`` layers made of ``unit``."""
    for i, (count, base, stride) in enumerate(
        zip(UNITS[depth], _BASE_DEPTHS, _STRIDES, strict=True), start=1
    ):
        for j in range(1, count + 1):
            unit_stride = stride if j == count else 1
            x = unit(x, base * 4, base, unit_stride, scope(f"block{i}", f"unit_{j}"))
    return x


def resnet_builder(
    unit: Unit,
    depth: int,
    version: str,
    stem: Callable[[keras.KerasTensor], keras.KerasTensor],
    head: Callable[[keras.KerasTensor], keras.KerasTensor],
) -> Callable[..., keras.Model]:
    """A nets-factory builder for ``resnet_{version}_{depth}``."""
    name = f"resnet_{version}_{depth}"

    def build(
        num_classes: int,
        image_size: int = 224,
        channels: int = 3,
        dropout_keep_prob: float = 1.0,
    ) -> keras.Model:
        images = keras.Input((image_size, image_size, channels), name="images")
        net = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(stem(images))
        net = head(stack_blocks(net, depth, unit))
        logits = logits_head(net, num_classes, dropout_keep_prob, "logits")
        return keras.Model(images, logits, name=name)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"Builds {name}: float images [batch, size, size, channels] -> logits."
    build.default_image_size = 224
    build.preprocessing_name = "vgg" if version == "v1" else "inception"
    return build
