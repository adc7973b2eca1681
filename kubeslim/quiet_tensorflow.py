"""TensorFlow imported without its start-up lines.

TensorFlow 2.21 prints several lines to standard error as it loads (oneDNN, CUDA probing,
``All log messages before absl::InitializeLog()``) before its logging can be configured, so
``TF_CPP_MIN_LOG_LEVEL`` does not silence them (tensorflow#100442). They bury the one line a
user needs, so the commands import TensorFlow with file descriptor 2 sent to /dev/null; an
import error still reaches the user as Python's exception.
"""

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Sends file descriptor 2, what C libraries write included, to /dev/null meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow() -> ModuleType:
    """Imports TensorFlow (and probes its devices, which prints too) with its start-up lines
    silenced; a no-op when it is imported already."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    return tf
