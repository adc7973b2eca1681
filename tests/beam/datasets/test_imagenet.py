"""An ImageNet-style pair of tars with the synset, metadata and validation label files."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.imagenet import ImageNet
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError

from ..fakes import add_bytes, http_server, jpeg_bytes, png_bytes, read_split, remote_for

SYNSETS = ["n01440764", "n01443537", "n01484850"]
NAMES = {
    "n01440764": "tench, Tinca tinca",
    "n01443537": "goldfish",
    "n01484850": "great white shark",
}


def _make_imagenet(root, validation_synsets=None):
    rng = np.random.default_rng(0)
    images = {}
    with tarfile.open(root / "ILSVRC2012_img_train.tar", "w") as train:
        for synset in SYNSETS:
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as inner_tar:
                for i in range(3):
                    data = jpeg_bytes(rng)
                    if synset == SYNSETS[1] and i == 0:
                        data = png_bytes(rng)  # a PNG under a .JPEG name, as in the real archive
                    if synset == SYNSETS[2] and i == 0:
                        data = jpeg_bytes(rng, mode="CMYK")
                    add_bytes(inner_tar, f"{synset}_{i}.JPEG", data)
                    images[f"{synset}_{i}.JPEG"] = (synset, data)
            add_bytes(train, f"{synset}.tar", inner.getvalue())
    labels = validation_synsets or [SYNSETS[i % 3] for i in range(5)]
    with tarfile.open(root / "ILSVRC2012_img_val.tar", "w") as val:
        for i, synset in enumerate(labels[:5]):
            name = f"ILSVRC2012_val_{i + 1:08d}.JPEG"
            images[name] = (synset, jpeg_bytes(rng))
            add_bytes(val, name, images[name][1])
    (root / "imagenet_lsvrc_2015_synsets.txt").write_text("\n".join(SYNSETS) + "\n")
    (root / "imagenet_metadata.txt").write_text(
        "".join(f"{s}\t{n}\n" for s, n in {**NAMES, "n09999999": "unused"}.items())
    )
    (root / "imagenet_2012_validation_synset_labels.txt").write_text("\n".join(labels) + "\n")
    files = {
        role: remote_for(root / name)
        for role, name in [
            ("train", "ILSVRC2012_img_train.tar"),
            ("validation", "ILSVRC2012_img_val.tar"),
            ("synsets", "imagenet_lsvrc_2015_synsets.txt"),
            ("metadata", "imagenet_metadata.txt"),
            ("validation_labels", "imagenet_2012_validation_synset_labels.txt"),
        ]
    }
    return images, files


def test_imagenet_labels_start_at_one_after_background(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    images, files = _make_imagenet(served)
    with http_server(served) as (url, _):
        descriptor = convert_dataset(
            tmp_path / "out",
            ConvertOptions(
                cache_dir=str(tmp_path / "cache"), source=url, num_shards="train=3,validation=1"
            ),
            dataset=ImageNet(files=files),
        )
    assert descriptor["class_names"] == ["background", *NAMES.values()]
    assert descriptor["background_class"] is True
    assert (tmp_path / "out" / "labels.txt").read_text().splitlines()[:2] == [
        "0:background",
        "1:tench, Tinca tinca",
    ]
    train = read_split(tmp_path / "out", "train")
    validation = read_split(tmp_path / "out", "validation")
    assert (len(train), len(validation)) == (9, 5)
    assert sorted(ex["image/class/label"] for ex in validation) == [1, 1, 2, 2, 3]
    label_of = {s: i + 1 for i, s in enumerate(SYNSETS)}
    by_bytes = {data: synset for synset, data in images.values()}
    formats = []
    for ex in train + validation:
        if ex["image/encoded"] in by_bytes:  # stored as it came
            assert ex["image/class/label"] == label_of[by_bytes[ex["image/encoded"]]]
        formats.append(ex["image/format"])
        decoded = Image.open(io.BytesIO(ex["image/encoded"]))
        assert decoded.mode == "RGB"
    assert formats.count(b"png") == 1  # the PNG is kept as PNG, not mislabelled JPEG
    converted = [ex for ex in train if ex["image/encoded"] not in by_bytes]
    assert len(converted) == 1 and converted[0]["image/class/label"] == 3  # the CMYK JPEG


def test_imagenet_needs_its_files_and_consistent_labels(tmp_path):
    with pytest.raises(KubeslimError, match="needs --source.*ILSVRC2012_img_train.tar"):
        convert_dataset(tmp_path / "out", ConvertOptions(dataset_name="imagenet"))
    served = tmp_path / "mirror"
    served.mkdir()
    _, files = _make_imagenet(served, validation_synsets=[SYNSETS[0]] * 4 + ["n00000000"])
    with pytest.raises(KubeslimError, match="'n00000000' is not a listed synset"):
        convert_dataset(
            tmp_path / "out",
            ConvertOptions(
                cache_dir=str(tmp_path / "c"),
                source=str(served),
                num_shards="train=1,validation=1",
            ),
            dataset=ImageNet(files=files),
        )
