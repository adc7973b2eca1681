"""Session fixtures: one real conversion of the digits, one real training run, one export and
one freeze, a small folder of RGB photos converted, the embedded text corpora converted, and an
S3-compatible server, shared by the tests that use them."""

import fcntl
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_PARITY = "test_tf_slim_parity.py"
# The longest test files (minutes each), collected first: pytest-xdist hands whole files to
# its workers in collection order (``make test`` runs ``--dist loadfile``), so the two
# workers end together instead of one finishing a long file alone.
_LONGEST_FIRST = (
    "tests/pipelines/test_local_runner.py",
    "tests/components/text/test_translation.py",
    "tests/pipelines/test_text_models.py",
    "tests/components/text/test_ptb_lm.py",
    "tests/components/test_fine_tune.py",
    "tests/components/test_train.py",
    "tests/components/nets/test_tf_slim_parity.py",
    "tests/components/test_foreign_checkpoints.py",
)


def _graphs_module():
    path = Path(__file__).parent / "tf_slim_graphs.py"
    spec = importlib.util.spec_from_file_location("tf_slim_graphs_runner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start_tf_slim_graphs(config: pytest.Config, directory: Path) -> None:
    config.tf_slim_graphs = _graphs_module().BackgroundGraphs.start(directory)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """Puts the longest files first, and starts saving TF-Slim's graphs in the background as
    soon as a test of them is collected, so the work overlaps the tests that run before them
    (under pytest-xdist the controller starts it: ``pytest_xdist_node_collection_finished``)."""
    rank = {name: i for i, name in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    worker = hasattr(config, "workerinput")
    if not worker and any(_PARITY in item.nodeid for item in items):
        _start_tf_slim_graphs(config, Path(tempfile.mkdtemp(prefix="tf-slim-")))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist's controller: tells each worker where TF-Slim's graphs will be saved."""
    config = node.config
    if not hasattr(config, "tf_slim_graphs_dir"):
        config.tf_slim_graphs_dir = Path(tempfile.mkdtemp(prefix="tf-slim-"))
    node.workerinput["tf_slim_graphs_dir"] = str(config.tf_slim_graphs_dir)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """pytest-xdist's controller: starts saving TF-Slim's graphs, once, for its workers."""
    config = node.config
    if not hasattr(config, "tf_slim_graphs") and any(_PARITY in i for i in ids):
        _start_tf_slim_graphs(config, config.tf_slim_graphs_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    graphs = getattr(config, "tf_slim_graphs", None)
    if graphs is not None:
        graphs.close()
    elif hasattr(config, "tf_slim_graphs_dir"):
        shutil.rmtree(config.tf_slim_graphs_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def tf_slim_graphs(pytestconfig: pytest.Config):
    """TF-Slim's graphs of the nets the tf-slim package ships (``tf_slim_graphs.SHIPPED``),
    saved in the background since collection."""
    worker = getattr(pytestconfig, "workerinput", None)
    if worker is not None:
        return _graphs_module().BackgroundGraphs(Path(worker["tf_slim_graphs_dir"]))
    return pytestconfig.tf_slim_graphs


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """``factory``'s ``name``, built by ``build(path)`` once per test run: under pytest-xdist
    the first worker to need it builds it, holding a lock, and the others wait and share it."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' common base
    out, done = root / "shared" / name, root / "shared" / f"{name}.done"
    out.parent.mkdir(exist_ok=True)
    with (root / "shared" / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)  # a failed build's leftovers
            build(out)
            done.touch()
    return out


TRAIN_EPOCHS = 6


@pytest.fixture(scope="session")
def photos_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three classes of six random RGB photos of assorted sizes, converted as an image folder
    (half of each class held out): a data set of three channels, as TF-Slim's nets expect."""

    def build(root: Path) -> None:
        import numpy as np
        from PIL import Image

        from kubeslim.beam.convert import convert_dataset
        from kubeslim.beam.options import ConvertOptions

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

    return str(built_once(tmp_path_factory, "photos", build) / "data")


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kubeslim.beam.convert import convert_dataset

    return built_once(tmp_path_factory, "digits", convert_dataset)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, digits_dir: Path) -> Path:
    from kubeslim.components.options import TrainOptions
    from kubeslim.components.train import train

    return built_once(
        tmp_path_factory,
        "model",
        lambda out: train(digits_dir, out, TrainOptions(num_epochs=TRAIN_EPOCHS)),
    )


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    from kubeslim.components.export import export_saved_model

    return built_once(
        tmp_path_factory, "saved_model", lambda out: export_saved_model(model_dir, out)
    )


@pytest.fixture(scope="session")
def frozen_dir(tmp_path_factory: pytest.TempPathFactory, export_dir: Path) -> Path:
    from kubeslim.components.freeze import freeze_saved_model

    return built_once(tmp_path_factory, "frozen", lambda out: freeze_saved_model(export_dir, out))


def _converted_corpus(factory: pytest.TempPathFactory, name: str) -> Path:
    from kubeslim.beam.convert_text import convert_corpus
    from kubeslim.beam.options import ConvertTextOptions

    return built_once(
        factory, name, lambda out: convert_corpus(out, ConvertTextOptions(corpus_name=name))
    )


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded pydoc_text corpus, converted."""
    return _converted_corpus(tmp_path_factory, "pydoc_text")


@pytest.fixture(scope="session")
def numbers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded numbers_enfr parallel corpus, converted."""
    return _converted_corpus(tmp_path_factory, "numbers_enfr")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server (moto's) on 127.0.0.1 with an empty bucket ``s3.BUCKET``."""
    from .s3 import s3_server

    with s3_server(tmp_path_factory.mktemp("s3") / "server.log") as endpoint:
        yield endpoint


@pytest.fixture
def s3_environment(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The S3 server as a step outside any Beam job reaches it: Beam's file systems without
    pipeline options, boto3 configured by the environment, as in a pod."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.value_provider import RuntimeValueProvider

    from .s3 import environment

    for name, value in environment(s3_endpoint).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(FileSystems, "_pipeline_options", None)
    monkeypatch.setattr(RuntimeValueProvider, "runtime_options", None)
    return s3_endpoint
