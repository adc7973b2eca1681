"""Evaluates a trained model on a split: top-1 and top-5 accuracy, loss, per-class accuracy and
the confusion matrix (TF-Slim's ``eval_image_classifier.py``)."""

import functools
import json
import logging
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from kubeslim import dataset_spec, storage
from kubeslim.components.options import EvalOptions
from kubeslim.errors import KubeslimError
from kubeslim.fileio import OutputDir, claim_dir, write_text_atomic
from kubeslim.model_spec import METRICS_FILE

CONFUSION_PLOT_FILE = "confusion_matrix.png"

log = logging.getLogger(__name__)


def classification_metrics(
    logits: np.ndarray, labels: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """Metrics of logits [n, num_classes] against int labels [n]."""
    num_classes = logits.shape[1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    predictions = logits.argmax(axis=1)
    top5 = np.argsort(-logits, axis=1)[:, : min(5, num_classes)]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "num_examples": int(len(labels)),
        "top1_accuracy": float((predictions == labels).mean()),
        "top5_accuracy": float((top5 == labels[:, None]).any(axis=1).mean()),
        # Cross-entropy is >= 0; clipping removes float round-off below it.
        "loss": float(np.maximum(-log_probs[np.arange(len(labels)), labels], 0.0).mean()),
        "per_class_accuracy": {
            name: float(a) for name, a in zip(class_names, per_class, strict=True)
        },
        "class_names": class_names,
        "confusion_matrix": confusion.tolist(),
    }


def plot_confusion_matrix(metrics: dict[str, Any], path: Path | BinaryIO) -> None:
    """Draws the confusion matrix with counts, true classes as rows, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.array(metrics["confusion_matrix"])
    names = metrics["class_names"]
    size = max(4.0, 0.45 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"top-1 accuracy {metrics['top1_accuracy']:.4f} on {metrics['num_examples']}")
    if len(names) <= 20:
        threshold = confusion.max() / 2
        for (i, j), n in np.ndenumerate(confusion):
            color = "white" if n > threshold else "black"
            ax.text(j, i, str(n), ha="center", va="center", color=color, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def evaluate(
    dataset_dir: str | Path,
    model_dir: str | Path | None,
    output_dir: str | Path,
    options: EvalOptions | None = None,
) -> dict[str, Any]:
    """Evaluates a checkpoint of ``model_dir`` (``options.checkpoint_path``, else the latest) on
    ``options.split`` of ``dataset_dir`` (by default the held-out split: ``test``, else
    ``validation``). Without ``model_dir``, ``options.checkpoint_path`` is any checkpoint of
    ``options.model_name`` (TF-Slim's too), which must restore every variable.

    Writes ``metrics.json`` and ``confusion_matrix.png`` to ``output_dir`` (see
    ``fileio.OutputDir``).

    Raises:
      KubeslimError: the split has no examples, or an input is not what it should be.

    Returns:
      The metrics written.
    """
    import tensorflow as tf  # here, so the metric code and file names import without TensorFlow

    from kubeslim.components.model_dir import load_checkpoint, load_transform

    options = options or EvalOptions()
    storage.check_tensorflow_can_read(str(dataset_dir), "--dataset_dir")
    output = OutputDir(
        output_dir,
        "evaluation",
        overwrite=options.overwrite,
        inputs={"--dataset_dir": dataset_dir, "--model_dir": model_dir},
    )
    read_descriptor = functools.cache(lambda: dataset_spec.read_descriptor(dataset_dir))
    model, config, checkpoint_path = load_checkpoint(
        model_dir, options, options.eval_image_size, read_descriptor
    )
    if model_dir is not None:
        _check_matches_model(options, config, model_dir)
    descriptor = read_descriptor()
    transform = load_transform(model_dir, config)
    split = options.split or dataset_spec.held_out_split(descriptor)
    ds = config.make_dataset(
        dataset_dir, split, batch_size=options.batch_size, is_training=False, transform=transform
    )
    if options.max_num_batches:
        ds = ds.take(options.max_num_batches)
    predict = tf.function(lambda images: model(images, training=False))
    logits, labels = [], []
    for images, batch_labels in ds:
        logits.append(predict(images).numpy())
        labels.append(batch_labels.numpy())
    if not labels:
        raise KubeslimError(f"split {split!r} of {dataset_dir} has no examples to evaluate")
    metrics = classification_metrics(
        np.concatenate(logits), np.concatenate(labels), list(config.class_names)
    )
    metrics.update({"split": split, "dataset_dir": str(dataset_dir), "checkpoint": checkpoint_path})
    with output.staging() as tmp:
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        plot_confusion_matrix(metrics, tmp / CONFUSION_PLOT_FILE)
    log.info(
        "%s on %s/%s: top-1 %.4f, top-5 %.4f, loss %.4f (%d examples)",
        Path(checkpoint_path).name,
        config.dataset_name,
        split,
        metrics["top1_accuracy"],
        metrics["top5_accuracy"],
        metrics["loss"],
        metrics["num_examples"],
    )
    return metrics


def _check_matches_model(options: EvalOptions, config, model_dir: str | Path) -> None:
    """The flags that describe the network must be those of the model directory's."""
    for flag, value, theirs in (
        ("--model_name", options.model_name, config.model_name),
        ("--eval_image_size", options.eval_image_size, config.image_size),
        ("--labels_offset", options.labels_offset, config.labels_offset),
        ("--preprocessing_name", options.preprocessing_name, config.preprocessing_name),
    ):
        if value and value != theirs:
            raise KubeslimError(f"{flag} {value}, but the model in {model_dir} has {theirs}")


def evaluate_checkpoints(
    dataset_dir: str | Path,
    model_dir: str | Path,
    output_dir: str | Path,
    options: EvalOptions | None = None,
) -> list[dict[str, Any]]:
    """TF-Slim's evaluation loop: evaluates the latest checkpoint of ``model_dir``, then each
    new one as training writes it, until none arrives for ``options.timeout_secs`` (forever
    when 0), looking every ``options.eval_interval_secs``. Each checkpoint's metrics and plot
    go to ``output_dir/step-N``; ``history.json`` lists them all and ``logs/`` has them for
    TensorBoard.

    Returns:
      The metrics of every checkpoint evaluated, oldest first.
    """
    import dataclasses

    import tensorflow as tf

    options = options or EvalOptions()
    history: list[dict[str, Any]] = []
    output_dir = claim_dir(
        output_dir,
        "evaluation_history",
        inputs={"--dataset_dir": dataset_dir, "--model_dir": model_dir},
        what="--output_dir",
    )
    for checkpoint in tf.train.checkpoints_iterator(
        str(model_dir),
        min_interval_secs=options.eval_interval_secs,
        timeout=options.timeout_secs or None,
    ):
        step = int(checkpoint.rsplit("-", 1)[1])
        one = dataclasses.replace(options, checkpoint_path=checkpoint, watch=False)
        metrics = evaluate(dataset_dir, model_dir, output_dir / f"step-{step}", one)
        history.append(
            {k: metrics[k] for k in ("checkpoint", "top1_accuracy", "top5_accuracy", "loss")}
            | {"step": step}
        )
        writer = tf.summary.create_file_writer(str(output_dir / "logs"))
        with writer.as_default(step=step):
            for name in ("top1_accuracy", "top5_accuracy", "loss"):
                tf.summary.scalar(f"eval/{name}", metrics[name])
        writer.close()
        write_text_atomic(output_dir / "history.json", json.dumps(history, indent=2) + "\n")
    log.info(
        "no new checkpoint in %s for %s s: %d evaluated",
        model_dir,
        options.timeout_secs,
        len(history),
    )
    return history
