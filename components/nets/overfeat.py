"""OverFeat ("accurate" model without its last conv) as TF-Slim's ``nets/overfeat.py``
defines it; fc6-fc8 are convolutions."""

import keras
from keras import layers

from kubeslim.components.nets.slim_ops import conv2d, max_pool


def overfeat(
    num_classes: int,
    image_size: int = 231,
    channels: int = 3,
    dropout_keep_prob: float = 0.5,
) -> keras.Model:
    """Builds OverFeat: float images [batch, size, size, channels] -> logits."""
    fc_init = keras.initializers.TruncatedNormal(stddev=0.005)
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 64, 11, "conv1", stride=4, padding="valid")
    net = max_pool(net, 2, "pool1")
    net = conv2d(net, 256, 5, "conv2", padding="valid")
    net = max_pool(net, 2, "pool2")
    net = conv2d(net, 512, 3, "conv3")
    net = conv2d(net, 1024, 3, "conv4")
    net = conv2d(net, 1024, 3, "conv5")
    net = max_pool(net, 2, "pool5")
    net = conv2d(net, 3072, net.shape[1], "fc6", padding="valid", initializer=fc_init)
    net = layers.Dropout(1.0 - dropout_keep_prob, name="dropout6")(net)
    net = conv2d(net, 4096, 1, "fc7", initializer=fc_init)
    net = layers.Dropout(1.0 - dropout_keep_prob, name="dropout7")(net)
    net = conv2d(net, num_classes, 1, "fc8", activation=None, initializer=fc_init)
    logits = layers.GlobalAveragePooling2D(name="fc8.squeezed")(net)
    return keras.Model(images, logits, name="overfeat")


overfeat.default_image_size = 231
overfeat.preprocessing_name = "vgg"
