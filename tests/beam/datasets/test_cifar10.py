import os
import pickle

import pytest
import tensorflow as tf

from kubeslim.beam.convert import convert_dataset
from kubeslim.beam.datasets.cifar10 import Cifar10, load_batch
from kubeslim.beam.options import ConvertOptions
from kubeslim.errors import KubeslimError

from ..fakes import CIFAR_CLASSES, http_server, make_cifar10, read_split, remote_for


def test_cifar10_round_trip_with_class_names_from_the_archive(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    arrays = make_cifar10(served, per_batch=6)
    with http_server(served) as (url, _):
        descriptor = convert_dataset(
            tmp_path / "out",
            ConvertOptions(cache_dir=str(tmp_path / "cache"), source=url),
            dataset=Cifar10(file=remote_for(served / "cifar-10-python.tar.gz")),
        )
    assert descriptor["class_names"] == CIFAR_CLASSES
    assert (tmp_path / "out" / "labels.txt").read_text().splitlines()[1] == "1:automobile"
    assert descriptor["image_shape"] == [32, 32, 3]
    for split, n in (("train", 30), ("test", 6)):
        examples = read_split(tmp_path / "out", split)
        assert len(examples) == n
        decoded = sorted(
            (int(ex["image/class/label"]), tf.io.decode_png(ex["image/encoded"]).numpy().tobytes())
            for ex in examples
        )
        expected = sorted(
            (int(label), image.tobytes())
            for image, label in zip(
                arrays[f"{split}_images"], arrays[f"{split}_labels"], strict=True
            )
        )
        assert decoded == expected


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/kubeslim-pwned",))


def test_a_malicious_pickle_is_refused_and_nothing_runs_or_is_written(tmp_path):
    served = tmp_path / "mirror"
    served.mkdir()
    make_cifar10(served, per_batch=2, poison=pickle.dumps(_Exploit(), protocol=2))
    out = tmp_path / "out"
    with pytest.raises(KubeslimError, match="data_batch_1: refused to unpickle.*system"):
        convert_dataset(
            out,
            ConvertOptions(cache_dir=str(tmp_path / "cache"), source=str(served)),
            dataset=Cifar10(file=remote_for(served / "cifar-10-python.tar.gz")),
        )
    assert not out.exists()
    assert not os.path.exists("/tmp/kubeslim-pwned")


def test_restricted_unpickler_still_reads_plain_batches():
    batch = load_batch(pickle.dumps({b"labels": [1, 2], b"name": b"x"}, protocol=2), "here")
    assert batch == {b"labels": [1, 2], b"name": b"x"}
    with pytest.raises(KubeslimError, match="here: expected a dict"):
        load_batch(pickle.dumps([1], protocol=2), "here")
