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
import os
import secrets

from kubeslim import storage
from kubeslim.addresses import is_uri
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
    if storage.is_file(storage.join(registry, MARKER)):
        return
    if storage.is_file(registry):
        raise KubeslimError(f"model_registry {registry} is a file, not a directory")
    if storage.list_files(registry, "model_registry"):
        raise KubeslimError(
            f"model_registry {registry} holds files and is not a kubeslim model registry (no "
            f"{MARKER}); give an empty or new location"
        )
    storage.make_dirs(registry)
    marker = {"kind": "kubeslim model registry", "layout": "tf-serving"}
    storage.write_text(storage.join(registry, MARKER), json.dumps(marker) + "\n")


def _read(path: str) -> str | None:
    try:
        return storage.read_bytes(path).decode()
    except (FileNotFoundError, NotADirectoryError):
        return None


def latest_version(registry: str) -> int | None:
    """The newest promoted version, or None when nothing was promoted."""
    latest = _read(storage.join(registry.rstrip("/"), LATEST))
    return None if latest is None else int(latest.strip())


def latest_evaluation(registry: str) -> str | None:
    """The ``metrics.json`` of the newest promoted model, or None."""
    version = latest_version(registry)
    if version is None:
        return None
    return storage.join(registry.rstrip("/"), EVALUATIONS, str(version), METRICS_FILE)


def _fingerprint(servable: str, metrics: str) -> str:
    """What a promotion is: its SavedModel's files and its metrics, fingerprinted."""
    import hashlib

    from kubeslim.beam.source_fingerprint import folder_fingerprint

    metrics_digest = hashlib.sha256(storage.read_bytes(metrics)).hexdigest()
    return f"model {folder_fingerprint(servable)}\nmetrics sha256:{metrics_digest}\n"


def promote(registry: str, export_dir: str, evaluation_dir: str) -> int:
    """Adds the SavedModel of ``export_dir`` (a ``kubeslim export`` output) and the evaluation
    in ``evaluation_dir`` to ``registry`` as its next version, then points ``latest`` at it.

    Returns:
      The new version's number, or ``latest``'s when it already is this model and evaluation.

    Raises:
      KubeslimError: ``registry`` is not a registry, or the export or evaluation is missing.
    """
    registry = registry.rstrip("/")
    servable = storage.join(str(export_dir).rstrip("/"), SERVABLE_VERSION)
    metrics = storage.join(str(evaluation_dir).rstrip("/"), METRICS_FILE)
    for path, what in (
        (storage.join(servable, "saved_model.pb"), "export"),
        (metrics, "evaluation"),
    ):
        if not storage.is_file(path):
            raise KubeslimError(f"cannot promote: the {what} {path} is missing")
    _claim(registry)
    promoted = _fingerprint(servable, metrics)
    latest = latest_version(registry)
    evaluations = storage.join(registry, EVALUATIONS)
    if latest is not None and _read(storage.join(evaluations, str(latest), PROMOTED)) == promoted:
        log.info("%s is already %s/%d", export_dir, registry, latest)
        return latest
    version = (latest or 0) + 1
    while storage.exists(storage.join(registry, str(version))):
        version += 1  # promoted meanwhile by another run: never overwrite it
    evaluation = storage.join(evaluations, str(version))
    storage.make_dirs(evaluation)
    storage.copy_file(metrics, storage.join(evaluation, METRICS_FILE))
    storage.write_text(storage.join(evaluation, PROMOTED), promoted)
    if is_uri(registry):
        # An object store renames object by object: the copy goes straight to its place,
        # and `latest`, written after it, is what readers follow.
        storage.copy_tree(servable, storage.join(registry, str(version)))
    else:
        staging = storage.join(registry, f".staging-{secrets.token_hex(4)}")
        storage.copy_tree(servable, staging)
        os.rename(storage.os_path(staging), storage.os_path(storage.join(registry, str(version))))
    storage.write_text(storage.join(registry, LATEST), f"{version}\n")  # whole, or not at all
    log.info("promoted %s to %s/%d", export_dir, registry, version)
    return version
