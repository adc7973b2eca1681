"""OverFeat ("accurate" model without its last conv) as TF-Slim's ``nets/overfeat.py``
defines it; fc6-fc8 are convolutions."""

import keras

from kubeslim.components.nets.slim_ops import conv2d, fully_connected_head, max_pool


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
    logits = fully_connected_head(net, num_classes, dropout_keep_prob, 3072, 6, fc_init)
    return keras.Model(images, logits, name="overfeat")


overfeat.default_image_size = 231
overfeat.preprocessing_name = "vgg"
