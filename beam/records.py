"""PNG encoding, ``tf.train.Example`` serialization and TFRecord framing without TensorFlow.

Beam workers build records with this module, so a worker never pays TensorFlow's import time
(seconds per process), and the per-record work is a few fast calls. The bytes are the standard
formats: TensorFlow's ``tf.io.decode_png``, ``tf.io.parse_single_example`` and
``tf.data.TFRecordDataset`` read them as they read their own.
"""

import functools
import struct
import zlib
from collections.abc import Mapping, Sequence

import google_crc32c
import numpy as np

FeatureValue = bytes | int | float | Sequence[bytes] | Sequence[int] | Sequence[float]

_WIRE_LEN = 2
_CRC_MASK_DELTA = 0xA282EAD8


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR_TYPES = {1: 0, 3: 2}  # grey, RGB
_PNG_ZLIB_LEVEL = 6  # zlib's default, as tf.io.encode_png and Pillow use


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray) -> bytes:
    """Encodes uint8 [height, width, 1 or 3] pixels as an 8-bit grey or RGB PNG.

    Every scanline uses filter 0 and the image data is one zlib stream: for small images this
    is several times faster than an imaging library's encoder, and any PNG decoder reads it.
    """
    height, width, channels = pixels.shape
    rows = np.zeros((height, 1 + width * channels), np.uint8)  # column 0: filter type 0
    rows[:, 1:] = pixels.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return b"".join(
        [
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), _PNG_ZLIB_LEVEL)),
            _png_chunk(b"IEND", b""),
        ]
    )


_SMALL_VARINTS = [bytes([i]) for i in range(0x80)]


def _varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _SMALL_VARINTS[value]
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


@functools.cache
def _key_field(key: str) -> bytes:
    return _len_field(1, key.encode())


_CACHED_BYTES = 64  # a bytes value this short (an image format, a class name) is cached


@functools.lru_cache(maxsize=1 << 16, typed=True)  # typed: True and 1 stay apart
def _cached_entry(key: str, value: bytes | int) -> bytes:
    return _entry(key, _feature(value))


def _entry(key: str, feature: bytes) -> bytes:
    """One entry of the ``Features`` map: key and its serialized ``Feature``."""
    return _len_field(1, _key_field(key) + _len_field(2, feature))


def encode_example(features: Mapping[str, FeatureValue]) -> bytes:
    """Serializes a ``tf.train.Example`` from feature name -> value(s), keys in sorted order.

    Integers and short bytes (a record's label, size, format) repeat across records, so their
    entries are cached (not floats: 0.0 and -0.0 are equal keys but different bytes); a long
    bytes value (the image) is framed each time.
    """
    entries = []
    for key in sorted(features):
        value = features[key]
        if isinstance(value, int) or (isinstance(value, bytes) and len(value) <= _CACHED_BYTES):
            entries.append(_cached_entry(key, value))
        else:
            entries.append(_entry(key, _feature(value)))
    return _len_field(1, b"".join(entries))


def _masked_crc(data: bytes) -> bytes:
    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & 0xFFFFFFFF)


def frame_record(record: bytes) -> bytes:
    """Frames one record as TFRecord does: length, masked CRC32C of length, data, its CRC."""
    length = struct.pack("<Q", len(record))
    return length + _masked_crc(length) + record + _masked_crc(record)
