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


def depthwise_conv2d(
    x: keras.KerasTensor,
    name: str,
    *,
    stride: int = 1,
    batch_norm: BatchNorm,
    activation: str = "relu6",
) -> keras.KerasTensor:
    """``slim.separable_conv2d(net, None, [3, 3], depth_multiplier=1)`` as MobileNet uses it:
    a 3x3 depthwise convolution (TF-Slim's ``depthwise_weights``), batch norm, activation."""
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=name)(x)
    x = batch_norm(x, scope(name, "BatchNorm"))
    return layers.Activation(activation, name=scope(name, activation))(x)


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
    on the pooled features, which is a dense layer), giving [batch, num_classes]; with
    ``num_classes=0``, the pooled features (TF-Slim's feature-extractor mode)."""
    x = layers.GlobalAveragePooling2D(name=scope(name, "AvgPool"))(x)
    if not num_classes:
        return x
    x = layers.Dropout(1.0 - dropout_keep_prob, name=scope(name, "Dropout"))(x)
    return layers.Dense(num_classes, name=name)(x)


# The layer averaging a fully convolutional head's map of logits.
AVERAGED_LOGITS = scope("fc8", "squeezed")


def fully_connected_head(
    x: keras.KerasTensor,
    num_classes: int,
    dropout_keep_prob: float,
    fc6_units: int,
    fc6_kernel: int,
    initializer: keras.initializers.Initializer | str = "glorot_uniform",
) -> keras.KerasTensor:
    """fc6 (a VALID ``fc6_kernel`` convolution), fc7 (1x1, 4096) and fc8 (1x1 logits), with
    dropout between: the head of AlexNet, OverFeat and VGG, written as convolutions as TF-Slim
    wrote it, so the net is fully convolutional and TF-Slim's checkpoints fit at any input
    size. A larger input gives a map of logits, averaged as TF-Slim's ``global_pool=True``
    does; at the default size it is TF-Slim's squeezed [batch, num_classes]. With
    ``num_classes=0`` the fc7 features are returned, pooled. Below the default size the fc6
    kernel shrinks to the feature map, as TF-Slim's Inception heads do for small inputs."""
    fc6_kernel = min(fc6_kernel, x.shape[1])
    x = conv2d(x, fc6_units, fc6_kernel, "fc6", padding="valid", initializer=initializer)
    x = layers.Dropout(1.0 - dropout_keep_prob, name="dropout6")(x)
    x = conv2d(x, 4096, 1, "fc7", initializer=initializer)
    if not num_classes:
        return layers.GlobalAveragePooling2D(name=scope("fc7", "pooled"))(x)
    x = layers.Dropout(1.0 - dropout_keep_prob, name="dropout7")(x)
    x = conv2d(x, num_classes, 1, "fc8", activation=None, initializer=initializer)
    return layers.GlobalAveragePooling2D(name=AVERAGED_LOGITS)(x)


def aux_logits_head(
    x: keras.KerasTensor,
    num_classes: int,
    names: tuple[str, str, str, str],
    batch_norm: BatchNorm,
) -> keras.KerasTensor:
    """The auxiliary classifier of Inception V3, V4 and Inception-ResNet-v2: a 5x5 average
    pool (stride 3), a 1x1 convolution to 128, a VALID convolution to 768 over the whole
    pooled map, then the logits. ``names`` are TF-Slim's scopes of the four inside
    ``AuxLogits``; ``{k}`` in the third becomes the kernel size, as in Inception V3's
    ``Conv2d_2a_5x5``. Below the default input size the pool and the kernel shrink to the
    feature map (TF-Slim's graphs fail there), so small images still train."""
    pool, reduce, conv, logits = (scope("AuxLogits", name) for name in names)
    x = layers.AveragePooling2D(min(x.shape[1], 5), strides=3, name=pool)(x)
    x = conv2d(x, 128, 1, reduce, batch_norm=batch_norm)
    kernel = min(x.shape[1], 5)
    x = conv2d(
        x,
        768,
        kernel,
        conv.format(k=kernel),
        padding="valid",
        batch_norm=batch_norm,
        initializer=keras.initializers.TruncatedNormal(stddev=0.01),
    )
    x = layers.GlobalAveragePooling2D(name=scope("AuxLogits", "squeezed"))(x)
    initializer = keras.initializers.TruncatedNormal(stddev=0.001)
    return layers.Dense(num_classes, kernel_initializer=initializer, name=logits)(x)


class EndPoint(layers.Identity):
    """Names a tensor as TF-Slim's ``end_points`` do where the name is not a layer's scope
    (MobileNet V2's ``layer_3``, ``layer_3/expansion_output``); computes nothing."""


def end_point(x: keras.KerasTensor, *parts: str) -> keras.KerasTensor:
    """``x``, named as TF-Slim's end point ``parts[0]/parts[1]/...``."""
    return EndPoint(name=scope(*parts))(x)


class AuxLogitsJoin(layers.Layer):
    """Returns the logits, and takes the auxiliary logits as a second input only so that the
    auxiliary head belongs to the model: its variables are in every checkpoint, as in
    TF-Slim's, and training reads its output (``nets_factory.aux_logits``). Nothing that
    needs only the logits computes the head: graphs are pruned to what the output needs."""

    def call(self, inputs: list) -> keras.KerasTensor:
        return inputs[0]

    def compute_output_shape(self, input_shape: list) -> tuple:
        return input_shape[0]


def join_aux_logits(logits: keras.KerasTensor, aux_logits: keras.KerasTensor) -> keras.KerasTensor:
    """The model's output: ``logits``, carrying the auxiliary head along."""
    return AuxLogitsJoin(name=scope("AuxLogits", "join"))([logits, aux_logits])
