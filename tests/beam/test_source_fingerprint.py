"""The fingerprint that keys a retraining run's cache: equal for the same data wherever it
lies, different when a file is added, removed or changed, even at the same size and time."""

import os

import pytest
import tensorflow as tf

from kubeslim.beam.source_fingerprint import folder_fingerprint, source_fingerprint
from kubeslim.errors import KubeslimError


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


def test_an_object_store_folder_is_keyed_by_its_listing(tmp_path):
    root = "ram://fingerprint/photos"
    tf.io.gfile.makedirs(f"{root}/cats")
    with tf.io.gfile.GFile(f"{root}/cats/1.jpg", "wb") as f:
        f.write(b"\xff\xd8cat")
    first = folder_fingerprint(root)
    assert folder_fingerprint(root) == first
    with tf.io.gfile.GFile(f"{root}/cats/2.jpg", "wb") as f:
        f.write(b"\xff\xd8cat2")
    assert folder_fingerprint(root) != first


def test_what_convert_reads_is_what_is_fingerprinted(tmp_path):
    photos = _folder(tmp_path / "photos", {"a/1.png": b"png"})
    assert source_fingerprint("image_folder", photos).startswith("image_folder sha256:")
    assert source_fingerprint("digits") == "digits canonical"
    mirror = "http://127.0.0.1:8000/mnist"
    assert source_fingerprint("mnist", mirror) == f"mnist {mirror}"
    assert source_fingerprint("digits", "", photos).startswith("converted sha256:")
    with pytest.raises(KubeslimError, match="is not a directory to fingerprint"):
        source_fingerprint("image_folder", str(tmp_path / "missing"))
