"""Output directories on an object store (an S3-compatible server on 127.0.0.1): what they
refuse, and what killed runs leave behind."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kubeslim import addresses, fileio, output_dirs, storage
from kubeslim.beam.runner import make_pipeline_options
from kubeslim.errors import KubeslimError

from .s3 import BUCKET, keys, put, s3_args


@pytest.fixture
def s3(s3_endpoint: str) -> str:
    make_pipeline_options(s3_args(s3_endpoint))  # Beam's file systems now reach the server
    return s3_endpoint


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _marker(kind: str, state: str, host: str, pid: int) -> bytes:
    text = {"kind": kind, "state": state, "written_by": "kubeslim", "host": host, "pid": pid}
    return json.dumps(text).encode()


def test_a_staged_output_moves_into_place_whole_or_not_at_all(s3):
    output = output_dirs.output_dir(f"s3://{BUCKET}/whole", "dataset")
    with pytest.raises(RuntimeError), output.staging() as staged:
        storage.write_text(storage.join(staged, "a.txt"), "a")
        raise RuntimeError("killed halfway")
    assert keys(s3, "whole") == [] and keys(s3, ".whole") == []
    with output.staging() as staged:
        storage.write_text(storage.join(staged, "a.txt"), "a")
        assert keys(s3, "whole") == []
    assert keys(s3, "whole/") == ["whole/.kubeslim-output.json", "whole/a.txt"]
    assert (
        fileio.parse_marker(storage.read_bytes(f"s3://{BUCKET}/whole/{fileio.MARKER_FILE}"))[
            "state"
        ]
        == fileio.COMPLETE
    )
    assert keys(s3, ".whole") == []


def test_leftovers_of_killed_runs_on_this_host_are_removed_others_kept(s3):
    host = socket.gethostname()
    for leftover, who in (("dead", (host, _dead_pid())), ("elsewhere", ("otherhost", 1))):
        prefix = f".kept.tmp-{leftover}"
        put(s3, f"{prefix}/{fileio.MARKER_FILE}", _marker("dataset", fileio.WRITING, *who))
        put(s3, f"{prefix}/shard.tfrecord", b"partial")
    output_dirs.output_dir(f"s3://{BUCKET}/kept", "dataset")
    assert keys(s3, ".kept") == [
        f".kept.tmp-elsewhere/{fileio.MARKER_FILE}",
        ".kept.tmp-elsewhere/shard.tfrecord",
    ]


def test_an_empty_object_is_written_and_a_failed_one_leaves_nothing(s3):
    storage.write_text(f"s3://{BUCKET}/empty.txt", "")  # S3 refuses Beam's empty upload
    assert storage.read_bytes(f"s3://{BUCKET}/empty.txt") == b""
    with pytest.raises(ValueError, match="the job's own error"):
        with storage.writing(f"s3://{BUCKET}/failed.bin") as f:
            f.write(b"half")
            raise ValueError("the job's own error")
    assert keys(s3, "failed") == []
    with pytest.raises(KubeslimError, match="cannot write s3://no-such-bucket/x"):
        storage.write_text("s3://no-such-bucket/x", "x")


@pytest.mark.parametrize(
    ("path", "inputs", "message"),
    [
        (f"s3://{BUCKET}", {}, "name a folder inside the bucket"),
        (f"s3://{BUCKET}/run[1]", {}, r"may not hold \* \? \[ or \]"),
        (f"s3://{BUCKET}/in/out", {"--source": f"s3://{BUCKET}/in"}, "lies inside --source"),
        (f"s3://{BUCKET}/in", {"--source": f"s3://{BUCKET}/in/x/*.txt"}, "holds or lies inside"),
        ("nosuch://bucket/out", {}, r"no file system for nosuch://"),
    ],
)
def test_an_output_that_may_not_be_written_there_is_refused(s3, path, inputs, message):
    with pytest.raises(KubeslimError, match=message):
        output_dirs.output_dir(path, "dataset", inputs=inputs)


def test_an_object_where_the_directory_should_be_and_another_kind_are_refused(s3):
    put(s3, "plain", b"x")
    with pytest.raises(KubeslimError, match="is an object, not a directory"):
        output_dirs.output_dir(f"s3://{BUCKET}/plain", "dataset")
    put(s3, f"kind/{fileio.MARKER_FILE}", fileio.marker_text("transform", "complete").encode())
    with pytest.raises(KubeslimError, match="holds a kubeslim transform output.*--overwrite"):
        output_dirs.output_dir(f"s3://{BUCKET}/kind", "dataset")
    output_dirs.output_dir(f"s3://{BUCKET}/kind", "dataset", overwrite=True)


def test_a_step_that_writes_locally_refuses_an_address(tmp_path):
    with pytest.raises(KubeslimError, match="--export_dir s3://b/x: this step writes a local"):
        fileio.OutputDir("s3://b/x", "saved_model", what="--export_dir")


def test_a_local_file_appears_only_when_written_whole(tmp_path):
    target = tmp_path / "shard.tfrecord"
    with pytest.raises(RuntimeError), storage.writing(str(target)) as f:
        f.write(b"half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_a_tf_slim_checkpoint_on_s3_is_refused_with_what_to_do(tmp_path):
    import keras

    from kubeslim.components.fine_tune import read_checkpoint

    with pytest.raises(
        KubeslimError, match=r"--checkpoint_path s3://b/m.ckpt: TensorFlow .*s3 sync"
    ):
        read_checkpoint("s3://b/m.ckpt", keras.Sequential())


def test_a_local_listing_follows_folder_links_once_and_takes_file_urls(tmp_path):
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "root" / "a" / "1.png").write_bytes(b"12345")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "2.png").write_bytes(b"12")
    (tmp_path / "root" / "b").symlink_to(tmp_path / "elsewhere")  # a class folder linked in
    (tmp_path / "root" / "a" / "up").symlink_to(tmp_path / "root")  # a loop
    for root in (str(tmp_path / "root"), f"file://{tmp_path}/root/"):
        files = storage.list_files(root)
        assert [(f.relative, f.size) for f in files] == [("a/1.png", 5), ("b/2.png", 2)]
        assert files[0].mtime_ns == int((tmp_path / "root/a/1.png").stat().st_mtime) * 10**9
        assert storage.is_dir(root) and storage.exists(root)
    assert storage.exists(f"file://{tmp_path}/root/a/1.png")
    assert not storage.exists(tmp_path / "none") and storage.list_files(tmp_path / "none") == []
    storage.make_dirs(f"file://{tmp_path}/made/deep")
    assert (tmp_path / "made" / "deep").is_dir()


def test_an_s3_listing_leaves_folder_objects_out_unless_asked(s3):
    put(s3, "listing/photos/", b"")
    put(s3, "listing/photos/a/1.png", b"123")
    root = f"s3://{BUCKET}/listing/photos"
    assert [(f.relative, f.size) for f in storage.list_files(root)] == [("a/1.png", 3)]
    assert [f.relative for f in storage.list_files(root + "/", folder_objects=True)] == [
        "",
        "a/1.png",
    ]
    assert storage.is_dir(root) and not storage.is_dir(f"s3://{BUCKET}/listing/none")
    assert storage.exists(root + "/a/1.png") and not storage.is_file(root)


def test_an_address_is_a_scheme_then_two_slashes_as_beams_file_systems_take_it(
    tmp_path, monkeypatch
):
    from apache_beam.io.filesystems import FileSystems

    paths = ["gs://b/x", "s3://b/x", "S3://b", "hdfs://n/x", "file:///x", "a:b", "run:2/x", "/x"]
    for path in paths:
        scheme = FileSystems.get_scheme(path)
        assert addresses.is_uri(path) == (scheme not in (None, "file")), path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run:2").mkdir()  # a local folder with a colon in its name
    (tmp_path / "run:2" / "1.png").write_bytes(b"123")
    assert [(f.relative, f.size) for f in storage.list_files("run:2")] == [("1.png", 3)]
    assert storage.is_dir("run:2") and storage.read_bytes("run:2/1.png") == b"123"
    for typo in ("gs:/b/x", "S3:/b", str(Path("s3://b/x"))):  # one slash: not a local "gs:"
        with pytest.raises(KubeslimError, match="two slashes after"):
            addresses.is_uri(typo)
