"""Every net that the ``tf-slim`` package ships, checked against TF-Slim's own graph: a
random-weight checkpoint saved by TF-Slim restores into kubeslim's net through
``--checkpoint_path``'s code path with every variable matched both ways, and the logits and
the end point of every top-level block (Inception V3's AuxLogits too) equal TF-Slim's. The
graphs are saved by a separate process from the start of the session (``conftest``)."""

import gc

import keras
import numpy as np
import pytest

from kubeslim.components import fine_tune
from kubeslim.components.nets import nets_factory

from ...tf_slim_graphs import SHIPPED, run_tf_slim_checkpoint

# TF-Slim's end points that are not a block's output: its pooling and flattening inside the
# head, the logits under their scope's own name, and the predictions (ours are "Logits" and
# "Predictions" for every net).
NOT_BLOCKS = {"AvgPool_0a_7x7", "AvgPool_1a_8x8", "global_pool", "logits", "predictions", "fc8"}
# Nets also compared with TF-Slim's spatial_squeeze=False, at these input sizes: AlexNet's
# fully convolutional head gives a 3x3 map of logits at 288, Inception V1's [N, 1, 1, C].
UNSQUEEZED = {"alexnet_v2": 288, "inception_v1": 224}


def assert_equal_to_their_scale(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Equal within 1e-4 of the logits' scale (random weights make that scale arbitrary).

    Returns:
      The largest difference relative to that scale.
    """
    scale = float(np.max(np.abs(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * scale)
    return float(np.max(np.abs(ours - theirs))) / scale


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_tf_slim_checkpoint_restores_fully_and_gives_tf_slim_logits(
    name, tf_slim_graphs, record_property
):
    image_size, classes = SHIPPED[name]
    model = nets_factory.build_network(name, classes, image_size=image_size)
    slim = tf_slim_graphs.get(name)

    restored = fine_tune.restore_for_fine_tuning(model, slim.checkpoint)

    assert restored == len(model.weights) == len(slim.variables)
    points = nets_factory.end_points_model(model)(slim.images, training=False)
    record_property(
        "max_relative_logit_difference", assert_equal_to_their_scale(points["Logits"], slim.logits)
    )
    # TF-Slim's end points of the net's top-level blocks (AuxLogits included), by name.
    theirs = slim.end_points
    blocks = set(theirs) - NOT_BLOCKS
    assert blocks <= set(points), f"end points TF-Slim has: {sorted(blocks - set(points))}"
    for key in blocks:
        ours = points[key].numpy()
        assert_equal_to_their_scale(ours, theirs[key].reshape(ours.shape))
    if name in UNSQUEEZED:
        _assert_unsqueezed_logits_are_tf_slims(name, classes, UNSQUEEZED[name], slim.checkpoint)
    tf_slim_graphs.release(name)
    del model, points
    keras.backend.clear_session()
    gc.collect()


def _assert_unsqueezed_logits_are_tf_slims(name, classes, image_size, checkpoint):
    images = np.random.default_rng(2).uniform(-1, 1, (2, image_size, image_size, 3))
    images = images.astype(np.float32)
    theirs = run_tf_slim_checkpoint(name, classes, checkpoint, images, spatial_squeeze=False)
    model = nets_factory.build_network(name, classes, image_size=image_size, spatial_squeeze=False)
    fine_tune.restore_checkpoint(model, checkpoint)
    ours = model(images, training=False).numpy()
    assert ours.shape == theirs.shape
    assert_equal_to_their_scale(ours, theirs)


def test_unsqueezed_auxiliary_logits_keep_their_axes():
    model = nets_factory.build_network("inception_v3", 5, image_size=75, spatial_squeeze=False)
    assert tuple(model.output.shape) == (None, 1, 1, 5)
    assert tuple(nets_factory.aux_logits(model).shape) == (None, 1, 1, 5)
