"""The on-disk contract between the Beam converters and the TensorFlow readers.

A converted data set directory holds:

- ``{name}_{split}-{i:05d}-of-{n:05d}.tfrecord``: ``tf.train.Example`` records with
  TF-Slim's feature keys (``FEATURE_KEYS``);
- ``labels.txt``: ``id:name`` lines, as TF-Slim's ``dataset_utils.write_label_file`` writes;
- ``dataset.json``: the descriptor (splits and their example counts, number of classes,
  image shape, feature keys, shard files).
"""

import json
import unicodedata
from pathlib import Path
from typing import Any

from kubeslim import output_dirs, storage
from kubeslim.errors import KubeslimError

DESCRIPTOR_FILE = "dataset.json"
LABELS_FILE = "labels.txt"

FEATURE_KEYS = {
    "image": "image/encoded",
    "format": "image/format",
    "label": "image/class/label",
    "height": "image/height",
    "width": "image/width",
}


def shard_name(dataset: str, split: str, index: int, num_shards: int) -> str:
    """TF-Slim's shard file name, e.g. ``digits_train-00000-of-00002.tfrecord``."""
    return f"{dataset}_{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def check_class_names(class_names: list[str], where: str) -> None:
    """Refuses class names that ``labels.txt`` cannot hold: empty, or with control characters
    (a newline would split a line in two).

    Raises:
      KubeslimError: naming the class and ``where`` it came from.
    """
    for name in class_names:
        if not name or any(unicodedata.category(c) == "Cc" for c in name):
            raise KubeslimError(
                f"{where}: class name {name!r} is empty or has control characters; rename it"
            )


def write_labels(path: str | Path, class_names: list[str]) -> None:
    """Writes ``labels.txt``: one ``id:name`` line per class.

    Raises:
      KubeslimError: a class name cannot be written (``check_class_names``).
    """
    check_class_names(class_names, str(path))
    storage.write_text(path, "".join(f"{i}:{name}\n" for i, name in enumerate(class_names)))


def read_descriptor(dataset_dir: str | Path) -> dict[str, Any]:
    """Reads and checks a data set directory's ``dataset.json`` (local or on an object store).

    Raises:
      KubeslimError: the directory or descriptor is missing or malformed.
    """
    path = storage.join(dataset_dir, DESCRIPTOR_FILE)
    try:
        descriptor = json.loads(storage.read_bytes(path))
    except FileNotFoundError:
        raise KubeslimError(
            f"{path} not found: {dataset_dir} is not a converted data set "
            "(run `kubeslim convert` first)"
        ) from None
    except json.JSONDecodeError as e:
        raise KubeslimError(f"{path} is not valid JSON: {e}") from None
    for key in ("name", "num_classes", "class_names", "image_shape", "splits"):
        if key not in descriptor:
            raise KubeslimError(f"{path} has no {key!r} entry")
    return descriptor


def copy_converted(dataset_dir: str | Path, destination: str | Path) -> dict[str, Any]:
    """Copies an already converted data set (its descriptor, labels and every split's
    shards) to ``destination`` (a new output, see ``fileio.OutputDir``), so a pipeline can
    start from it instead of converting.

    Returns:
      Its descriptor.

    Raises:
      KubeslimError: ``dataset_dir`` is not a converted data set or lacks a shard.
    """
    inputs = {"converted_dataset": dataset_dir}
    output = output_dirs.output_dir(destination, "dataset", inputs=inputs)
    descriptor = read_descriptor(dataset_dir)
    files = [storage.join(dataset_dir, name) for name in (DESCRIPTOR_FILE, LABELS_FILE)]
    for split in descriptor["splits"]:
        files += split_files(dataset_dir, descriptor, split)
    with output.staging() as tmp:
        for path in files:
            storage.copy_file(path, storage.join(str(tmp), path.rpartition("/")[2]))
    return descriptor


def held_out_split(descriptor: dict[str, Any]) -> str:
    """The split to evaluate on: ``test`` where there is one, else ``validation``.

    Raises:
      KubeslimError: the data set has neither.
    """
    for split in ("test", "validation"):
        if split in descriptor["splits"]:
            return split
    raise KubeslimError(f"data set {descriptor['name']!r} has no test or validation split")


def split_files(dataset_dir: str | Path, descriptor: dict[str, Any], split: str) -> list[str]:
    """The shard paths of ``split``, checked to exist.

    Raises:
      KubeslimError: the split is unknown or a shard is missing.
    """
    splits = descriptor["splits"]
    if split not in splits:
        raise KubeslimError(
            f"data set {descriptor['name']!r} in {dataset_dir} has no split {split!r}; "
            f"it has: {', '.join(splits)}"
        )
    files = [storage.join(dataset_dir, f) for f in splits[split]["files"]]
    missing = [f for f in files if not storage.is_file(f)]
    if missing:
        raise KubeslimError(f"shard file {missing[0]} listed in {DESCRIPTOR_FILE} is missing")
    return files
