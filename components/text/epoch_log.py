"""How the text trainers close an epoch: TensorBoard scalars (``MODEL_DIR/logs``), the
history entry, the epoch counter and a checkpoint numbered by the epoch; and how a trained
model's record and last checkpoint are found again."""

import json
import logging
from pathlib import Path
from typing import Any

import tensorflow as tf

from kubeslim.errors import KubeslimError

LOG_DIR = "logs"

log = logging.getLogger(__name__)


class EpochLog:
    """Writes each number of an epoch's entry as a scalar at step = the epoch."""

    def __init__(self, model_dir: str | Path):
        self.writer = tf.summary.create_file_writer(str(Path(model_dir) / LOG_DIR))

    def end_epoch(
        self,
        entry: dict[str, Any],
        history: list[dict[str, Any]],
        epoch: tf.Variable,
        manager: tf.train.CheckpointManager,
    ) -> None:
        """Logs ``entry``, appends it to ``history``, sets ``epoch`` to its epoch and saves
        the checkpoint that a resumed run starts from."""
        with self.writer.as_default(step=entry["epoch"]):
            for key, value in entry.items():
                if key != "epoch" and isinstance(value, int | float):
                    tf.summary.scalar(key, value)
        self.writer.flush()
        history.append(entry)
        epoch.assign(entry["epoch"])
        manager.save(checkpoint_number=entry["epoch"])
        log.info("epoch %d: %s", entry["epoch"], entry)


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
