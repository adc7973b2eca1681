"""A one-page HTML report of a trained model, for the Kubeflow UI's HTML viewer: the test
metrics, the training curves and the confusion matrix, pictures embedded."""

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from kubeslim.components.evaluate import plot_confusion_matrix
from kubeslim.components.model_dir import ModelConfig
from kubeslim.model_spec import TRAINING_FILE


def _png(draw) -> str:
    """``draw(path)`` rendered to a data URI."""
    buffer = io.BytesIO()
    draw(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def loss_label(training: dict[str, Any]) -> str:
    """What the training loss sums, from the training record: the cross-entropy (label
    smoothed), the auxiliary head's at TF-Slim's weight, and the weight decay."""
    parts = ["cross-entropy"]
    if training.get("label_smoothing"):
        parts[0] += f" (label smoothing {training['label_smoothing']:g})"
    if training.get("auxiliary_loss_weight"):
        parts.append(f"{training['auxiliary_loss_weight']:g} x the auxiliary head's")
    if training.get("weight_decay"):
        parts.append(f"weight decay {training['weight_decay']:g}")
    return "training loss: " + " + ".join(parts)


def _plot_history(training: dict[str, Any], target) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = training["history"]
    titles = {
        "loss": loss_label(training),
        "accuracy": "training top-1 accuracy",
        "learning_rate": "learning rate",
    }
    panels = [name for name in titles if name in history]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        values = history[name]
        ax.plot(range(1, len(values) + 1), values, marker="o")
        ax.set_xlabel("epoch")
        ax.set_title(titles[name], fontsize=9, wrap=True)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(target, format="png", dpi=90)
    plt.close(fig)


def write_report(model_dir: str | Path, metrics: dict[str, Any], path: str | Path) -> None:
    """Writes ``path`` (HTML) from ``model_dir``'s training record and evaluation ``metrics``."""
    training = json.loads((Path(model_dir) / TRAINING_FILE).read_text())
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{value:.4f}</td></tr>"
        for name, value in metrics["per_class_accuracy"].items()
    )
    settings = ", ".join(
        f"{k} {training[k]}"
        for k in ("model_name", "optimizer", "learning_rate", "batch_size", "steps")
        if k in training
    )
    dataset = ModelConfig.load(model_dir).dataset_name
    title = f"{training['model_name']} on {dataset}"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>kubeslim: {html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} td,th{{padding:2px 10px;text-align:left}}
table{{border-collapse:collapse}} tr:nth-child(even){{background:#f3f3f3}}</style></head>
<body>
<h1>{html.escape(title)} ({html.escape(metrics.get("split", ""))} split)</h1>
<p>Top-1 accuracy <b>{metrics["top1_accuracy"]:.4f}</b>, top-5 {metrics["top5_accuracy"]:.4f},
loss {metrics["loss"]:.4f} on {metrics["num_examples"]} images.</p>
<p>Training: {html.escape(settings)}; {training.get("examples_per_second", 0):.0f} images/s.</p>
<h2>Training curves</h2>
<p>The loss is the {html.escape(loss_label(training))}.</p>
<img alt="training curves" src="{_png(lambda t: _plot_history(training, t))}">
<h2>Confusion matrix</h2>
<img alt="confusion matrix" src="{_png(lambda t: plot_confusion_matrix(metrics, t))}">
<h2>Per-class accuracy</h2>
<table><tr><th>class</th><th>accuracy</th></tr>{rows}</table>
</body></html>
"""
    Path(path).write_text(page)
