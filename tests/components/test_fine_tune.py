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


@pytest.fixture(scope="module")
def inception_v3_checkpoint(tmp_path_factory) -> str:
    """A TF-Slim Inception V3 checkpoint of TF-Slim's own graph: 1,001 classes, AuxLogits."""
    from ..tf_slim_graphs import save_tf_slim_checkpoint

    directory = tmp_path_factory.mktemp("inception_v3")
    return save_tf_slim_checkpoint("inception_v3", 1001, 299, directory).checkpoint


def test_tf_slims_head_of_1001_classes_is_named_with_its_own_shape(
    photos_dataset, inception_v3_checkpoint, tmp_path
):
    options = TrainOptions(
        model_name="inception_v3",
        image_size=139,
        batch_size=4,
        checkpoint_path=inception_v3_checkpoint,
    )
    with pytest.raises(KubeslimError) as error:
        train(photos_dataset, tmp_path / "ft", options)
    message = str(error.value)
    assert (
        "InceptionV3/Logits/Conv2d_1c_1x1/kernel: model [2048, 3], checkpoint [1, 1, 2048, 1001]"
        in message
    )
    assert "--checkpoint_exclude_scopes=InceptionV3/AuxLogits,InceptionV3/Logits" in message
    assert not (tmp_path / "ft").exists()


def test_tf_slims_fine_tuning_recipe_runs_as_written(
    photos_dataset, inception_v3_checkpoint, tmp_path
):
    """TF-Slim's README: Inception V3 on the flowers, the new heads first, then everything."""
    import tensorflow as tf

    from kubeslim.components.fine_tune import tf_slim_variable_names

    heads = "InceptionV3/Logits,InceptionV3/AuxLogits"
    common = {"model_name": "inception_v3", "image_size": 75, "batch_size": 4, "max_steps": 1}
    train(
        photos_dataset,
        tmp_path / "heads",
        TrainOptions(
            **common,
            checkpoint_path=inception_v3_checkpoint,
            checkpoint_exclude_scopes=heads,
            trainable_scopes=heads,
        ),
    )
    heads_only, _, _ = load_model(tmp_path / "heads")
    reader = tf.train.load_checkpoint(inception_v3_checkpoint)
    for name, variable in tf_slim_variable_names(heads_only).items():
        if "Logits" not in name:  # the body: TF-Slim's values, untouched by training
            np.testing.assert_array_equal(variable.numpy(), reader.get_tensor(name), err_msg=name)
    assert heads_only.get_layer("Logits.Conv2d_1c_1x1").kernel.shape == (2048, 3)

    train(
        photos_dataset,
        tmp_path / "all",
        TrainOptions(**common, checkpoint_path=str(tmp_path / "heads")),
    )
    everything, _, _ = load_model(tmp_path / "all")
    first = heads_only.get_layer("Conv2d_1a_3x3").kernel.numpy()
    assert not np.array_equal(everything.get_layer("Conv2d_1a_3x3").kernel.numpy(), first)


def test_a_checkpoint_path_is_read_through_tf_io_gfile(inception_v3_checkpoint):
    """A URI TensorFlow reads (``gs://``; here TF's in-memory ``ram://`` file system) is not
    a local path: it reaches the checkpoint reader whole."""
    import tensorflow as tf

    from kubeslim.components.fine_tune import restore_checkpoint
    from kubeslim.components.nets import nets_factory

    for path in tf.io.gfile.glob(inception_v3_checkpoint + ".*"):
        tf.io.gfile.copy(path, "ram://bucket/model.ckpt" + path[len(inception_v3_checkpoint) :])
    model = nets_factory.build_network("inception_v3", 1001)
    assert restore_checkpoint(model, "ram://bucket/model.ckpt") == len(model.weights)
