"""Fine-tuning as TF-Slim did it: restore outside the excluded scopes at step 0, train only
the trainable scopes, and explain a head that does not fit."""

import numpy as np
import pytest

from kubeslim.components.model_dir import load_model
from kubeslim.components.options import TrainOptions
from kubeslim.components.train import train
from kubeslim.errors import KubeslimError


def _layer(model_dir, name):
    model, _, _ = load_model(model_dir)
    return model.get_layer(name)


def test_a_head_that_does_not_fit_names_the_variables_the_scope_and_labels_offset(
    digits_dir, model_dir, tmp_path
):
    with pytest.raises(KubeslimError) as error:
        train(
            digits_dir,
            tmp_path / "ft",
            TrainOptions(num_epochs=1, labels_offset=1, checkpoint_path=str(model_dir)),
        )
    message = str(error.value)
    assert "LeNet/fc4/kernel: model [1024, 9], checkpoint [1024, 10]" in message
    assert "LeNet/fc4/bias: model [9], checkpoint [10]" in message
    assert "--checkpoint_exclude_scopes=LeNet/fc4" in message
    assert "--labels_offset" in message and "background class" in message
    assert "conv1" not in message


@pytest.mark.parametrize("source", ["tf_checkpoint", "keras_weights"])
def test_fine_tuning_restores_all_but_the_excluded_head_and_trains_only_the_scopes(
    digits_dir, model_dir, tmp_path, source
):
    checkpoint = model_dir
    if source == "keras_weights":
        model, _, _ = load_model(model_dir)
        checkpoint = tmp_path / "lenet.weights.h5"
        model.save_weights(checkpoint)
    train(
        digits_dir,
        tmp_path / "ft",
        TrainOptions(
            num_epochs=1,
            batch_size=128,
            labels_offset=1,
            checkpoint_path=str(checkpoint),
            checkpoint_exclude_scopes="LeNet/fc4",
            trainable_scopes="LeNet/fc3,LeNet/fc4",
        ),
    )
    for frozen in ("conv1", "conv2"):  # restored, then not trained
        np.testing.assert_array_equal(
            _layer(tmp_path / "ft", frozen).kernel.numpy(), _layer(model_dir, frozen).kernel.numpy()
        )
    trained = _layer(tmp_path / "ft", "fc3").kernel.numpy()
    assert not np.array_equal(trained, _layer(model_dir, "fc3").kernel.numpy())
    assert _layer(tmp_path / "ft", "fc4").kernel.shape == (1024, 9)


def test_bad_checkpoint_path_and_scopes_are_named(digits_dir, tmp_path):
    with pytest.raises(KubeslimError, match="--checkpoint_path .*nowhere"):
        train(
            digits_dir,
            tmp_path / "a",
            TrainOptions(num_epochs=1, checkpoint_path=str(tmp_path / "nowhere")),
        )
    with pytest.raises(KubeslimError, match="--trainable_scopes LeNet/conv9 match no layer"):
        train(
            digits_dir, tmp_path / "b", TrainOptions(num_epochs=1, trainable_scopes="LeNet/conv9")
        )


def _write_tf_slim_checkpoint(model, prefix, num_classes_in_head=None):
    """A name-based checkpoint as TF-Slim writes it: variables named by scope, ``weights``
    and ``biases``, logits as [1, 1, C, N] convolutions."""
    import tensorflow as tf

    from kubeslim.components.fine_tune import _SLIM_VARIABLE_NAMES
    from kubeslim.components.nets.nets_factory import layer_scope

    expected, stored = {}, {}
    for layer in model.layers:
        for variable in layer.weights:
            value = expected[variable.path] = variable.numpy()
            if layer is model.layers[-1]:  # the dense logits, a 1x1 convolution in TF-Slim
                value = value.reshape((1, 1) * (value.ndim == 2) + value.shape)
                if num_classes_in_head:
                    value = np.resize(value, value.shape[:-1] + (num_classes_in_head,))
            name = _SLIM_VARIABLE_NAMES.get(variable.name, variable.name)
            stored[f"{layer_scope(model, layer)}/{name}"] = value
    with tf.Graph().as_default():
        for name, value in stored.items():
            tf.compat.v1.Variable(value, name=name)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().save(session, str(prefix))
    return expected


def test_tf_slim_name_based_checkpoints_restore_by_scope(tmp_path):
    from kubeslim.components.fine_tune import restore_for_fine_tuning
    from kubeslim.components.nets import nets_factory

    source = nets_factory.build_network("inception_v1", 5, image_size=64)
    expected = _write_tf_slim_checkpoint(source, tmp_path / "model.ckpt")
    target = nets_factory.build_network("inception_v1", 5, image_size=64)
    assert restore_for_fine_tuning(target, tmp_path / "model.ckpt") == len(target.weights)
    for variable in target.weights:
        np.testing.assert_array_equal(variable.numpy(), expected[variable.path])


def test_tf_slim_head_of_1001_classes_is_named_with_its_own_shape(tmp_path):
    from kubeslim.components.fine_tune import restore_for_fine_tuning
    from kubeslim.components.nets import nets_factory

    source = nets_factory.build_network("inception_v1", 5, image_size=64)
    _write_tf_slim_checkpoint(source, tmp_path / "model.ckpt", num_classes_in_head=1001)
    target = nets_factory.build_network("inception_v1", 5, image_size=64)
    with pytest.raises(KubeslimError) as error:
        restore_for_fine_tuning(target, tmp_path / "model.ckpt")
    message = str(error.value)
    assert (
        "InceptionV1/Logits/Conv2d_0c_1x1/kernel: model [1024, 5], checkpoint [1, 1, 1024, 1001]"
        in message
    )
    assert "--checkpoint_exclude_scopes=InceptionV1/Logits" in message
    restore_for_fine_tuning(target, tmp_path / "model.ckpt", ["InceptionV1/Logits"])
