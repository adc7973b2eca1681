"""Metrics for the Kubeflow UI on KFP's metrics artifacts, also written to each artifact's
file. A cluster keeps the values in ML Metadata whatever the file holds, but ``kfp.local``'s
cache takes a task whose output file is missing for one that never ran: without the file, an
unchanged evaluation would run again on every cached re-run."""

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any


def log_metrics(artifact: Any, values: Mapping[str, float]) -> None:
    """Logs ``values`` on a ``dsl.Metrics`` artifact and writes them to its file."""
    for name, value in values.items():
        artifact.log_metric(name, value)
    _write(artifact)


def log_confusion_matrix(
    artifact: Any, class_names: Sequence[str], matrix: Sequence[Sequence[int]]
) -> None:
    """Logs a confusion matrix on a ``dsl.ClassificationMetrics`` artifact and writes it to
    its file."""
    artifact.log_confusion_matrix(list(class_names), matrix)
    _write(artifact)


def _write(artifact: Any) -> None:
    os.makedirs(os.path.dirname(artifact.path), exist_ok=True)
    with open(artifact.path, "w") as f:
        json.dump(artifact.metadata, f, indent=1)
        f.write("\n")
