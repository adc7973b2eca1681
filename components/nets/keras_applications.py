"""Nets that ``keras.applications`` implements faithfully to TF-Slim, built untrained
(``weights=None``) with TF-Slim's head: global average pool, dropout and a ``Logits`` layer.

The model is named by TF-Slim's scope (``InceptionV3``, ``MobilenetV1``...), so
``InceptionV3/Logits`` names the head for fine-tuning; the body keeps Keras's layer names
(``InceptionV3/mixed7``...).
"""

from collections.abc import Callable
from functools import partial

import keras

from kubeslim.components.nets.slim_ops import logits_head


def keras_application(
    num_classes: int,
    image_size: int,
    channels: int = 3,
    dropout_keep_prob: float = 0.8,
    *,
    application: Callable[..., keras.Model],
    scope_name: str,
    **options,
) -> keras.Model:
    """Builds ``application`` without its top, under TF-Slim's head and scope name."""
    body = application(
        include_top=False,
        weights=None,
        input_shape=(image_size, image_size, channels),
        **options,
    )
    logits = logits_head(body.output, num_classes, dropout_keep_prob, "Logits")
    return keras.Model(body.input, logits, name=scope_name)


def _register(
    application: Callable[..., keras.Model],
    scope_name: str,
    image_size: int,
    preprocessing_name: str,
    **options,
) -> Callable[..., keras.Model]:
    builder = partial(
        keras_application,
        image_size=image_size,
        application=application,
        scope_name=scope_name,
        **options,
    )
    builder.default_image_size = image_size
    builder.preprocessing_name = preprocessing_name
    return builder


inception_v3 = _register(keras.applications.InceptionV3, "InceptionV3", 299, "inception")
inception_resnet_v2 = _register(
    keras.applications.InceptionResNetV2, "InceptionResnetV2", 299, "inception"
)
mobilenet_v1 = _register(keras.applications.MobileNet, "MobilenetV1", 224, "inception")
mobilenet_v1_075 = _register(
    keras.applications.MobileNet, "MobilenetV1", 224, "inception", alpha=0.75
)
mobilenet_v1_050 = _register(
    keras.applications.MobileNet, "MobilenetV1", 224, "inception", alpha=0.5
)
mobilenet_v1_025 = _register(
    keras.applications.MobileNet, "MobilenetV1", 224, "inception", alpha=0.25
)
mobilenet_v2 = _register(keras.applications.MobileNetV2, "MobilenetV2", 224, "inception")
