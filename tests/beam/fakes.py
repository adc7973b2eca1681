"""Small files in each data set's real format, and an HTTP server on 127.0.0.1 to serve them."""

import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from kubeslim.beam.download import RemoteFile


def remote_for(path: Path, base_url: str = "http://canonical.invalid/") -> RemoteFile:
    """A RemoteFile with ``path``'s real size and SHA-256, as a data set module keeps them."""
    data = path.read_bytes()
    return RemoteFile(base_url + path.name, len(data), hashlib.sha256(data).hexdigest())


@dataclass
class ServerLog:
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    fail_first: int = 0  # answer this many requests with HTTP 500
    drop_after: int | None = None  # close the first full response after this many bytes
    ignore_range: bool = False


@contextmanager
def http_server(root: Path) -> Iterator[tuple[str, ServerLog]]:
    """Serves ``root`` on 127.0.0.1 with Range support and fault injection."""
    log = ServerLog()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            log.requests.append((self.path, self.headers.get("Range")))
            if log.fail_first > 0:
                log.fail_first -= 1
                self.send_error(500, "injected failure")
                return
            path = root / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start = 0
            byte_range = self.headers.get("Range")
            if byte_range and not log.ignore_range:
                start = int(byte_range.removeprefix("bytes=").rstrip("-"))
                if start >= len(data):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if log.drop_after is not None and start == 0:
                self.wfile.write(body[: log.drop_after])
                log.drop_after = None
                self.close_connection = True
                return
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def jpeg_bytes(rng: np.random.Generator, size: int = 16, mode: str = "RGB") -> bytes:
    pixels = rng.integers(0, 256, (size, size + 4, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").convert(mode).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def jpeg_tensorflow_rejects() -> bytes:
    """A JPEG whose end-of-image marker is damaged (FF D9 -> C1 D9): Pillow decodes it,
    ``tf.io.decode_image`` fails ("jpeg::Uncompress failed"). One random byte corruption of
    a JPEG in ten or so behaves like this."""
    y, x = np.mgrid[:32, :32]
    pixels = np.stack([x * 255 // 32, y * 255 // 32, (x + y) * 127 // 32], -1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()[:-2] + b"\xc1\xd9"


def png_bytes(rng: np.random.Generator, size: int = 12) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    tar.addfile(info)


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))


def make_mnist(root: Path, n_train: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The four MNIST idx.gz files; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)  # every digit, n >= 10
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images, 2051)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels, 2049)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays


def mnist_files(root: Path) -> dict[str, tuple[RemoteFile, RemoteFile]]:
    return {
        split: tuple(
            remote_for(root / f"{prefix}-{kind}-idx{d}-ubyte.gz")
            for kind, d in (("images", 3), ("labels", 1))
        )
        for split, prefix in (("train", "train"), ("test", "t10k"))
    }


CIFAR_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
]  # fmt: skip


def make_cifar10(
    root: Path, per_batch: int, seed: int = 0, poison: bytes | None = None
) -> dict[str, np.ndarray]:
    """``cifar-10-python.tar.gz`` with pickled batches; ``poison`` replaces data_batch_1."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, list[np.ndarray]] = {"train_images": [], "train_labels": []}
    path = root / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        meta = {b"label_names": [n.encode() for n in CIFAR_CLASSES], b"num_vis": 3072}
        add_bytes(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for index, name in enumerate(names):
            data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            # every class among the training batches
            labels = rng.permutation((np.arange(per_batch) + index * per_batch) % 10).tolist()
            batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data}
            blob = pickle.dumps(batch, protocol=2)
            if poison is not None and name == "data_batch_1":
                blob = poison
            add_bytes(tar, f"cifar-10-batches-py/{name}", blob)
            split = "test" if name == "test_batch" else "train"
            images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            arrays.setdefault(f"{split}_images", []).append(images)
            arrays.setdefault(f"{split}_labels", []).append(np.array(labels))
    return {k: np.concatenate(v) for k, v in arrays.items()}


def make_flowers(
    root: Path, per_class: dict[str, int], seed: int = 0, extra: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """``flower_photos.tgz``: class folders of JPEGs plus LICENSE.txt and ``extra`` members.

    Returns member name -> bytes of the real JPEGs.
    """
    rng = np.random.default_rng(seed)
    jpegs = {}
    with tarfile.open(root / "flower_photos.tgz", "w:gz") as tar:
        add_dir(tar, "flower_photos")
        add_bytes(tar, "flower_photos/LICENSE.txt", b"All images are CC-BY licensed.\n")
        for name, n in per_class.items():
            add_dir(tar, f"flower_photos/{name}")
            for i in range(n):
                member = f"flower_photos/{name}/{i:04d}.jpg"
                jpegs[member] = jpeg_bytes(rng)
                add_bytes(tar, member, jpegs[member])
        for member, data in (extra or {}).items():
            add_bytes(tar, member, data)
    return jpegs


def read_split(dataset_dir: Path, split: str) -> list[dict]:
    """The parsed examples of a converted split, in file order."""
    import tensorflow as tf

    from kubeslim import dataset_spec

    features = {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/format": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.FixedLenFeature([], tf.int64),
        "image/height": tf.io.FixedLenFeature([], tf.int64),
        "image/width": tf.io.FixedLenFeature([], tf.int64),
    }
    descriptor = dataset_spec.read_descriptor(dataset_dir)
    files = dataset_spec.split_files(dataset_dir, descriptor, split)
    return [
        {k: v.numpy() for k, v in tf.io.parse_single_example(record, features).items()}
        for record in tf.data.TFRecordDataset(files)
    ]
