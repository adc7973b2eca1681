"""One image as the converter stores it: pixels become PNG; image file bytes are kept when
they are a JPEG or PNG in grey or RGB, and re-encoded as 8-bit RGB otherwise; and the
``tf.train.Example`` around it, with TF-Slim's feature keys."""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from kubeslim import dataset_spec
from kubeslim.beam import records
from kubeslim.beam.datasets.base import SourceImage
from kubeslim.errors import KubeslimError


class SkippedImage(Exception):
    """An image that cannot go into the data set; ``str()`` says why."""


@dataclass(frozen=True)
class EncodedImage:
    """The bytes stored for one image; ``from_file`` when they came from a source file (and
    so must be checked with TensorFlow, ``decode_check``)."""

    data: bytes
    format: str
    height: int
    width: int
    from_file: bool = False


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB of any Pillow image. 16-bit grey keeps its high byte, as TensorFlow's PNG decoder
    reads it (Pillow's own conversion clips it, turning a normal image white)."""
    if image.mode.startswith("I;16") or (image.mode == "I" and image.format == "PNG"):
        high = np.clip(np.asarray(image, dtype=np.int64) >> 8, 0, 255).astype(np.uint8)
        return Image.fromarray(high, "L").convert("RGB")
    return image.convert("RGB")


def encode_image(image: SourceImage, where: str, channels: int) -> EncodedImage:
    """The bytes to store for one image.

    Pixels become PNG. Image file bytes are kept as they are when they are a JPEG or PNG in
    grey or RGB; other formats and colour modes (CMYK, palette, alpha, 16-bit) are converted
    to 8-bit RGB and re-encoded, as JPEG when they came as JPEG and as PNG otherwise. Whether
    file bytes decode as training decodes them is checked afterwards (``decode_check``).

    Raises:
      SkippedImage: the bytes are not an image Pillow can read.
      KubeslimError: the pixels are not uint8 [h, w, channels].
    """
    if image.pixels is not None:
        pixels = image.pixels
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[-1] != channels:
            raise KubeslimError(
                f"{where}: expected uint8 pixels of shape [h, w, {channels}], "
                f"got {pixels.dtype} {pixels.shape}"
            )
        return EncodedImage(records.encode_png(pixels), "png", pixels.shape[0], pixels.shape[1])
    try:
        with Image.open(io.BytesIO(image.encoded)) as decoded:
            source_format, mode, (width, height) = decoded.format, decoded.mode, decoded.size
            if source_format in ("JPEG", "PNG") and mode in ("L", "RGB"):
                return EncodedImage(image.encoded, source_format.lower(), height, width, True)
            decoded.load()
            buffer = io.BytesIO()
            out_format = "JPEG" if source_format == "JPEG" else "PNG"
            _to_rgb(decoded).save(buffer, out_format, quality=95)
    except Image.UnidentifiedImageError:
        raise SkippedImage("does not decode as an image (not a known image format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise SkippedImage(f"does not decode as an image ({e})") from None
    return EncodedImage(buffer.getvalue(), out_format.lower(), height, width, True)


def build_example(encoded: EncodedImage, label: int) -> bytes:
    """A serialized ``tf.train.Example`` with TF-Slim's feature keys."""
    keys = dataset_spec.FEATURE_KEYS
    return records.encode_example(
        {
            keys["image"]: encoded.data,
            keys["format"]: encoded.format.encode(),
            keys["label"]: label,
            keys["height"]: encoded.height,
            keys["width"]: encoded.width,
        }
    )
