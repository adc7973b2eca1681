"""Keras Applications' weight files load into the TF-Slim-named nets: each file is written by
Keras's own legacy HDF5 writer (the layout of the files Keras Applications publishes) from
Keras's own model, with random weights and batch norm statistics, and kubeslim's net must then
compute Keras's logits."""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from kubeslim.components import fine_tune
from kubeslim.components.nets import nets_factory
from kubeslim.errors import KubeslimError

# kubeslim's net -> Keras Applications' builder, its arguments, a small input size.
KERAS_NETS = {
    "mobilenet_v1_025": (keras.applications.MobileNet, {"alpha": 0.25}, 64),
    "mobilenet_v2_140": (keras.applications.MobileNetV2, {"alpha": 1.4}, 64),
    "inception_v3": (keras.applications.InceptionV3, {}, 75),
    "inception_resnet_v2": (keras.applications.InceptionResNetV2, {}, 75),
    "vgg_16": (keras.applications.VGG16, {}, 32),
}


def _keras_file(name: str, path, include_top: bool = True) -> tuple[keras.Model, str]:
    """Keras's ``name`` with random weights (no batch norm an identity), saved as Keras
    Applications publishes its weights."""
    builder, kwargs, size = KERAS_NETS[name]
    model = builder(
        weights=None,
        input_shape=(size, size, 3),
        include_top=include_top,
        classifier_activation=None,
        **kwargs,
    )
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, w.shape)
                    if w.name in ("gamma", "moving_variance")
                    else rng.normal(0, 0.1, w.shape)
                    for w in layer.weights
                ]
            )
        elif len(layer.weights) == 2:  # a kernel and a bias
            layer.set_weights(
                [layer.weights[0].numpy(), rng.normal(0, 0.1, layer.weights[1].shape)]
            )
    file = str(path / f"{name}_weights_tf_dim_ordering_tf_kernels.h5")
    with h5py.File(file, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return model, file


@pytest.mark.parametrize("name", KERAS_NETS)
def test_keras_applications_weights_give_keras_logits(name, tmp_path):
    keras_model, file = _keras_file(name, tmp_path)
    size = KERAS_NETS[name][2]
    images = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
    expected = keras_model(images, training=False).numpy()

    model = nets_factory.build_network(name, 1000, image_size=size)
    restored = fine_tune.restore_checkpoint(model, file)
    aux = {layer.name for layer in model.layers if layer.weights} & nets_factory.aux_head_layers(
        model
    )
    assert restored == len(model.weights) - sum(
        len(model.get_layer(layer).weights) for layer in aux
    )
    logits = model(images, training=False).numpy()
    assert np.abs(logits - expected).max() <= 1e-5 * np.abs(expected).max()


def test_fine_tuning_from_keras_weights_replaces_the_head(tmp_path):
    _, file = _keras_file("mobilenet_v1_025", tmp_path)
    model = nets_factory.build_network("mobilenet_v1_025", 5, image_size=64)
    with pytest.raises(KubeslimError, match=r"MobilenetV1/Logits/Conv2d_1c_1x1/kernel: model"):
        fine_tune.restore_for_fine_tuning(model, file)
    scopes = ["MobilenetV1/Logits"]
    assert fine_tune.restore_for_fine_tuning(model, file, scopes) == len(model.weights) - 2

    (tmp_path / "notop").mkdir()
    _, notop = _keras_file("mobilenet_v1_025", tmp_path / "notop", include_top=False)
    with pytest.raises(KubeslimError, match="lacks 2 of the 137 variables"):
        fine_tune.restore_for_fine_tuning(model, notop)
    assert fine_tune.restore_for_fine_tuning(model, notop, scopes) == len(model.weights) - 2


def test_another_nets_keras_weights_are_refused_by_name(tmp_path):
    _, file = _keras_file("mobilenet_v2_140", tmp_path)
    model = nets_factory.build_network("mobilenet_v1_025", 1000, image_size=64)
    with pytest.raises(KubeslimError, match="not Keras Applications' weights of this network"):
        fine_tune.restore_checkpoint(model, file)
