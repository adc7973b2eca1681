"""LeNet as TF-Slim's ``nets/lenet.py`` defines it.

conv1 5x5x32 -> pool1 2x2 -> conv2 5x5x64 -> pool2 2x2 -> fc3 1024 -> dropout3 -> fc4 logits,
ReLU activations, weights from a truncated normal with stddev 0.1.
"""

import keras
from keras import layers


def lenet(
    num_classes: int,
    image_size: int = 28,
    channels: int = 1,
    dropout_keep_prob: float = 0.5,
) -> keras.Model:
    """Builds LeNet.

    Args:
      num_classes: number of output logits.
      image_size: height and width of the input images.
      channels: input channels.
      dropout_keep_prob: probability of keeping an fc3 activation in training.

    Returns:
      A model mapping float images [batch, image_size, image_size, channels] to logits
      [batch, num_classes].
    """
    init = keras.initializers.TruncatedNormal(stddev=0.1)

    def conv(filters: int, name: str) -> layers.Layer:
        return layers.Conv2D(
            filters,
            5,
            padding="same",
            activation="relu",
            kernel_initializer=init,
            name=name,
        )

    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv(32, "conv1")(images)
    net = layers.MaxPooling2D(2, name="pool1")(net)
    net = conv(64, "conv2")(net)
    net = layers.MaxPooling2D(2, name="pool2")(net)
    net = layers.Flatten(name="Flatten")(net)
    net = layers.Dense(1024, activation="relu", kernel_initializer=init, name="fc3")(net)
    net = layers.Dropout(1.0 - dropout_keep_prob, name="dropout3")(net)
    logits = layers.Dense(num_classes, kernel_initializer=init, name="fc4")(net)
    return keras.Model(images, logits, name="LeNet")


lenet.default_image_size = 28
lenet.preprocessing_name = "lenet"
