"""How the text trainers close an epoch: TensorBoard scalars (``MODEL_DIR/logs``), the
history entry in the training record (rewritten every epoch, so a killed run's history is
there when it resumes), the epoch counter and a checkpoint numbered by the epoch; and how a
trained model's record and last checkpoint are found again."""

import json
import logging
from pathlib import Path
from typing import Any

import tensorflow as tf

from kubeslim.errors import KubeslimError
from kubeslim.fileio import write_text_atomic
from kubeslim.model_spec import LOGS_DIR

log = logging.getLogger(__name__)


class EpochLog:
    """A run's training record and its TensorBoard scalars, kept current epoch by epoch.

    Args:
      model_dir: the model directory.
      record_file: the record's file name there.
      record: the record's fields other than ``history``.
      completed_epochs: epochs the restored checkpoint has; the history of an earlier run is
        kept up to there.
    """

    def __init__(
        self,
        model_dir: str | Path,
        record_file: str,
        record: dict[str, Any],
        completed_epochs: int,
    ):
        self.path = Path(model_dir) / record_file
        earlier = json.loads(self.path.read_text())["history"] if self.path.is_file() else []
        self.history: list[dict[str, Any]] = earlier[:completed_epochs]
        self.record = {**record, "history": self.history}
        self.writer = tf.summary.create_file_writer(str(Path(model_dir) / LOGS_DIR))

    def end_epoch(
        self, entry: dict[str, Any], epoch: tf.Variable, manager: tf.train.CheckpointManager
    ) -> None:
        """Logs ``entry`` as scalars at step = its epoch, appends it to the history and writes
        the record, then sets ``epoch`` and saves the checkpoint a resumed run starts from (in
        that order: a kill between the two redoes the epoch, and loses no entry)."""
        with self.writer.as_default(step=entry["epoch"]):
            for key, value in entry.items():
                if key != "epoch" and isinstance(value, int | float):
                    tf.summary.scalar(key, value)
        self.writer.flush()
        self.history.append(entry)
        self.save()
        epoch.assign(entry["epoch"])
        manager.save(checkpoint_number=entry["epoch"])
        log.info("epoch %d: %s", entry["epoch"], entry)

    def save(self, **fields: Any) -> dict[str, Any]:
        """Adds ``fields`` to the record and writes it; returns it."""
        self.record.update(fields)
        write_text_atomic(self.path, json.dumps(self.record, indent=2) + "\n")
        return self.record


def trained_record(model_dir: str | Path, record_file: str, what: str) -> tuple[dict, str]:
    """The training record (``record_file``) and the latest checkpoint in ``model_dir``.

    Raises:
      KubeslimError: ``model_dir`` holds no trained ``what``.
    """
    record_path = Path(model_dir) / record_file
    checkpoint = tf.train.latest_checkpoint(str(model_dir))
    if not record_path.is_file() or checkpoint is None:
        raise KubeslimError(f"{model_dir} holds no trained {what}")
    return json.loads(record_path.read_text()), checkpoint
