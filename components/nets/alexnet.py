"""AlexNet v2 as TF-Slim's ``nets/alexnet.py`` defines it (the "one weird trick" variant,
without LRN): five convolutions, then fc6-fc8 as convolutions, so it also runs fully
convolutionally on larger inputs."""

import keras

from kubeslim.components.nets.slim_ops import conv2d, fully_connected_head, max_pool


def alexnet_v2(
    num_classes: int,
    image_size: int = 224,
    channels: int = 3,
    dropout_keep_prob: float = 0.5,
) -> keras.Model:
    """Builds AlexNet v2: float images [batch, size, size, channels] -> logits."""
    fc_init = keras.initializers.TruncatedNormal(stddev=0.005)
    images = keras.Input((image_size, image_size, channels), name="images")
    net = conv2d(images, 64, 11, "conv1", stride=4, padding="valid")
    net = max_pool(net, 3, "pool1")
    net = conv2d(net, 192, 5, "conv2")
    net = max_pool(net, 3, "pool2")
    net = conv2d(net, 384, 3, "conv3")
    net = conv2d(net, 384, 3, "conv4")
    net = conv2d(net, 256, 3, "conv5")
    net = max_pool(net, 3, "pool5")
    logits = fully_connected_head(net, num_classes, dropout_keep_prob, 4096, 5, fc_init)
    return keras.Model(images, logits, name="alexnet_v2")


alexnet_v2.default_image_size = 224
alexnet_v2.preprocessing_name = "vgg"
