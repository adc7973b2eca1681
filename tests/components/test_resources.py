"""A batch that cannot fit is refused before training, with the estimate."""

import pytest

from kubeslim.components.nets import nets_factory
from kubeslim.components.resources import (
    activations_per_example,
    available_memory_bytes,
    check_batch_fits,
)
from kubeslim.errors import KubeslimError


def test_activations_are_counted_from_every_layer_nested_models_included():
    lenet = nets_factory.build_network("lenet", 10)  # three channels by default
    # the input 28x28x3, conv1 28x28x32, pool1 14x14x32, conv2 14x14x64, pool2 7x7x64,
    # flatten, fc3, dropout, fc4: TF-Slim's LeNet, counted by hand.
    by_hand = 2352 + 25088 + 6272 + 12544 + 3136 + 3136 + 1024 + 1024 + 10
    assert activations_per_example(lenet) == by_hand
    nested = nets_factory.build_network("mobilenet_v1_025", 10, image_size=96)
    assert activations_per_example(nested) > 96 * 96 * 8  # its body is a model inside


def test_a_batch_beyond_memory_is_refused_with_the_estimate():
    lenet = nets_factory.build_network("lenet", 10)
    check_batch_fits(lenet, 1024, "float32")
    available = available_memory_bytes()
    batch = int(available / (4 * activations_per_example(lenet))) + 1
    with pytest.raises(KubeslimError) as error:
        check_batch_fits(lenet, batch, "float32")
    message = str(error.value)
    assert f"--batch_size {batch}: training LeNet needs about" in message
    assert "GiB" in message and "a batch of at most about" in message
