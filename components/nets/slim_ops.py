"""TF-Slim's layer vocabulary in Keras, shared by the hand-written nets.

Keras forbids ``/`` in layer names, so a layer inside TF-Slim's ``Mixed_5b/Branch_0`` scope is
named ``Mixed_5b.Branch_0.Conv2d_0a_1x1``; ``nets_factory.layer_scope`` maps it back to
``InceptionV4/Mixed_5b/Branch_0/Conv2d_0a_1x1``. As in TF-Slim's arg scopes, a convolution
followed by batch norm has no bias, and batch norm follows the convolution before the
activation.
"""

from dataclasses import dataclass

import keras
from keras import layers


def scope(*parts: str) -> str:
    """A layer name for the TF-Slim scope ``parts[0]/parts[1]/...``."""
    return ".".join(parts)


@dataclass(frozen=True)
class BatchNorm:
    """TF-Slim ``batch_norm`` settings: ``decay``, ``epsilon`` and whether to learn a scale."""

    decay: float = 0.9997
    epsilon: float = 0.001
    scale: bool = False

    def __call__(self, x: keras.KerasTensor, name: str) -> keras.KerasTensor:
        return layers.BatchNormalization(
            momentum=self.decay, epsilon=self.epsilon, scale=self.scale, name=name
        )(x)


def conv2d(
    x: keras.KerasTensor,
    filters: int,
    kernel: int | tuple[int, int],
    name: str,
    *,
    stride: int = 1,
    padding: str = "same",
    batch_norm: BatchNorm | None = None,
    activation: str | None = "relu",
    initializer: keras.initializers.Initializer | str = "glorot_uniform",
) -> keras.KerasTensor:
    """``slim.conv2d``: convolution, then batch norm (no bias) or a bias, then activation."""
    x = layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        use_bias=batch_norm is None,
        kernel_initializer=initializer,
        name=name,
    )(x)
    if batch_norm is not None:
        x = batch_norm(x, scope(name, "BatchNorm"))
    if activation is not None:
        x = layers.Activation(activation, name=scope(name, activation))(x)
    return x


def conv2d_same(
    x: keras.KerasTensor, filters: int, kernel: int, stride: int, name: str, **kwargs
) -> keras.KerasTensor:
    """TF-Slim's ``resnet_utils.conv2d_same``: strided convolutions pad explicitly, so the
    output does not depend on the input size being even."""
    if stride == 1:
        return conv2d(x, filters, kernel, name, **kwargs)
    total = kernel - 1
    x = layers.ZeroPadding2D(((total // 2, total - total // 2),) * 2, name=scope(name, "pad"))(x)
    return conv2d(x, filters, kernel, name, stride=stride, padding="valid", **kwargs)


def max_pool(
    x: keras.KerasTensor, size: int, name: str, *, stride: int = 2, padding: str = "valid"
) -> keras.KerasTensor:
    """``slim.max_pool2d`` (VALID padding by default, as in TF-Slim)."""
    return layers.MaxPooling2D(size, strides=stride, padding=padding, name=name)(x)


def avg_pool(
    x: keras.KerasTensor, size: int, name: str, *, stride: int = 1, padding: str = "same"
) -> keras.KerasTensor:
    """``slim.avg_pool2d`` as the Inception blocks use it (stride 1, SAME)."""
    return layers.AveragePooling2D(size, strides=stride, padding=padding, name=name)(x)


def concat(branches: list[keras.KerasTensor], name: str) -> keras.KerasTensor:
    """Joins Inception branches on the channel axis."""
    return layers.Concatenate(axis=-1, name=scope(name, "concat"))(branches)


def logits_head(
    x: keras.KerasTensor, num_classes: int, dropout_keep_prob: float, name: str
) -> keras.KerasTensor:
    """Global average pool, dropout and the logits layer (TF-Slim's 1x1 convolution with a bias
    on the pooled features, which is a dense layer), giving [batch, num_classes]."""
    x = layers.GlobalAveragePooling2D(name=scope(name, "AvgPool"))(x)
    x = layers.Dropout(1.0 - dropout_keep_prob, name=scope(name, "Dropout"))(x)
    return layers.Dense(num_classes, name=name)(x)


def fully_connected_head(
    x: keras.KerasTensor,
    num_classes: int,
    dropout_keep_prob: float,
    fc6_units: int,
    initializer: keras.initializers.Initializer | str = "glorot_uniform",
) -> keras.KerasTensor:
    """fc6 (a VALID convolution over the whole feature map), fc7 (1x1, 4096) and fc8 (1x1
    logits), with dropout between, squeezed to [batch, num_classes]: the head of AlexNet,
    OverFeat and VGG, written as convolutions as TF-Slim wrote it."""
    x = conv2d(x, fc6_units, x.shape[1], "fc6", padding="valid", initializer=initializer)
    x = layers.Dropout(1.0 - dropout_keep_prob, name="dropout6")(x)
    x = conv2d(x, 4096, 1, "fc7", initializer=initializer)
    x = layers.Dropout(1.0 - dropout_keep_prob, name="dropout7")(x)
    x = conv2d(x, num_classes, 1, "fc8", activation=None, initializer=initializer)
    return layers.GlobalAveragePooling2D(name=scope("fc8", "squeezed"))(x)
