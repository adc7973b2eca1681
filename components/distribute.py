"""Where training runs: the distribution strategy from the environment, which process is
the chief, and the training loop for several workers.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585), so
across workers the steps run in a custom loop (``strategy.run`` and an all-reduce per step)
that drives the same Keras callbacks ``fit`` would.
"""

import json
import os
from typing import Any

import keras
import tensorflow as tf

from kubeslim.components.nets.nets_factory import AUX_LOSS_WEIGHT


def strategy_from_environment() -> tf.distribute.Strategy:
    """``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` describes several workers (as
    Kubeflow's TFJob sets it), ``MirroredStrategy`` over several local GPUs, else the
    default strategy. Call it before any TensorFlow op: collectives are set up at start."""
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if sum(len(cluster.get(kind, [])) for kind in ("chief", "worker")) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the model directory: the ``chief`` task, else worker 0."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (not has_chief and resolver.task_id == 0)


def fit_multi_worker(
    model: keras.Model,
    loss: keras.losses.Loss,
    dataset: tf.data.Dataset,
    strategy: tf.distribute.Strategy,
    *,
    batch_size: int,
    epochs: int,
    initial_epoch: int,
    steps_per_epoch: int,
    callbacks: list[keras.callbacks.Callback],
) -> dict[str, list[float]]:
    """Trains like ``model.fit`` with the compiled optimizer, ``loss`` (plus the auxiliary
    logits' loss of a ``train.training_model`` that has them) and an accuracy metric;
    ``batch_size`` is global and each worker reads its share of the batches.

    Returns:
      The per-epoch history (``loss``, ``accuracy``, and what callbacks add to the logs).
    """
    optimizer = model.optimizer
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    iterator = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))

    def replica_step(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)  # [logits, aux logits] with an aux head
            logits, *aux_logits = outputs if isinstance(outputs, list | tuple) else [outputs]
            per_example = loss.call(labels, tf.cast(logits, tf.float32))
            for aux in aux_logits:
                per_example += AUX_LOSS_WEIGHT * loss.call(labels, tf.cast(aux, tf.float32))
            step_loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
            if model.losses:
                step_loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = optimizer.scale_loss(step_loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)
        return step_loss, tf.reduce_sum(tf.cast(predictions == labels, tf.float32))

    @tf.function
    def train_step(iterator: Any) -> tuple[tf.Tensor, tf.Tensor]:
        step_loss, correct = strategy.run(replica_step, args=next(iterator))
        return (
            strategy.reduce("SUM", step_loss, axis=None),
            strategy.reduce("SUM", correct, axis=None),
        )

    callback_list = keras.callbacks.CallbackList(callbacks, model=model)
    history: dict[str, list[float]] = {}
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        total_loss = total_correct = 0.0
        for batch in range(steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            step_loss, correct = train_step(iterator)
            total_loss += float(step_loss)
            total_correct += float(correct)
            logs = {"loss": total_loss / (batch + 1)}
            callback_list.on_train_batch_end(batch, logs)
        logs = {
            "accuracy": total_correct / (steps_per_epoch * batch_size),
            "loss": total_loss / steps_per_epoch,
        }
        callback_list.on_epoch_end(epoch, logs)
        print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items()))
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history
