"""Our TF-free Example and TFRecord encoders, read back by TensorFlow itself."""

import numpy as np
import pytest
import tensorflow as tf

from kubeslim.beam import records


def test_example_parses_with_tensorflow():
    serialized = records.encode_example(
        {
            "bytes": b"\x00\xffpng",
            "int": 7,
            "negative": -3,
            "big": 2**40,
            "ints": [1, 2, 300],
            "floats": [0.5, -1.25],
            "strings": [b"a", b"bc"],
        }
    )
    parsed = tf.io.parse_single_example(
        serialized,
        {
            "bytes": tf.io.FixedLenFeature([], tf.string),
            "int": tf.io.FixedLenFeature([], tf.int64),
            "negative": tf.io.FixedLenFeature([], tf.int64),
            "big": tf.io.FixedLenFeature([], tf.int64),
            "ints": tf.io.FixedLenFeature([3], tf.int64),
            "floats": tf.io.FixedLenFeature([2], tf.float32),
            "strings": tf.io.FixedLenFeature([2], tf.string),
        },
    )
    assert parsed["bytes"].numpy() == b"\x00\xffpng"
    assert parsed["int"].numpy() == 7
    assert parsed["negative"].numpy() == -3
    assert parsed["big"].numpy() == 2**40
    np.testing.assert_array_equal(parsed["ints"].numpy(), [1, 2, 300])
    np.testing.assert_array_equal(parsed["floats"].numpy(), [0.5, -1.25])
    assert list(parsed["strings"].numpy()) == [b"a", b"bc"]


def test_example_equals_tensorflow_serialization():
    ours = records.encode_example({"a": b"x", "b": [1, 2]})
    theirs = tf.train.Example()
    theirs.ParseFromString(ours)
    assert theirs.features.feature["a"].bytes_list.value == [b"x"]
    assert list(theirs.features.feature["b"].int64_list.value) == [1, 2]


def test_mixed_feature_values_are_refused():
    with pytest.raises(TypeError, match="all bytes, all int or all float"):
        records.encode_example({"mixed": [1, b"x"]})


def test_framed_records_read_back_and_corruption_is_detected(tmp_path):
    payloads = [b"first", b"", b"x" * 1000]
    path = tmp_path / "r.tfrecord"
    path.write_bytes(b"".join(records.frame_record(p) for p in payloads))
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == payloads

    corrupt = bytearray(path.read_bytes())
    corrupt[14] ^= 0xFF  # inside the first record's data
    path.write_bytes(bytes(corrupt))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(str(path)))


def test_cached_entries_keep_int_and_float_apart_and_long_bytes_whole():
    """Scalars and short bytes are cached per value: 1 and 1.0 are still different features."""
    for value, kind in (
        (1, "int64_list"),
        (1.0, "float_list"),
        (1, "int64_list"),
        (b"p" * 64, "bytes_list"),
        (b"q" * 5000, "bytes_list"),
    ):
        feature = tf.train.Example.FromString(records.encode_example({"v": value}))
        parsed = feature.features.feature["v"]
        assert parsed.WhichOneof("kind") == kind
        assert list(getattr(parsed, kind).value) == [value]


def test_zero_and_negative_zero_floats_encode_as_themselves():
    assert records.encode_example({"v": -0.0}) != records.encode_example({"v": 0.0})
    assert records.encode_example({"v": 0.0}) == records.encode_example({"v": 0.0})
