"""CIFAR-10: the canonical Python archive (``cifar-10-python.tar.gz``), as TF-Slim read it.

train 50,000 (five batches) and test 10,000 32x32 RGB images of 10 classes, stored as PNG;
class names from the archive's ``batches.meta``. The batches are pickles, and pickles from the
network are never loaded with ``pickle.load``: a restricted unpickler admits only the types a
CIFAR batch holds (dicts, lists, bytes, str, ints and numpy arrays) and refuses anything else,
so a crafted archive cannot run code. The arrays are written once to ``.npy`` files in the
cache and memory-mapped by the workers.
"""

import codecs
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from kubeslim.beam import archives
from kubeslim.beam.datasets.base import ArrayDataset, RecordFile
from kubeslim.beam.download import RemoteFile, fetch
from kubeslim.errors import KubeslimError

CANONICAL_FILE = RemoteFile(
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    170_498_071,
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)
_BATCHES = {
    "train": [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)],
    "test": ["cifar-10-batches-py/test_batch"],
}
_META = "cifar-10-batches-py/batches.meta"
_SIZE = 32

# What numpy arrays pickle to (under numpy 1's and numpy 2's module names), and how Python 3
# pickles bytes at protocol 2. None of these can run code.
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")


def load_batch(data: bytes, where: str) -> dict[bytes, Any]:
    """Unpickles one CIFAR batch safely.

    Raises:
      KubeslimError: the pickle names a type a CIFAR batch does not hold, or is corrupt.
    """
    try:
        batch = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise KubeslimError(f"{where}: refused to unpickle: {e}") from None
    if not isinstance(batch, dict):
        raise KubeslimError(f"{where}: expected a dict, got {type(batch).__name__}")
    return batch


class Cifar10(ArrayDataset):
    name = "cifar10"
    image_shape = (_SIZE, _SIZE, 3)
    default_num_shards = {"train": 10, "test": 2}

    def __init__(self, file: RemoteFile | None = None):
        """``file``: the archive to fetch; the canonical one by default."""
        self._file = file or CANONICAL_FILE

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        gz = fetch(self._file, cache_dir, source)
        tar = archives.gunzip(gz, cache_dir / gz.with_suffix("").name)
        members = {m.name: m for m in archives.index_tar(tar)}
        missing = [n for n in [_META, *sum(_BATCHES.values(), [])] if n not in members]
        if missing:
            raise KubeslimError(f"{gz}: archive has no member {missing[0]!r}")
        (meta_bytes,) = archives.read_members(str(tar), [members[_META]])
        meta = load_batch(meta_bytes, f"{gz}:{_META}")
        self._class_names = [n.decode() for n in meta[b"label_names"]]
        self._arrays = {}
        source = archives.derived_key(tar)  # the archive's content hash
        for split, names in _BATCHES.items():
            images_path = cache_dir / f"{split}_images.npy"
            labels_path = cache_dir / f"{split}_labels.npy"
            if archives.derived_key(images_path) != source or not labels_path.is_file():
                archives.record_derived(images_path, None)
                self._write_arrays(tar, [members[n] for n in names], images_path, labels_path)
                archives.record_derived(images_path, source)
            self._arrays[split] = (str(images_path), str(labels_path))

    def _write_arrays(
        self, tar: Path, members: list[archives.Member], images_path: Path, labels_path: Path
    ) -> None:
        images, labels = [], []
        for member, data in zip(members, archives.read_members(str(tar), members), strict=True):
            where = f"{tar}:{member.name}"
            batch = load_batch(data, where)
            try:
                flat = np.asarray(batch[b"data"], dtype=np.uint8)
                batch_labels = np.asarray(batch[b"labels"], dtype=np.int64)
            except KeyError as e:
                raise KubeslimError(f"{where}: batch has no {e.args[0]!r} entry") from None
            if flat.ndim != 2 or flat.shape[1] != 3 * _SIZE * _SIZE:
                raise KubeslimError(f"{where}: data has shape {flat.shape}, expected [n, 3072]")
            if len(batch_labels) != len(flat) or not np.all(
                (0 <= batch_labels) & (batch_labels < 10)
            ):
                raise KubeslimError(f"{where}: labels do not match the images")
            images.append(flat.reshape(-1, 3, _SIZE, _SIZE).transpose(0, 2, 3, 1))
            labels.append(batch_labels)
        for path, array in (
            (images_path, np.concatenate(images)),
            (labels_path, np.concatenate(labels)),
        ):
            partial = path.with_name(path.name + ".partial.npy")
            np.save(partial, array)
            partial.replace(path)

    def class_names(self) -> list[str]:
        return self._class_names

    def splits(self) -> list[str]:
        return list(self._arrays)

    def open_split(self, split: str) -> tuple[RecordFile, np.ndarray]:
        images, labels = self._arrays[split]
        mapped = np.load(images, mmap_mode="r")  # only to read the .npy header
        return RecordFile(images, mapped.offset, mapped.shape), np.load(labels)
