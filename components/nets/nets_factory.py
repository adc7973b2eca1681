"""Maps TF-Slim network names to Keras model builders.

Each builder carries its metadata as TF-Slim's did: ``default_image_size`` and the
``preprocessing_name`` that ``preprocessing_factory`` knows it by.
"""

from collections.abc import Callable

import keras

from kubeslim.components.nets import cifarnet, lenet
from kubeslim.errors import KubeslimError

NETS: dict[str, Callable[..., keras.Model]] = {
    "cifarnet": cifarnet.cifarnet,
    "lenet": lenet.lenet,
}


def get_network_fn(name: str) -> Callable[..., keras.Model]:
    """Returns the builder of network ``name``.

    Raises:
      KubeslimError: ``name`` is not a registered network.
    """
    if name not in NETS:
        raise KubeslimError(f"unknown model {name!r}; known: {', '.join(sorted(NETS))}")
    return NETS[name]
