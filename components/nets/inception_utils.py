"""Inception blocks described as data: each branch is a list of ops applied in turn, and the
branches are concatenated, as in TF-Slim's ``Mixed_*`` scopes."""

from collections.abc import Sequence
from dataclasses import dataclass

import keras

from kubeslim.components.nets.slim_ops import (
    BatchNorm,
    avg_pool,
    concat,
    conv2d,
    max_pool,
    scope,
)

INCEPTION_BATCH_NORM = BatchNorm(decay=0.9997, epsilon=0.001, scale=False)


@dataclass(frozen=True)
class Conv:
    """``slim.conv2d`` with batch norm and ReLU."""

    filters: int
    kernel: int | tuple[int, int]
    name: str
    stride: int = 1
    padding: str = "same"


@dataclass(frozen=True)
class Pool:
    """``slim.max_pool2d`` or ``slim.avg_pool2d``."""

    kind: str  # "max" or "avg"
    size: int
    name: str
    stride: int = 1
    padding: str = "same"


@dataclass(frozen=True)
class Fork:
    """Convolutions applied side by side to the same input and concatenated (Inception-C)."""

    convs: tuple[Conv, ...]


Op = Conv | Pool | Fork


def apply(x: keras.KerasTensor, op: Op, prefix: str, batch_norm: BatchNorm) -> keras.KerasTensor:
    """Applies one op under the scope ``prefix``."""
    if isinstance(op, Conv):
        return conv2d(
            x,
            op.filters,
            op.kernel,
            scope(prefix, op.name),
            stride=op.stride,
            padding=op.padding,
            batch_norm=batch_norm,
        )
    if isinstance(op, Pool):
        pool = max_pool if op.kind == "max" else avg_pool
        return pool(x, op.size, scope(prefix, op.name), stride=op.stride, padding=op.padding)
    return concat([apply(x, conv, prefix, batch_norm) for conv in op.convs], prefix + ".fork")


def block(
    x: keras.KerasTensor,
    name: str,
    branches: Sequence[Sequence[Op]],
    batch_norm: BatchNorm = INCEPTION_BATCH_NORM,
) -> keras.KerasTensor:
    """An Inception block: ``Branch_i`` applies ``branches[i]``; the outputs are concatenated."""
    outputs = []
    for i, ops in enumerate(branches):
        branch = x
        for op in ops:
            branch = apply(branch, op, scope(name, f"Branch_{i}"), batch_norm)
        outputs.append(branch)
    return concat(outputs, name)
