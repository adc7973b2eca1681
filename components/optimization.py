"""Optimizers and learning-rate schedules from TF-Slim's flags (``OptimizerOptions``)
(``_configure_optimizer`` and ``_configure_learning_rate`` of ``train_image_classifier.py``)."""

from typing import TYPE_CHECKING

from kubeslim.components.options import OptimizerOptions

if TYPE_CHECKING:  # keras loads only when an optimizer is made, so `--help` stays fast
    import keras


def learning_rate_schedule(
    options: OptimizerOptions, steps_per_epoch: int
) -> "float | keras.optimizers.schedules.LearningRateSchedule":
    """The learning rate as a function of the global step."""
    import keras

    decay_steps = max(1, int(steps_per_epoch * options.num_epochs_per_decay))
    if options.learning_rate_decay_type == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            options.learning_rate,
            decay_steps,
            options.learning_rate_decay_factor,
            staircase=True,
        )
    if options.learning_rate_decay_type == "polynomial":
        return keras.optimizers.schedules.PolynomialDecay(
            options.learning_rate, decay_steps, options.end_learning_rate, power=1.0
        )
    return options.learning_rate


def make_optimizer(options: OptimizerOptions, steps_per_epoch: int) -> "keras.optimizers.Optimizer":
    """The configured optimizer; with ``moving_average_decay`` it also keeps exponential
    moving averages of the weights, which evaluation and export use."""
    import keras

    lr = learning_rate_schedule(options, steps_per_epoch)
    common = {"learning_rate": lr}
    if options.moving_average_decay:
        common.update(use_ema=True, ema_momentum=options.moving_average_decay)
    eps = {"epsilon": options.opt_epsilon} if options.opt_epsilon else {}
    name = options.optimizer
    if name == "adadelta":
        return keras.optimizers.Adadelta(rho=options.adadelta_rho, **eps, **common)
    if name == "adagrad":
        return keras.optimizers.Adagrad(
            initial_accumulator_value=options.adagrad_initial_accumulator_value, **eps, **common
        )
    if name == "adam":
        return keras.optimizers.Adam(
            beta_1=options.adam_beta1, beta_2=options.adam_beta2, **eps, **common
        )
    if name == "ftrl":
        return keras.optimizers.Ftrl(
            learning_rate_power=options.ftrl_learning_rate_power,
            initial_accumulator_value=options.ftrl_initial_accumulator_value,
            l1_regularization_strength=options.ftrl_l1,
            l2_regularization_strength=options.ftrl_l2,
            **common,
        )
    if name == "momentum":
        return keras.optimizers.SGD(momentum=options.momentum, **common)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(
            rho=options.rmsprop_decay, momentum=options.rmsprop_momentum, **eps, **common
        )
    return keras.optimizers.SGD(**common)
