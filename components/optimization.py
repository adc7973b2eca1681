"""Optimizers and learning-rate schedules by TF-Slim's flag names
(``_configure_optimizer`` and ``_configure_learning_rate`` of ``train_image_classifier.py``)."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubeslim.errors import KubeslimError

if TYPE_CHECKING:  # keras loads only when an optimizer is made, so `--help` stays fast
    import keras

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("exponential", "fixed", "polynomial")


@dataclass(frozen=True)
class OptimizerOptions:
    """TF-Slim's optimizer and learning-rate flags; ``opt_epsilon=None`` keeps Keras's
    epsilon (TF-Slim's default of 1.0 suits RMSProp on ImageNet, not small data sets)."""

    optimizer: str = field(
        default="adam",
        metadata={"help": "one of adadelta, adagrad, adam, ftrl, momentum, sgd, rmsprop"},
    )
    learning_rate: float = field(default=1e-3, metadata={"help": "initial learning rate"})
    learning_rate_decay_type: str = field(
        default="fixed", metadata={"help": "fixed, exponential or polynomial"}
    )
    learning_rate_decay_factor: float = field(
        default=0.94, metadata={"help": "exponential decay factor"}
    )
    num_epochs_per_decay: float = field(
        default=2.0,
        metadata={"help": "epochs between exponential decays; the length of the polynomial decay"},
    )
    end_learning_rate: float = field(default=1e-4, metadata={"help": "where polynomial decay ends"})
    opt_epsilon: float | None = field(
        default=None,
        metadata={"help": "epsilon of adadelta, adagrad, adam and rmsprop; None keeps Keras's"},
    )
    adadelta_rho: float = field(default=0.95, metadata={"help": "adadelta decay rate"})
    adagrad_initial_accumulator_value: float = field(
        default=0.1, metadata={"help": "adagrad starting accumulator"}
    )
    adam_beta1: float = field(default=0.9, metadata={"help": "adam first-moment decay"})
    adam_beta2: float = field(default=0.999, metadata={"help": "adam second-moment decay"})
    ftrl_learning_rate_power: float = field(
        default=-0.5, metadata={"help": "ftrl learning-rate power"}
    )
    ftrl_initial_accumulator_value: float = field(
        default=0.1, metadata={"help": "ftrl starting accumulator"}
    )
    ftrl_l1: float = field(default=0.0, metadata={"help": "ftrl L1 strength"})
    ftrl_l2: float = field(default=0.0, metadata={"help": "ftrl L2 strength"})
    momentum: float = field(default=0.9, metadata={"help": "momentum of the momentum optimizer"})
    rmsprop_momentum: float = field(default=0.9, metadata={"help": "rmsprop momentum"})
    rmsprop_decay: float = field(default=0.9, metadata={"help": "rmsprop decay (rho)"})
    moving_average_decay: float | None = field(
        default=None,
        metadata={
            "help": "keep moving averages of the weights with this decay, for evaluation and export"
        },
    )

    def check(self) -> None:
        """Raises KubeslimError naming the first bad flag."""
        if self.optimizer not in OPTIMIZERS:
            raise KubeslimError(
                f"--optimizer {self.optimizer!r} unknown; known: {', '.join(OPTIMIZERS)}"
            )
        if self.learning_rate_decay_type not in DECAY_TYPES:
            raise KubeslimError(
                f"--learning_rate_decay_type {self.learning_rate_decay_type!r} unknown; "
                f"known: {', '.join(DECAY_TYPES)}"
            )
        if self.learning_rate <= 0:
            raise KubeslimError(f"--learning_rate must be positive, got {self.learning_rate}")
        if self.moving_average_decay is not None and not 0 < self.moving_average_decay < 1:
            raise KubeslimError(
                f"--moving_average_decay must be in (0, 1), got {self.moving_average_decay}"
            )


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

    options.check()
    lr = learning_rate_schedule(options, steps_per_epoch)
    common = {"learning_rate": lr}
    if options.moving_average_decay is not None:
        common.update(use_ema=True, ema_momentum=options.moving_average_decay)
    eps = {} if options.opt_epsilon is None else {"epsilon": options.opt_epsilon}
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
