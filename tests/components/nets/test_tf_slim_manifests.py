"""The nets of TF-Slim's pretrained table that the ``tf-slim`` package does not ship, checked
against manifests of TF-Slim's own graphs: ``tf_slim_manifests/<net>.json`` lists every
variable (name and shape) of the net built by TF-Slim's published model code
(``research/slim/nets``, with its own arg scope, 1,001 classes, at the checkpoint's image
size) and its end points. They were generated once, in a scratch directory, from that code;
they are facts, not code. Every variable must match by name and shape (TF-Slim's 1x1
convolution logits, [1, 1, C, N], are [C, N] dense kernels here: the restore reshapes them)."""

import json
from pathlib import Path

import numpy as np
import pytest

from kubeslim.components.fine_tune import tf_slim_variable_names
from kubeslim.components.nets import nets_factory

MANIFESTS = Path(__file__).parent / "tf_slim_manifests"
# End points that are not a block's output (pooling and flattening inside the head, the
# softmax; Inception-ResNet-v2's alias of its last block17).
NOT_BLOCKS = {"AvgPool_1a", "global_pool", "PreLogitsFlatten", "Predictions", "PreAuxLogits"}


def _squeezed(shape) -> tuple[int, ...]:
    return (
        tuple(d for d in shape if d != 1)
        if len(shape) == 4 and shape[:2] == [1, 1]
        else tuple(shape)
    )


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.json")), ids=lambda p: p.stem)
def test_net_has_exactly_tf_slims_variables(path):
    manifest = json.loads(path.read_text())
    model = nets_factory.build_network(
        manifest["kubeslim_name"], manifest["num_classes"], image_size=manifest["image_size"]
    )
    ours = {name: tuple(v.shape) for name, v in tf_slim_variable_names(model).items()}
    theirs = {name: tuple(shape) for name, shape in manifest["variables"]}
    assert sorted(set(theirs) - set(ours)) == [], "TF-Slim variables the net lacks"
    assert sorted(set(ours) - set(theirs)) == [], "variables TF-Slim's net does not have"
    wrong = {
        n: (ours[n], theirs[n])
        for n in theirs
        if _squeezed(list(theirs[n])) != _squeezed(list(ours[n]))
    }
    assert wrong == {}
    size = manifest["image_size"]
    assert model(np.zeros((1, size, size, 3), np.float32)).shape == (1, manifest["num_classes"])

    points = {name: tuple(t.shape[1:]) for name, t in nets_factory.end_points(model).items()}
    blocks = {
        name: _squeezed(shape[1:])
        for name, shape in manifest["end_points"]
        if ("/" not in name or name.startswith("layer_")) and name not in NOT_BLOCKS
    }
    assert {name: _squeezed(list(points.get(name, ()))) for name in blocks} == blocks
