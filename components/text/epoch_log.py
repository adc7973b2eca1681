"""What the text trainers log each epoch to TensorBoard (``MODEL_DIR/logs``)."""

from pathlib import Path
from typing import Any

import tensorflow as tf

LOG_DIR = "logs"


class EpochLog:
    """Writes each number of an epoch's history entry as a scalar at step = the epoch."""

    def __init__(self, model_dir: str | Path):
        self.writer = tf.summary.create_file_writer(str(Path(model_dir) / LOG_DIR))

    def write(self, entry: dict[str, Any]) -> None:
        with self.writer.as_default(step=entry["epoch"]):
            for key, value in entry.items():
                if key != "epoch" and isinstance(value, int | float):
                    tf.summary.scalar(key, value)
        self.writer.flush()
