"""Maps TF-Slim network names to Keras model builders.

A builder is ``(num_classes, image_size=..., channels=3, dropout_keep_prob=...) -> Model`` and
carries its metadata as TF-Slim's did: ``default_image_size`` and the ``preprocessing_name``
that ``preprocessing_factory`` knows it by. ``build_network`` adds weight decay, and
``layer_scope`` gives a layer's TF-Slim scope (``InceptionV4/Mixed_5b/Branch_0/...``), which
``--checkpoint_exclude_scopes`` and ``--trainable_scopes`` match.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kubeslim.registry import LazyRegistry

if TYPE_CHECKING:  # keras loads when a net is built, so the names list without TensorFlow
    import keras

NETS = LazyRegistry(
    "kubeslim.components.nets",
    {
        "alexnet_v2": "alexnet:alexnet_v2",
        "cifarnet": "cifarnet:cifarnet",
        "inception_resnet_v2": "inception_resnet_v2:inception_resnet_v2",
        "inception_v1": "inception_v1:inception_v1",
        "inception_v2": "inception_v2:inception_v2",
        "inception_v3": "inception_v3:inception_v3",
        "inception_v4": "inception_v4:inception_v4",
        "lenet": "lenet:lenet",
        "mobilenet_v1": "mobilenet_v1:mobilenet_v1",
        "mobilenet_v1_075": "mobilenet_v1:mobilenet_v1_075",
        "mobilenet_v1_050": "mobilenet_v1:mobilenet_v1_050",
        "mobilenet_v1_025": "mobilenet_v1:mobilenet_v1_025",
        "mobilenet_v2": "mobilenet_v2:mobilenet_v2",
        "mobilenet_v2_140": "mobilenet_v2:mobilenet_v2_140",
        "overfeat": "overfeat:overfeat",
        "resnet_cifar_20": "resnet_cifar:resnet_cifar_20",
        "resnet_cifar_32": "resnet_cifar:resnet_cifar_32",
        "resnet_cifar_44": "resnet_cifar:resnet_cifar_44",
        "resnet_cifar_56": "resnet_cifar:resnet_cifar_56",
        "resnet_cifar_110": "resnet_cifar:resnet_cifar_110",
        "resnet_v1_50": "resnet_v1:resnet_v1_50",
        "resnet_v1_101": "resnet_v1:resnet_v1_101",
        "resnet_v1_152": "resnet_v1:resnet_v1_152",
        "resnet_v1_200": "resnet_v1:resnet_v1_200",
        "resnet_v2_50": "resnet_v2:resnet_v2_50",
        "resnet_v2_101": "resnet_v2:resnet_v2_101",
        "resnet_v2_152": "resnet_v2:resnet_v2_152",
        "resnet_v2_200": "resnet_v2:resnet_v2_200",
        "vgg_a": "vgg:vgg_a",
        "vgg_16": "vgg:vgg_16",
        "vgg_19": "vgg:vgg_19",
    },
    "model",
)

# TF-Slim's train_image_classifier.py weights the auxiliary head's cross-entropy by 0.4.
AUX_LOSS_WEIGHT = 0.4
_KERNELS = ("kernel", "depthwise_kernel", "pointwise_kernel")


def get_network_fn(name: str) -> Callable[..., "keras.Model"]:
    """Returns the builder of network ``name``.

    Raises:
      KubeslimError: ``name`` is not a registered network.
    """
    return NETS.get_entry(name)


def build_network(
    name: str,
    num_classes: int,
    *,
    image_size: int | None = None,
    channels: int = 3,
    weight_decay: float = 0.0,
    spatial_squeeze: bool = True,
) -> "keras.Model":
    """Builds network ``name`` with TF-Slim's weight decay on every convolution and dense
    kernel (an L2 loss of ``weight_decay * sum(w**2) / 2`` each). Without
    ``spatial_squeeze`` the logits keep TF-Slim's spatial axes (``spatial_logits``)."""
    import keras

    net_fn = get_network_fn(name)
    model = net_fn(
        num_classes, image_size=image_size or net_fn.default_image_size, channels=channels
    )
    if weight_decay:
        regularizer = keras.regularizers.L2(weight_decay / 2)
        for layer in model.layers:
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                continue  # MobileNet's arg scopes leave depthwise kernels undecayed
            for attr in _KERNELS:
                if getattr(layer, attr, None) is not None:
                    getattr(layer, attr).regularizer = regularizer
    return model if spatial_squeeze else spatial_logits(model)


def spatial_logits(model: "keras.Model") -> "keras.Model":
    """``model`` with TF-Slim's ``spatial_squeeze=False`` logits (its auxiliary logits too):
    the map of logits of a fully convolutional head (AlexNet, OverFeat, VGG), [batch, height,
    width, classes], which is [batch, 1, 1, classes] at the default input size and larger on
    larger inputs, where the squeezed model averages it; otherwise [batch, 1, 1, classes]
    (the features, [batch, 1, 1, depth], with ``num_classes`` 0)."""
    import keras

    from kubeslim.components.nets.slim_ops import AVERAGED_LOGITS, AuxLogitsJoin, join_aux_logits

    def unsqueeze(logits: "keras.KerasTensor") -> "keras.KerasTensor":
        layer = logits._keras_history.operation
        if layer.name == AVERAGED_LOGITS:
            return layer.input
        return keras.layers.Reshape((1, 1, logits.shape[-1]), name=f"{layer.name}.spatial")(logits)

    join = model.output._keras_history.operation
    if isinstance(join, AuxLogitsJoin):
        output = join_aux_logits(*(unsqueeze(logits) for logits in join.input))
    else:
        output = unsqueeze(model.output)
    return keras.Model(model.input, output, name=model.name)


def aux_logits(model: "keras.Model") -> "keras.KerasTensor | None":
    """The output of ``model``'s auxiliary head (Inception V3, V4, Inception-ResNet-v2), which
    training adds to the loss as TF-Slim did; None for a net without one."""
    from kubeslim.components.nets.slim_ops import AuxLogitsJoin

    for layer in model.layers:
        if isinstance(layer, AuxLogitsJoin):
            return layer.input[1]
    return None


def aux_head_layers(model: "keras.Model") -> set[str]:
    """Names of the layers only the auxiliary head uses (none for a net without one)."""
    import keras

    if aux_logits(model) is None:
        return set()
    logits = model.output._keras_history.operation.input[0]
    return {layer.name for layer in model.layers} - {
        layer.name for layer in keras.Model(model.input, logits).layers
    }


def end_points(model: "keras.Model") -> dict[str, "keras.KerasTensor"]:
    """TF-Slim's ``end_points`` of ``model``, without the net's own scope that ResNet and VGG
    prefix theirs with: each top-level block's output by its scope (``Conv2d_1a_3x3``,
    ``Mixed_5b``, ``block1``, ``pool5``...), ``AuxLogits`` where there is an auxiliary head,
    ``PreLogits`` (the pooled features the logits read) and ``Logits``, and the end points a
    net names otherwise (``slim_ops.EndPoint``: MobileNet V2's ``layer_3/output``)."""
    from keras import layers

    from kubeslim.components.nets.slim_ops import AuxLogitsJoin, EndPoint

    logits = model.output
    if isinstance(join := logits._keras_history.operation, AuxLogitsJoin):
        logits = join.input[0]
    points = {}
    for layer in model.layers:
        if isinstance(layer, EndPoint):
            points[layer.name.replace(".", "/")] = layer.output
        elif not isinstance(layer, layers.InputLayer | layers.Dropout | AuxLogitsJoin):
            points[layer.name.split(".")[0]] = layer.output
    points = {name: tensor for name, tensor in points.items() if tensor is not logits}
    if isinstance(head := logits._keras_history.operation, layers.Dense):
        points["PreLogits"] = head.input
    points["Logits"] = logits
    return points


def end_points_model(model: "keras.Model") -> "keras.Model":
    """A model from ``model``'s input to its ``end_points`` and ``Predictions`` (the softmax
    of the logits), sharing its layers: TF-Slim's ``logits, end_points = net(images)``."""
    import keras

    points = end_points(model)
    predictions = keras.layers.Softmax(name="Predictions")(points["Logits"])
    return keras.Model(model.input, {**points, "Predictions": predictions}, name=model.name)


def layer_scope(model: "keras.Model", layer: "keras.layers.Layer") -> str:
    """The TF-Slim scope of ``layer``: ``Mixed_5b.Branch_0`` in ``InceptionV4`` is
    ``InceptionV4/Mixed_5b/Branch_0``."""
    return f"{model.name}/{layer.name.replace('.', '/')}"


def in_scopes(scope: str, scopes: Iterable[str]) -> bool:
    """Whether ``scope`` is one of ``scopes`` or inside one of them."""
    return any(scope == s or scope.startswith(s.rstrip("/") + "/") for s in scopes)
