"""The on-disk contract of trained models, beside ``dataset_spec`` and ``corpus_spec``: the
file names that training, evaluation, export, the quality gate, the report and the runners
share, for the image classifiers and the text models alike.

A model directory holds ``model_config.json`` (what rebuilds the network), ``training.json``
(hyper-parameters and per-epoch history), TF checkpoints, ``logs/`` for TensorBoard and, when
trained with one, a copy of the tensorflow-transform output in ``transform/``. An evaluation
directory holds ``metrics.json``.
"""

from pathlib import Path

from kubeslim.errors import KubeslimError

CONFIG_FILE = "model_config.json"
TRAINING_FILE = "training.json"
LOGS_DIR = "logs"
TRANSFORM_DIR = "transform"
METRICS_FILE = "metrics.json"

# An export is laid out as TF Serving and KServe expect a model's base path: the SavedModel in
# a numbered version directory (they serve the highest number).
SERVABLE_VERSION = "1"
SAVED_MODEL_FILE = "saved_model.pb"


def servable_dir(export_dir: str | Path) -> Path:
    """The SavedModel directory of an export: ``export_dir`` itself when it is one, else its
    highest numbered version directory.

    Raises:
      KubeslimError: there is no SavedModel there.
    """
    export_dir = Path(export_dir)
    if (export_dir / SAVED_MODEL_FILE).is_file():
        return export_dir
    versions = [
        p for p in export_dir.glob("*") if p.name.isdigit() and (p / SAVED_MODEL_FILE).is_file()
    ]
    if not versions:
        raise KubeslimError(
            f"{export_dir} is not a SavedModel export (no {SAVED_MODEL_FILE}, nor a numbered "
            "version directory with one)"
        )
    return max(versions, key=lambda p: int(p.name))
