"""A user's own images: ``ROOT/CLASS_NAME/*`` with one folder per class.

``ROOT`` is the ``--source``: a local directory or an object-store prefix (``gs://``,
``s3://``) that Beam's file systems can list. Every non-hidden file in a class folder is a
record; files that do not decode as images are skipped and listed in the job summary. The
validation split is ``validation_size`` of the files (a fraction, or a count if >= 1), chosen
deterministically by the seed.
"""

from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

from kubeslim.beam.datasets.base import ClassFolderDataset
from kubeslim.errors import KubeslimError


class ImageFolder(ClassFolderDataset):
    name = "image_folder"
    default_num_shards = {"train": 4, "validation": 1}

    def __init__(self, validation_size: float = 0.1):
        super().__init__(validation_size)

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        if not source:
            raise KubeslimError("image_folder needs --source ROOT (a folder of class folders)")
        self._root = source.rstrip("/")
        if urlparse(self._root).scheme in ("", "file"):
            self._classes = _list_local(Path(urlparse(self._root).path or self._root))
        else:
            self._classes = _list_object_store(self._root)

    def list_class_files(self) -> dict[str, list[Hashable]]:
        return self._classes

    def read_files(self, handles: Sequence[Hashable]) -> Iterator[bytes]:
        from apache_beam.io.filesystems import FileSystems

        for path in handles:
            with FileSystems.open(path, compression_type="uncompressed") as f:
                yield f.read()

    def describe(self) -> str:
        return self._root


def _list_local(root: Path) -> dict[str, list[Hashable]]:
    """Class folder name -> its files. A symbolic link may point anywhere inside ``root``.

    Raises:
      KubeslimError: ``root`` is not a directory, or a link leads out of it.
    """
    if not root.is_dir():
        raise KubeslimError(f"image_folder: {root} is not a directory")
    real_root = root.resolve()

    def inside(path: Path) -> Path:
        if path.is_symlink() and real_root not in path.resolve().parents:
            raise KubeslimError(
                f"image_folder: {path} is a symbolic link to {path.resolve()}, outside "
                f"{root}; refused (copy the file into the folder instead)"
            )
        return path

    classes = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not inside(entry).is_dir():
            continue
        classes[entry.name] = sorted(
            str(f) for f in entry.iterdir() if not f.name.startswith(".") and inside(f).is_file()
        )
    return classes


def _list_object_store(root: str) -> dict[str, list[Hashable]]:
    from apache_beam.io.filesystems import FileSystems

    classes: dict[str, list[Hashable]] = {}
    for match in FileSystems.match([f"{root}/*/*"]):
        for metadata in match.metadata_list:
            class_name, file_name = metadata.path[len(root) + 1 :].split("/", 1)
            if "/" not in file_name and not file_name.startswith("."):
                classes.setdefault(class_name, []).append(metadata.path)
    if not classes:
        raise KubeslimError(f"image_folder: no files under {root}/CLASS_NAME/")
    return classes
