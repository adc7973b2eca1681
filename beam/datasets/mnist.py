"""MNIST: the four idx files at the address TF-Slim and TFDS download them from.

train 60,000 and test 10,000 28x28 grey images of the digits 0-9, stored as PNG. The idx
files are decompressed once into the cache and memory-mapped by the workers.
"""

from pathlib import Path

import numpy as np

from kubeslim.beam import archives
from kubeslim.beam.datasets.base import ArrayDataset, RecordFile
from kubeslim.beam.download import RemoteFile, fetch
from kubeslim.errors import KubeslimError

_DATA_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
CANONICAL_FILES = {
    "train": (
        RemoteFile(
            _DATA_URL + "train-images-idx3-ubyte.gz",
            9_912_422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        RemoteFile(
            _DATA_URL + "train-labels-idx1-ubyte.gz",
            28_881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
    ),
    "test": (
        RemoteFile(
            _DATA_URL + "t10k-images-idx3-ubyte.gz",
            1_648_877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        RemoteFile(
            _DATA_URL + "t10k-labels-idx1-ubyte.gz",
            4_542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ),
}
_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


def read_idx(path: str | Path, magic: int, channel_axis: bool = False) -> RecordFile:
    """Opens an uncompressed idx file of unsigned bytes, checking its header and size.

    With ``channel_axis``, records get a trailing axis of size 1 ([28, 28] -> [28, 28, 1]).

    Raises:
      KubeslimError: wrong magic number or a file shorter or longer than its header says.
    """
    path = Path(path)
    header = np.fromfile(path, dtype=">i4", count=2)
    if len(header) < 1 or header[0] != magic:
        found = header[0] if len(header) else "nothing"
        raise KubeslimError(f"{path}: not an idx file (magic {found}, expected {magic})")
    ndim = int(header[0] & 0xFF)
    shape = tuple(int(d) for d in np.fromfile(path, dtype=">i4", count=1 + ndim)[1:])
    offset = 4 * (1 + ndim)
    expected = offset + int(np.prod(shape))
    if path.stat().st_size != expected:
        raise KubeslimError(
            f"{path}: {path.stat().st_size} bytes, but its header describes {expected}"
        )
    return RecordFile(path, offset, shape + (1,) if channel_axis else shape)


class Mnist(ArrayDataset):
    name = "mnist"
    image_shape = (28, 28, 1)
    default_num_shards = {"train": 10, "test": 2}

    def __init__(self, files: dict[str, tuple[RemoteFile, RemoteFile]] | None = None):
        """``files``: split -> (images, labels) idx.gz files; the canonical ones by default."""
        self._files = files or CANONICAL_FILES

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        self._paths = {}
        for split, (images, labels) in self._files.items():
            unpacked = []
            for remote in (images, labels):
                gz = fetch(remote, cache_dir, source)
                unpacked.append(str(archives.gunzip(gz, cache_dir / gz.with_suffix("").name)))
            self._paths[split] = tuple(unpacked)
            _, labels_array = self.open_split(split)
            if labels_array.max(initial=0) > 9:
                raise KubeslimError(f"{unpacked[1]}: label {labels_array.max()} is not a digit")

    def class_names(self) -> list[str]:
        return [str(d) for d in range(10)]

    def splits(self) -> list[str]:
        return list(self._paths)

    def open_split(self, split: str) -> tuple[RecordFile, np.ndarray]:
        images_path, labels_path = self._paths[split]
        images = read_idx(images_path, _IMAGES_MAGIC, channel_axis=True)
        labels = read_idx(labels_path, _LABELS_MAGIC)
        if len(images) != len(labels):
            raise KubeslimError(
                f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
            )
        return images, labels[np.arange(len(labels))]
