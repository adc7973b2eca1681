"""Session fixtures: one real conversion of the digits, one real training run, one export and
one freeze, a small folder of RGB photos converted, the embedded text corpora converted, and an
S3-compatible server, shared by the tests that use them."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_PARITY = "test_tf_slim_parity.py"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """Starts saving TF-Slim's graphs in the background as soon as a test of them is
    collected, so the work overlaps the tests that run before them."""
    if any(_PARITY in item.nodeid for item in items):
        import importlib.util
        import tempfile

        path = Path(__file__).parent / "tf_slim_graphs.py"
        spec = importlib.util.spec_from_file_location("tf_slim_graphs_runner", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        config.tf_slim_graphs = module.BackgroundGraphs(Path(tempfile.mkdtemp(prefix="tf-slim-")))


def pytest_unconfigure(config: pytest.Config) -> None:
    graphs = getattr(config, "tf_slim_graphs", None)
    if graphs is not None:
        graphs.close()


@pytest.fixture(scope="session")
def tf_slim_graphs(pytestconfig: pytest.Config):
    """TF-Slim's graphs of the nets the tf-slim package ships (``tf_slim_graphs.SHIPPED``),
    saved in the background since collection."""
    return pytestconfig.tf_slim_graphs


TRAIN_EPOCHS = 6


@pytest.fixture(scope="session")
def photos_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three classes of six random RGB photos of assorted sizes, converted as an image folder
    (half of each class held out): a data set of three channels, as TF-Slim's nets expect."""
    import numpy as np
    from PIL import Image

    from kubeslim.beam.convert import convert_dataset
    from kubeslim.beam.options import ConvertOptions

    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    for c in range(3):
        (root / "photos" / f"class_{c}").mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 256, (rng.integers(30, 60), rng.integers(30, 60), 3))
            Image.fromarray(pixels.astype(np.uint8)).save(
                root / "photos" / f"class_{c}" / f"{i}.png"
            )
    options = ConvertOptions(
        dataset_name="image_folder", source=str(root / "photos"), validation_size=0.5
    )
    convert_dataset(root / "data", options)
    return str(root / "data")


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kubeslim.beam.convert import convert_dataset

    out = tmp_path_factory.mktemp("data") / "digits"
    convert_dataset(out)
    return out


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, digits_dir: Path) -> Path:
    from kubeslim.components.options import TrainOptions
    from kubeslim.components.train import train

    out = tmp_path_factory.mktemp("train") / "model"
    train(digits_dir, out, TrainOptions(num_epochs=TRAIN_EPOCHS))
    return out


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    from kubeslim.components.export import export_saved_model

    return export_saved_model(model_dir, tmp_path_factory.mktemp("export") / "saved_model")


@pytest.fixture(scope="session")
def frozen_dir(tmp_path_factory: pytest.TempPathFactory, export_dir: Path) -> Path:
    from kubeslim.components.freeze import freeze_saved_model

    out = tmp_path_factory.mktemp("freeze") / "frozen"
    freeze_saved_model(export_dir, out)
    return out


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded pydoc_text corpus, converted."""
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    out = tmp_path_factory.mktemp("text") / "pydoc_text"
    convert_corpus(out, ConvertTextOptions(corpus_name="pydoc_text"))
    return out


@pytest.fixture(scope="session")
def numbers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded numbers_enfr parallel corpus, converted."""
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    out = tmp_path_factory.mktemp("text") / "numbers_enfr"
    convert_corpus(out, ConvertTextOptions(corpus_name="numbers_enfr"))
    return out


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server (moto's) on 127.0.0.1 with an empty bucket ``s3.BUCKET``."""
    from .s3 import s3_server

    with s3_server(tmp_path_factory.mktemp("s3") / "server.log") as endpoint:
        yield endpoint
