"""The pipeline's quality gate: a model is blessed when its top-1 accuracy reaches the
threshold and, when the currently blessed model's evaluation is given, is not worse than it."""

import json
from pathlib import Path
from typing import Any

from kubeslim import storage
from kubeslim.components.options import GateOptions
from kubeslim.errors import KubeslimError
from kubeslim.model_spec import METRICS_FILE


def _metrics_path(location: str) -> str:
    """An evaluation's ``metrics.json``: ``location`` itself, or the file in that directory."""
    return location if location.endswith(".json") else f"{location.rstrip('/')}/{METRICS_FILE}"


def read_metrics(location: str) -> dict[str, Any]:
    """An evaluation's ``metrics.json``, from its directory or the file itself, local or on an
    object store (``storage``).

    Raises:
      KubeslimError: there is no such file.
    """
    path = _metrics_path(location)
    try:
        return json.loads(storage.read_bytes(path))
    except FileNotFoundError:
        raise KubeslimError(f"blessed evaluation {path} not found") from None


def bless(
    metrics: dict[str, Any], threshold: float, blessed_metrics: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """Whether the model passes, and why, in one sentence."""
    top1 = metrics["top1_accuracy"]
    if top1 < threshold:
        return False, f"top-1 accuracy {top1:.4f} is below the threshold {threshold:.4f}"
    if blessed_metrics is not None and top1 < blessed_metrics["top1_accuracy"]:
        return False, (
            f"top-1 accuracy {top1:.4f} is worse than the blessed model's "
            f"{blessed_metrics['top1_accuracy']:.4f}"
        )
    baseline = (
        f" and the blessed model's {blessed_metrics['top1_accuracy']:.4f}"
        if blessed_metrics is not None
        else ""
    )
    return True, f"top-1 accuracy {top1:.4f} reaches the threshold {threshold:.4f}{baseline}"


def baseline(options: GateOptions) -> str | None:
    """Where the gate's baseline evaluation is: ``blessed_evaluation``, else the model
    registry's latest promotion, else None."""
    from kubeslim.components.registry import latest_evaluation

    if options.blessed_evaluation:
        return options.blessed_evaluation
    return latest_evaluation(options.model_registry) if options.model_registry else None


def baseline_fingerprint(options: GateOptions) -> str:
    """The SHA-256 of the baseline's metrics ("none" without one): the gate takes it as an
    input, so a new model in production makes a cached verdict stale."""
    import hashlib

    location = baseline(options)
    if location is None:
        return "none"
    path = _metrics_path(location)
    try:
        return f"sha256:{hashlib.sha256(storage.read_bytes(path)).hexdigest()}"
    except FileNotFoundError:
        return f"missing {path}"  # the gate itself says so


def check_evaluation(
    evaluation_dir: str | Path, options: GateOptions | None = None
) -> tuple[bool, str]:
    """``bless`` for an evaluation directory against ``options``: the accuracy threshold and
    the blessed model's evaluation: ``blessed_evaluation``, else the model registry's latest
    promotion, if any."""
    options = options or GateOptions()
    metrics = json.loads((Path(evaluation_dir) / METRICS_FILE).read_text())
    location = baseline(options)
    blessed = read_metrics(location) if location else None
    return bless(metrics, options.accuracy_threshold, blessed)
