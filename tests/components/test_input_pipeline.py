import numpy as np

from kubeslim.components.model_dir import ModelConfig


def _lenet_config() -> ModelConfig:
    return ModelConfig("lenet", "lenet", 28, 1, 10, tuple("0123456789"), "digits")


def test_eval_batches_cover_the_split_once_in_order(digits_dir):
    config = _lenet_config()
    ds = config.make_dataset(digits_dir, "test", batch_size=100, is_training=False)
    batches = list(ds)
    assert [len(labels) for _, labels in batches] == [100, 100, 100, 59]
    images = np.concatenate([images.numpy() for images, _ in batches])
    assert images.shape == (359, 28, 28, 1)
    assert images.min() == -1.0 and images.max() < 1.0
    again = np.concatenate([labels.numpy() for _, labels in ds])
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), again)


def test_training_batches_repeat_and_reshuffle(digits_dir):
    config = _lenet_config()
    ds = config.make_dataset(digits_dir, "train", batch_size=1438, is_training=True, seed=1)
    first, second = [labels.numpy() for _, labels in ds.take(2)]
    assert len(first) == len(second) == 1438
    assert np.bincount(first).tolist() == np.bincount(second).tolist()
    assert not np.array_equal(first, second)
