"""Every registered net builds for its default size and gives logits of the right shape."""

import numpy as np
import pytest

from kubeslim.components.nets import nets_factory
from kubeslim.components.preprocessing import preprocessing_factory
from kubeslim.errors import KubeslimError

# Parameter counts for 10 classes and RGB input, from the layer shapes of TF-Slim's definitions.
PARAMETERS_10_CLASSES = {
    # conv1 5*5*3*64+64, conv2 5*5*64*64+64, fc3 8*8*64*384+384, fc4 384*192+192, 192*10+10
    "cifarnet": 4_864 + 102_464 + 1_573_248 + 73_920 + 1_930,
    # conv1 5*5*3*32+32, conv2 5*5*32*64+64, fc3 7*7*64*1024+1024, fc4 1024*10+10
    "lenet": 2_432 + 51_264 + 3_212_288 + 10_250,
}


@pytest.mark.parametrize("name", sorted(nets_factory.NETS))
def test_net_builds_gives_logits_and_names_its_preprocessing(name):
    net_fn = nets_factory.get_network_fn(name)
    size = net_fn.default_image_size
    model = net_fn(10, image_size=size, channels=3)
    logits = model(np.zeros((2, size, size, 3), np.float32), training=False)
    assert tuple(logits.shape) == (2, 10)
    assert model.count_params() == PARAMETERS_10_CLASSES[name]
    assert net_fn.preprocessing_name in preprocessing_factory.PREPROCESSING


def test_unknown_net_is_refused_with_the_known_names():
    with pytest.raises(KubeslimError, match="unknown model 'lenet5'; known: cifarnet, lenet"):
        nets_factory.get_network_fn("lenet5")
