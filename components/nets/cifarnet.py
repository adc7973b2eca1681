"""CifarNet as TF-Slim's ``nets/cifarnet.py`` defines it (the CIFAR-10 tutorial's network).

conv1 5x5x64 -> pool1 3x3/2 -> norm1 (LRN) -> conv2 5x5x64 -> norm2 (LRN) -> pool2 3x3/2 ->
fc3 384 -> dropout3 -> fc4 192 -> logits, ReLU activations.
"""

import keras
import tensorflow as tf
from keras import layers


class LocalResponseNormalization(layers.Layer):
    """``tf.nn.local_response_normalization`` with the CIFAR-10 tutorial's settings."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.nn.local_response_normalization(
            inputs, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75
        )


def cifarnet(
    num_classes: int,
    image_size: int = 32,
    channels: int = 3,
    dropout_keep_prob: float = 0.5,
) -> keras.Model:
    """Builds CifarNet.

    Args:
      num_classes: number of output logits.
      image_size: height and width of the input images.
      channels: input channels.
      dropout_keep_prob: probability of keeping an fc3 activation in training.

    Returns:
      A model mapping float images [batch, image_size, image_size, channels] to logits
      [batch, num_classes].
    """

    def conv(name: str) -> layers.Layer:
        return layers.Conv2D(
            64,
            5,
            padding="same",
            activation="relu",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=5e-2),
            name=name,
        )

    def dense(units: int, name: str, stddev: float, activation: str | None) -> layers.Layer:
        return layers.Dense(
            units,
            activation=activation,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=stddev),
            bias_initializer=keras.initializers.Constant(0.1 if activation else 0.0),
            name=name,
        )

    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv("conv1")(images)
    net = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(net)
    net = LocalResponseNormalization(name="norm1")(net)
    net = conv("conv2")(net)
    net = LocalResponseNormalization(name="norm2")(net)
    net = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(net)
    net = layers.Flatten(name="Flatten")(net)
    net = dense(384, "fc3", 0.04, "relu")(net)
    net = layers.Dropout(1.0 - dropout_keep_prob, name="dropout3")(net)
    net = dense(192, "fc4", 0.04, "relu")(net)
    logits = dense(num_classes, "logits", 1 / 192.0, None)(net)
    return keras.Model(images, logits, name="CifarNet")


cifarnet.default_image_size = 32
cifarnet.preprocessing_name = "cifarnet"
