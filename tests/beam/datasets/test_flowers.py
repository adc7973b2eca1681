import gzip
import json

import pytest

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.flowers import Flowers
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError

from ..fakes import http_server, make_flowers, read_split, remote_for

CLASSES = {"daisy": 4, "roses": 3, "tulips": 5}
SHARDS = "train=2,validation=1"


def _convert(served, tmp_path, **kwargs):
    flowers = Flowers(file=remote_for(served / "flower_photos.tgz"), validation_size=3)
    return convert_dataset(
        tmp_path / "out",
        ConvertOptions(
            cache_dir=str(tmp_path / "cache"), source=str(served), num_shards=SHARDS, **kwargs
        ),
        dataset=flowers,
    )


def test_flowers_keeps_jpeg_bytes_splits_and_skips_what_does_not_decode(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    jpegs = make_flowers(
        served,
        CLASSES,
        extra={
            "flower_photos/roses/broken.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 50,
            "flower_photos/tulips/notes.txt": b"not an image",
        },
    )
    with http_server(served) as (url, _):
        descriptor = convert_dataset(
            tmp_path / "out",
            ConvertOptions(cache_dir=str(tmp_path / "cache"), source=url, num_shards=SHARDS),
            dataset=Flowers(file=remote_for(served / "flower_photos.tgz"), validation_size=3),
        )
    assert descriptor["class_names"] == ["daisy", "roses", "tulips"]
    splits = descriptor["splits"]
    assert splits["validation"]["num_examples"] + len(splits["validation"]["skipped"]) == 3
    assert splits["train"]["num_examples"] + splits["validation"]["num_examples"] == 12
    skipped = {s["record"]: s["reason"] for split in splits.values() for s in split["skipped"]}
    assert set(skipped) == {"flower_photos/roses/broken.jpg", "flower_photos/tulips/notes.txt"}
    assert all("does not decode" in reason for reason in skipped.values())
    stored = [ex for split in ("train", "validation") for ex in read_split(tmp_path / "out", split)]
    assert sorted(ex["image/encoded"] for ex in stored) == sorted(jpegs.values())
    assert {ex["image/format"] for ex in stored} == {b"jpeg"}
    by_bytes = {data: name.split("/")[1] for name, data in jpegs.items()}
    for ex in stored:
        assert descriptor["class_names"][ex["image/class/label"]] == by_bytes[ex["image/encoded"]]
    assert (ex["image/height"], ex["image/width"]) == (16, 20)


def test_strict_makes_an_undecodable_image_an_error(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_flowers(served, CLASSES, extra={"flower_photos/roses/broken.jpg": b"garbage"})
    with pytest.raises(KubeslimError, match="roses/broken.jpg: does not decode.*--strict"):
        _convert(served, tmp_path, strict=True)
    assert not (tmp_path / "out").exists()


def test_reruns_are_byte_identical(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_flowers(served, CLASSES, extra={"flower_photos/daisy/notes.txt": b"not an image"})
    _convert(served, tmp_path)
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    _convert(served, tmp_path)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == first
    splits = json.loads(first["dataset.json"])["splits"]
    assert sum(s["num_examples"] + len(s["skipped"]) for s in splits.values()) == 13


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"flower_photos/../../evil.jpg": b"x"}, "would land outside the extraction directory"),
        ({"/etc/evil.jpg": b"x"}, "would land outside the extraction directory"),
    ],
)
def test_a_path_traversal_member_is_refused(tmp_path, extra, message):
    served = tmp_path / "mirror"
    served.mkdir()
    make_flowers(served, CLASSES, extra=extra)
    with pytest.raises(KubeslimError, match=message):
        _convert(served, tmp_path)
    assert not (tmp_path / "out").exists()


def test_empty_class_folder_and_truncated_archive_are_errors(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_flowers(served, {"daisy": 3, "roses": 0, "tulips": 2})
    with pytest.raises(KubeslimError, match="class folder 'roses' has no image files"):
        _convert(served, tmp_path)
    make_flowers(served, CLASSES)
    archive = served / "flower_photos.tgz"
    archive.write_bytes(gzip.compress(gzip.decompress(archive.read_bytes())[:5000]))
    with pytest.raises(KubeslimError, match="flower_photos.tar is truncated"):
        _convert(served, tmp_path / "again")
