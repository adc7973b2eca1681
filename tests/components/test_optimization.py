"""Optimizers and learning-rate schedules by TF-Slim's flag names."""

import keras
import pytest

from kubeslim.components.optimization import learning_rate_schedule, make_optimizer
from kubeslim.components.options import OPTIMIZERS, OptimizerOptions
from kubeslim.errors import KubeslimError

KERAS_CLASS = {
    "adadelta": keras.optimizers.Adadelta,
    "adagrad": keras.optimizers.Adagrad,
    "adam": keras.optimizers.Adam,
    "ftrl": keras.optimizers.Ftrl,
    "momentum": keras.optimizers.SGD,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_tf_slim_optimizer_is_made_with_its_flags(name):
    opt = make_optimizer(
        OptimizerOptions(optimizer=name, momentum=0.7, rmsprop_decay=0.8, adam_beta1=0.5), 10
    )
    assert type(opt) is KERAS_CLASS[name]
    expected = {"momentum": ("momentum", 0.7), "rmsprop": ("rho", 0.8), "adam": ("beta_1", 0.5)}
    if name in expected:
        attr, value = expected[name]
        assert getattr(opt, attr) == pytest.approx(value)


def test_exponential_decay_is_a_staircase_per_num_epochs_per_decay():
    options = OptimizerOptions(
        learning_rate=0.1,
        learning_rate_decay_type="exponential",
        learning_rate_decay_factor=0.5,
        num_epochs_per_decay=2,
    )
    schedule = learning_rate_schedule(options, steps_per_epoch=10)
    assert [float(schedule(s)) for s in (0, 19, 20, 40)] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_polynomial_decay_ends_at_end_learning_rate():
    options = OptimizerOptions(
        learning_rate=0.1,
        learning_rate_decay_type="polynomial",
        end_learning_rate=0.01,
        num_epochs_per_decay=1,
    )
    schedule = learning_rate_schedule(options, steps_per_epoch=10)
    assert [float(schedule(s)) for s in (0, 5, 10, 50)] == pytest.approx([0.1, 0.055, 0.01, 0.01])


def test_fixed_rate_and_moving_averages():
    opt = make_optimizer(OptimizerOptions(moving_average_decay=0.99), 10)
    assert opt.use_ema and opt.ema_momentum == pytest.approx(0.99)
    assert float(opt.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "options, flag",
    [
        ({"optimizer": "lamb"}, "--optimizer 'lamb'"),
        ({"learning_rate_decay_type": "cosine"}, "--learning_rate_decay_type 'cosine'"),
        ({"learning_rate": 0.0}, "--learning_rate"),
        ({"moving_average_decay": 1.5}, "--moving_average_decay"),
    ],
)
def test_bad_flags_are_named(options, flag):
    with pytest.raises(KubeslimError, match=flag):
        make_optimizer(OptimizerOptions(**options), 10)
