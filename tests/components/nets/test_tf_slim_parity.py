"""Every net that the ``tf-slim`` package ships, checked against TF-Slim's own graph: a
random-weight checkpoint saved by TF-Slim restores into kubeslim's net through
``--checkpoint_path``'s code path with every variable matched both ways, and the logits
(and Inception V3's auxiliary logits) equal TF-Slim's."""

import gc

import keras
import numpy as np
import pytest

from kubeslim.components import fine_tune
from kubeslim.components.nets import nets_factory

from ...tf_slim_graphs import save_tf_slim_checkpoint

# name: (image size, classes). VGG, AlexNet and OverFeat run at their default sizes (their
# fc6 kernels are fixed); the ResNets are fully convolutional, so a small input is enough.
SHIPPED = {
    "alexnet_v2": (224, 1000),
    "overfeat": (231, 1000),
    "vgg_a": (224, 1000),
    "vgg_16": (224, 1000),
    "vgg_19": (224, 1000),
    "inception_v1": (224, 1001),
    "inception_v2": (224, 1001),
    "inception_v3": (299, 1001),
    **{f"resnet_v1_{depth}": (64, 1000) for depth in (50, 101, 152, 200)},
    **{f"resnet_v2_{depth}": (64, 1001) for depth in (50, 101, 152, 200)},
}


def assert_logits_equal(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Equal within 1e-4 of the logits' scale (random weights make that scale arbitrary).

    Returns:
      The largest difference relative to that scale.
    """
    scale = float(np.max(np.abs(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * scale)
    return float(np.max(np.abs(ours - theirs))) / scale


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_tf_slim_checkpoint_restores_fully_and_gives_tf_slim_logits(
    name, tmp_path, record_property
):
    image_size, classes = SHIPPED[name]
    aux = ("AuxLogits",) if name == "inception_v3" else ()
    slim = save_tf_slim_checkpoint(name, classes, image_size, tmp_path, end_points=aux)
    model = nets_factory.build_network(name, classes, image_size=image_size)

    restored = fine_tune.restore_for_fine_tuning(model, slim.checkpoint)

    assert restored == len(model.weights) == len(slim.variables)
    ours = model(slim.images, training=False).numpy()
    record_property("max_relative_logit_difference", assert_logits_equal(ours, slim.logits))
    if aux:
        aux_model = keras.Model(model.input, nets_factory.aux_logits(model))
        aux_logits = aux_model(slim.images, training=False).numpy()
        assert_logits_equal(aux_logits, slim.end_points["AuxLogits"])
    del model
    keras.backend.clear_session()
    gc.collect()
