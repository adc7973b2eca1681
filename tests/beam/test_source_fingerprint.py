"""The fingerprint that keys a retraining run's cache: equal for the same data wherever it
lies, different when a file is added, removed or changed, even at the same size and time."""

import os
from pathlib import Path

import pytest

from kubeslim.beam.source_fingerprint import folder_fingerprint, source_fingerprint
from kubeslim.errors import KubeslimError

from .. import s3


def _folder(root, files: dict[str, bytes]):
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return str(root)


def test_a_folder_is_keyed_by_its_content(tmp_path):
    files = {"cats/1.jpg": b"\xff\xd8cat", "dogs/1.jpg": b"\xff\xd8dog"}
    first = folder_fingerprint(_folder(tmp_path / "a", files))
    assert first.endswith(" 2 files")
    assert folder_fingerprint(_folder(tmp_path / "b", files)) == first  # anywhere
    assert folder_fingerprint(str(tmp_path / "a")) == first  # unchanged: the same key

    grown = _folder(tmp_path / "a", {"dogs/2.jpg": b"\xff\xd8dog2"})
    assert folder_fingerprint(grown) != first

    changed = tmp_path / "b" / "cats/1.jpg"
    stat = changed.stat()
    changed.write_bytes(b"\xff\xd8cau")  # same size, then the same time
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert folder_fingerprint(str(tmp_path / "b")) != first


def test_the_key_is_the_sha256_of_each_files_path_size_and_content(tmp_path):
    """The format earlier runs' cache keys were taken in: a line a file, sorted."""
    import hashlib

    files = {"b/2.jpg": b"two", "a/1.jpg": b"one!"}
    lines = sorted(
        f"{name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}" for name, data in files.items()
    )
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert folder_fingerprint(_folder(tmp_path, files)) == f"sha256:{digest} 2 files"


def test_an_object_store_folder_is_keyed_by_its_listing(tmp_path, s3_environment):
    """As the pipeline's first step fingerprints it: outside any Beam job, S3 reached through
    boto3's environment."""
    photos = _folder(tmp_path / "photos", {"cats/1.jpg": b"\xff\xd8cat", "dogs/1.jpg": b"d"})
    root = s3.upload(s3_environment, Path(photos), "fingerprint/photos")
    s3.put(s3_environment, "fingerprint/photos/empty-folder/", b"")  # as consoles make one
    first = folder_fingerprint(root)
    assert first.startswith("sha256:") and first.endswith(" 2 files")
    assert folder_fingerprint(root + "/") == first
    assert source_fingerprint("image_folder", root) == f"image_folder {first}"
    s3.put(s3_environment, "fingerprint/photos/cats/2.jpg", b"\xff\xd8cat2")
    assert folder_fingerprint(root).endswith(" 3 files")
    with pytest.raises(KubeslimError, match="is not a directory to fingerprint"):
        folder_fingerprint(f"s3://{s3.BUCKET}/fingerprint/none")


def test_what_convert_reads_is_what_is_fingerprinted(tmp_path):
    photos = _folder(tmp_path / "photos", {"a/1.png": b"png"})
    assert source_fingerprint("image_folder", photos).startswith("image_folder sha256:")
    assert source_fingerprint("digits") == "digits canonical"
    mirror = "http://127.0.0.1:8000/mnist"
    assert source_fingerprint("mnist", mirror) == f"mnist {mirror}"
    assert source_fingerprint("digits", "", photos).startswith("converted sha256:")
    with pytest.raises(KubeslimError, match="is not a directory to fingerprint"):
        source_fingerprint("image_folder", str(tmp_path / "missing"))
