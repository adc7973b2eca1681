"""``tf.train.Example`` serialization and TFRecord framing without importing TensorFlow.

Beam workers build records with this module, so a worker never pays TensorFlow's import time
(seconds per process). The bytes are the standard wire formats: TensorFlow's
``tf.data.TFRecordDataset`` and ``tf.io.parse_single_example`` read them as they read their own.
"""

import struct
from collections.abc import Mapping, Sequence

import google_crc32c

FeatureValue = bytes | int | float | Sequence[bytes] | Sequence[int] | Sequence[float]

_WIRE_LEN = 2
_CRC_MASK_DELTA = 0xA282EAD8


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 two's complement, as protobuf encodes negative int64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _WIRE_LEN) + _varint(len(payload)) + payload


def _feature(value: FeatureValue) -> bytes:
    """Serializes one ``tf.train.Feature`` (BytesList = 1, FloatList = 2, Int64List = 3)."""
    values = [value] if isinstance(value, bytes | int | float) else list(value)
    if all(isinstance(v, bytes) for v in values):
        return _len_field(1, b"".join(_len_field(1, v) for v in values))
    if all(isinstance(v, int) for v in values):
        return _len_field(3, _len_field(1, b"".join(_varint(v) for v in values)))
    if all(isinstance(v, float) for v in values):
        return _len_field(2, _len_field(1, struct.pack(f"<{len(values)}f", *values)))
    raise TypeError(f"feature values must be all bytes, all int or all float, got {values!r}")


def encode_example(features: Mapping[str, FeatureValue]) -> bytes:
    """Serializes a ``tf.train.Example`` from feature name -> value(s), keys in sorted order."""
    entries = b"".join(
        _len_field(1, _len_field(1, key.encode()) + _len_field(2, _feature(features[key])))
        for key in sorted(features)
    )
    return _len_field(1, entries)


def _masked_crc(data: bytes) -> bytes:
    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & 0xFFFFFFFF)


def frame_record(record: bytes) -> bytes:
    """Frames one record as TFRecord does: length, masked CRC32C of length, data, its CRC."""
    length = struct.pack("<Q", len(record))
    return length + _masked_crc(length) + record + _masked_crc(record)
