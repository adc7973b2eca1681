"""The model registry: where blessed models are promoted, the hand-off to serving and the
baseline of the next run's quality gate. A directory, or a ``gs://`` or ``s3://`` prefix,
laid out as TF Serving serves a model (``--model_base_path=REGISTRY``)::

    REGISTRY/
      kubeslim-registry.json     what the directory is (kubeslim writes nothing elsewhere)
      1/ 2/ ...                  each promotion's SavedModel, config and labels
      evaluations/1/metrics.json each promotion's evaluation
      evaluations/1/promoted.txt the fingerprint of what was promoted (model and metrics)
      latest                     the newest version's number, written last

On a file system a promotion is staged under a hidden name and renamed into place, so a
version directory is complete or absent; on an object store it is copied into place.
``latest`` moves only after it, so a reader following it never sees a half-promoted model.
A version number already taken (a concurrent promotion) is never overwritten: the next one
is used. Promoting what ``latest`` already is (the same SavedModel and metrics, as a re-run
whose steps came from the cache promotes) adds nothing and returns ``latest``.
"""

import json
import logging
import secrets

from kubeslim.errors import KubeslimError
from kubeslim.model_spec import METRICS_FILE, SERVABLE_VERSION

MARKER = "kubeslim-registry.json"
LATEST = "latest"
EVALUATIONS = "evaluations"
PROMOTED = "promoted.txt"

log = logging.getLogger(__name__)


def _claim(registry: str) -> None:
    """Makes ``registry`` a registry, or checks that it is one.

    Raises:
      KubeslimError: it exists, holds files and kubeslim did not make it a registry.
    """
    import tensorflow as tf

    if tf.io.gfile.exists(f"{registry}/{MARKER}"):
        return
    if tf.io.gfile.isdir(registry) and tf.io.gfile.listdir(registry):
        raise KubeslimError(
            f"model_registry {registry} holds files and is not a kubeslim model registry (no "
            f"{MARKER}); give an empty or new location"
        )
    tf.io.gfile.makedirs(registry)
    with tf.io.gfile.GFile(f"{registry}/{MARKER}", "w") as f:
        f.write(json.dumps({"kind": "kubeslim model registry", "layout": "tf-serving"}) + "\n")


def _read(path: str) -> str | None:
    import tensorflow as tf

    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return f.read()


def latest_version(registry: str) -> int | None:
    """The newest promoted version, or None when nothing was promoted."""
    latest = _read(f"{registry.rstrip('/')}/{LATEST}")
    return None if latest is None else int(latest.strip())


def latest_evaluation(registry: str) -> str | None:
    """The ``metrics.json`` of the newest promoted model, or None."""
    version = latest_version(registry)
    if version is None:
        return None
    return f"{registry.rstrip('/')}/{EVALUATIONS}/{version}/{METRICS_FILE}"


def _fingerprint(servable: str, metrics: str) -> str:
    """What a promotion is: its SavedModel's files and its metrics, fingerprinted."""
    import hashlib

    import tensorflow as tf

    from kubeslim.beam.source_fingerprint import folder_fingerprint

    with tf.io.gfile.GFile(metrics, "rb") as f:
        metrics_digest = hashlib.sha256(f.read()).hexdigest()
    return f"model {folder_fingerprint(servable)}\nmetrics sha256:{metrics_digest}\n"


def _copy_tree(source: str, target: str) -> None:
    import tensorflow as tf

    for directory, _, files in tf.io.gfile.walk(source):
        relative = directory[len(source) :].strip("/")
        destination = f"{target}/{relative}" if relative else target
        tf.io.gfile.makedirs(destination)
        for name in files:
            tf.io.gfile.copy(f"{directory}/{name}", f"{destination}/{name}", overwrite=True)


def promote(registry: str, export_dir: str, evaluation_dir: str) -> int:
    """Adds the SavedModel of ``export_dir`` (a ``kubeslim export`` output) and the evaluation
    in ``evaluation_dir`` to ``registry`` as its next version, then points ``latest`` at it.

    Returns:
      The new version's number, or ``latest``'s when it already is this model and evaluation.

    Raises:
      KubeslimError: ``registry`` is not a registry, or the export or evaluation is missing.
    """
    import tensorflow as tf

    registry = registry.rstrip("/")
    servable = f"{str(export_dir).rstrip('/')}/{SERVABLE_VERSION}"
    metrics = f"{str(evaluation_dir).rstrip('/')}/{METRICS_FILE}"
    for path, what in ((f"{servable}/saved_model.pb", "export"), (metrics, "evaluation")):
        if not tf.io.gfile.exists(path):
            raise KubeslimError(f"cannot promote: the {what} {path} is missing")
    _claim(registry)
    promoted = _fingerprint(servable, metrics)
    latest = latest_version(registry)
    if latest is not None and _read(f"{registry}/{EVALUATIONS}/{latest}/{PROMOTED}") == promoted:
        log.info("%s is already %s/%d", export_dir, registry, latest)
        return latest
    version = (latest or 0) + 1
    while tf.io.gfile.exists(f"{registry}/{version}"):
        version += 1  # promoted meanwhile by another run: never overwrite it
    tf.io.gfile.makedirs(f"{registry}/{EVALUATIONS}/{version}")
    tf.io.gfile.copy(metrics, f"{registry}/{EVALUATIONS}/{version}/{METRICS_FILE}", True)
    with tf.io.gfile.GFile(f"{registry}/{EVALUATIONS}/{version}/{PROMOTED}", "w") as f:
        f.write(promoted)
    if "://" in registry and not registry.startswith("file://"):
        # An object store renames object by object: the copy goes straight to its place,
        # and `latest`, written after it, is what readers follow.
        _copy_tree(servable, f"{registry}/{version}")
    else:
        staging = f"{registry}/.staging-{secrets.token_hex(4)}"
        _copy_tree(servable, staging)
        tf.io.gfile.rename(staging, f"{registry}/{version}")
    pointer = f"{registry}/.{LATEST}-{secrets.token_hex(4)}"
    with tf.io.gfile.GFile(pointer, "w") as f:
        f.write(f"{version}\n")
    tf.io.gfile.rename(pointer, f"{registry}/{LATEST}", overwrite=True)
    log.info("promoted %s to %s/%d", export_dir, registry, version)
    return version
