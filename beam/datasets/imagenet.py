"""ImageNet (ILSVRC-2012), converted as TF-Slim's ``build_imagenet_data.py`` did.

The archives need an ImageNet account, so the user supplies them: ``--source`` is a local
directory or an object-store prefix holding

- ``ILSVRC2012_img_train.tar`` (one tar of JPEGs per synset) and ``ILSVRC2012_img_val.tar``,
  verified against their published sizes and SHA-256;
- TF-Slim's three label files (in tensorflow/models, ``research/slim/datasets/``):
  ``imagenet_lsvrc_2015_synsets.txt`` (the 1,000 synsets), ``imagenet_metadata.txt``
  (synset -> human-readable name) and ``imagenet_2012_validation_synset_labels.txt`` (the
  synset of each validation image, in file name order).

Nothing is extracted: images are read from the tars by offset. Labels are 1..1,000 with 0 the
background class (TF-Slim's 1,001 classes); ``labels.txt`` holds the human-readable names. A
PNG or CMYK image stored under a ``.JPEG`` name (the archive has a few) is kept as PNG or
converted to RGB JPEG. 1,024 train and 128 validation shards.
"""

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from kubeslim.beam import archives
from kubeslim.beam.datasets.base import ImageDataset, LabeledRef, SourceImage
from kubeslim.beam.download import RemoteFile, fetch
from kubeslim.errors import KubeslimError

_ARCHIVE_URL = "http://www.image-net.org/challenges/LSVRC/2012/nnoupb/"
_LABELS_URL = "https://raw.githubusercontent.com/tensorflow/models/master/research/slim/datasets/"
CANONICAL_FILES = {
    "train": RemoteFile(
        _ARCHIVE_URL + "ILSVRC2012_img_train.tar",
        147_897_477_120,
        "b08200a27a8e34218a0e58fde36b0fe8f73bc377f4acea2d91602057c3ca45bb",
    ),
    "validation": RemoteFile(
        _ARCHIVE_URL + "ILSVRC2012_img_val.tar",
        6_744_924_160,
        "c7e06a6c0baccf06d8dbeb6577d71efff84673a5dbdd50633ab44f8ea0456ae0",
    ),
    "synsets": RemoteFile(_LABELS_URL + "imagenet_lsvrc_2015_synsets.txt"),
    "metadata": RemoteFile(_LABELS_URL + "imagenet_metadata.txt"),
    "validation_labels": RemoteFile(_LABELS_URL + "imagenet_2012_validation_synset_labels.txt"),
}
_SYNSET = re.compile(r"^n\d{8}$")


class ArchiveRef(NamedTuple):
    """An image inside one of the archives."""

    archive: str
    member: archives.Member

    def __str__(self) -> str:
        return f"{Path(self.archive).name}:{self.member.name}"


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _read_labels(synsets_file: Path, metadata_file: Path) -> tuple[list[str], list[str]]:
    """The synsets in label order, and the class names: ``background``, then each synset's
    human-readable name from the metadata.

    Raises:
      KubeslimError: naming the file, a synset id that is not one, a repeated synset or one
        the metadata does not name.
    """
    synsets = _lines(synsets_file)
    bad = [s for s in synsets if not _SYNSET.match(s)]
    if bad or len(set(synsets)) != len(synsets):
        problem = f"{bad[0]!r} is not a synset id" if bad else "it repeats a synset"
        raise KubeslimError(f"{synsets_file}: {problem}")
    names = dict(line.split("\t", 1) for line in _lines(metadata_file) if "\t" in line)
    missing = [s for s in synsets if s not in names]
    if missing:
        raise KubeslimError(f"{metadata_file}: no name for synset {missing[0]}")
    return synsets, ["background"] + [names[s] for s in synsets]


def imagenet_class_names(cache_dir: str | Path, source: str | None = None) -> list[str]:
    """ImageNet's 1,001 class names in TF-Slim's label order (``background`` first), from its
    synset list and metadata, fetched from ``source`` (a directory or URL base holding the
    same file names) or their canonical address, as TF-Slim's
    ``create_readable_names_for_imagenet_labels`` did."""
    paths = {
        role: fetch(CANONICAL_FILES[role], cache_dir, source) for role in ("synsets", "metadata")
    }
    return _read_labels(paths["synsets"], paths["metadata"])[1]


class ImageNet(ImageDataset):
    name = "imagenet"
    image_shape = (None, None, 3)
    default_num_shards = {"train": 1024, "validation": 128}
    background_class = True

    def __init__(self, files: dict[str, RemoteFile] | None = None):
        """``files``: the archives and label files by role; the canonical ones by default."""
        self._files = files or CANONICAL_FILES

    def prepare(self, cache_dir: Path, source: str | None) -> None:
        if not source:
            raise KubeslimError(
                "imagenet needs --source DIR (or gs://..., s3://...) holding "
                + ", ".join(f.filename for f in self._files.values())
            )
        paths = {role: fetch(f, cache_dir, source) for role, f in self._files.items()}
        synsets, self._class_names = _read_labels(paths["synsets"], paths["metadata"])
        label_of = {s: i + 1 for i, s in enumerate(synsets)}
        self._records = {
            "train": self._train_records(str(paths["train"]), label_of),
            "validation": self._validation_records(
                str(paths["validation"]), _lines(paths["validation_labels"]), label_of
            ),
        }

    @staticmethod
    def _train_records(tar: str, label_of: dict[str, int]) -> list[LabeledRef]:
        records = []
        for inner in archives.index_tar(tar):
            synset = Path(inner.name).stem
            if synset not in label_of:
                raise KubeslimError(f"{tar}: {inner.name} is not a tar of a listed synset")
            records.extend(
                LabeledRef(label_of[synset], ArchiveRef(tar, member))
                for member in archives.index_tar(tar, inner=inner)
            )
        return records

    @staticmethod
    def _validation_records(
        tar: str, synset_per_image: list[str], label_of: dict[str, int]
    ) -> list[LabeledRef]:
        members = sorted(archives.index_tar(tar), key=lambda m: Path(m.name).name)
        if len(members) != len(synset_per_image):
            raise KubeslimError(
                f"{tar} has {len(members)} images but the validation labels list "
                f"{len(synset_per_image)}"
            )
        unknown = [s for s in synset_per_image if s not in label_of]
        if unknown:
            raise KubeslimError(f"validation label {unknown[0]!r} is not a listed synset")
        return [
            LabeledRef(label_of[synset], ArchiveRef(tar, member))
            for member, synset in zip(members, synset_per_image, strict=True)
        ]

    def class_names(self) -> list[str]:
        return self._class_names

    def split_records(self, seed: int) -> dict[str, Sequence[LabeledRef]]:
        return self._records

    def read(self, split: str, refs: Sequence[LabeledRef]) -> Iterator[SourceImage]:
        by_archive: dict[str, list[int]] = {}
        for i, ref in enumerate(refs):
            by_archive.setdefault(ref.handle.archive, []).append(i)
        data: list[bytes] = [b""] * len(refs)
        for archive, indices in by_archive.items():
            members = [refs[i].handle.member for i in indices]
            for i, blob in zip(indices, archives.read_members(archive, members), strict=True):
                data[i] = blob
        for ref, blob in zip(refs, data, strict=True):
            yield SourceImage(label=ref.label, encoded=blob)
