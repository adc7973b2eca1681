import json
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kubeslim import fileio
from kubeslim.errors import KubeslimError
from kubeslim.fileio import MARKER_FILE, OutputDir, claim_dir, read_marker


def write_output(path: Path, kind: str = "dataset", text: str = "new", **kwargs) -> None:
    with OutputDir(path, kind, **kwargs).staging() as tmp:
        (tmp / "data.txt").write_text(text)


def user_dir(path: Path) -> Path:
    """A directory kubeslim did not write: a file and a subfolder."""
    (path / "sub").mkdir(parents=True)
    (path / "thesis.txt").write_text("four years of work")
    return path


def assert_untouched(path: Path) -> None:
    assert sorted(p.name for p in path.iterdir()) == ["sub", "thesis.txt"]
    assert (path / "thesis.txt").read_text() == "four years of work"


def test_output_appears_only_when_complete_with_its_marker(tmp_path):
    out = tmp_path / "out"
    with OutputDir(out, "dataset").staging() as tmp:
        (tmp / "data.txt").write_text("new")
        assert not out.exists()
    assert (out / "data.txt").read_text() == "new"
    assert read_marker(out)["kind"] == "dataset"
    assert read_marker(out)["state"] == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_previous_output_of_the_same_kind_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    with OutputDir(out, "dataset").staging() as tmp:
        (tmp / "old.txt").write_text("old")
    write_output(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER_FILE, "data.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_directory_becomes_the_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_output(out)
    assert (out / "data.txt").read_text() == "new"


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_directory_kubeslim_did_not_write_is_never_replaced(tmp_path, overwrite):
    out = user_dir(tmp_path / "thesis")
    with pytest.raises(KubeslimError, match="was not written by kubeslim"):
        write_output(out, overwrite=overwrite)
    assert_untouched(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_another_kind_of_kubeslim_output_needs_overwrite(tmp_path):
    out = tmp_path / "out"
    write_output(out, kind="saved_model", text="model")
    with pytest.raises(KubeslimError, match="holds a kubeslim saved_model output.*--overwrite"):
        write_output(out, kind="dataset")
    assert (out / "data.txt").read_text() == "model"
    write_output(out, kind="dataset", overwrite=True)
    assert read_marker(out)["kind"] == "dataset"


def test_a_failure_leaves_the_old_output_and_no_temporary(tmp_path):
    out = tmp_path / "out"
    write_output(out, text="old")
    with pytest.raises(RuntimeError), OutputDir(out, "dataset").staging() as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("killed")
    assert (out / "data.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_something_appearing_at_the_output_while_writing_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KubeslimError, match="not written by kubeslim"):
        with OutputDir(out, "dataset").staging() as tmp:
            (tmp / "data.txt").write_text("new")
            user_dir(out)
    assert_untouched(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_outputs_nested_with_inputs_or_the_current_directory_are_refused(tmp_path, monkeypatch):
    photos = tmp_path / "project" / "photos"
    photos.mkdir(parents=True)
    inputs = {"--source": photos}
    for out, message in (
        (tmp_path / "project", "holds --source"),
        (photos, "is the same directory as --source"),
        (photos / "converted", "lies inside --source"),
    ):
        with pytest.raises(KubeslimError, match=message):
            OutputDir(out, "dataset", inputs=inputs)
    link = tmp_path / "link"
    link.symlink_to(photos)
    with pytest.raises(KubeslimError, match="is the same directory"):
        OutputDir(link, "dataset", inputs=inputs)
    monkeypatch.chdir(photos)
    for out in (".", "..", str(tmp_path)):
        with pytest.raises(KubeslimError, match="current directory"):
            OutputDir(out, "dataset")
    OutputDir(tmp_path / "elsewhere", "dataset", inputs={**inputs, "--cache_dir": None})


def test_an_output_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(KubeslimError, match="is not a directory"):
        OutputDir(tmp_path / "file" / "out", "dataset")
    with pytest.raises(KubeslimError, match="is not a directory"):
        OutputDir(tmp_path / "file", "dataset")


def test_leftovers_are_tidied_saying_so(tmp_path, caplog):
    out = tmp_path / "out"
    write_output(out, text="current")
    unfinished = tmp_path / ".out.tmp-deadbeef"
    unfinished.mkdir()
    (unfinished / MARKER_FILE).write_text(json.dumps({"kind": "dataset", "state": "writing"}))
    (unfinished / "shard.partial").write_text("half")
    replaced = tmp_path / ".out.old-cafebabe"
    replaced.mkdir()
    (replaced / MARKER_FILE).write_text(json.dumps({"kind": "dataset", "state": "complete"}))
    foreign = user_dir(tmp_path / ".out.tmp-notours")
    with caplog.at_level(logging.WARNING, logger="kubeslim.fileio"):
        write_output(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.tmp-notours", "out"]
    assert_untouched(foreign)
    log = caplog.text
    assert "left unfinished" in log and "replaced by an earlier run" in log
    assert "not a kubeslim output" in log


def test_an_output_a_kill_left_beside_its_place_is_restored(tmp_path, caplog):
    out = tmp_path / "out"
    write_output(out, text="old")
    os.replace(out, tmp_path / ".out.old-12345678")  # killed between the two renames
    with caplog.at_level(logging.WARNING, logger="kubeslim.fileio"):
        output = OutputDir(out, "dataset")
    assert (out / "data.txt").read_text() == "old"
    assert "restored" in caplog.text
    with output.staging() as tmp:
        (tmp / "data.txt").write_text("new")
    assert (out / "data.txt").read_text() == "new"


def test_a_live_writer_of_the_same_output_is_not_disturbed(tmp_path):
    out = tmp_path / "out"
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        staging = tmp_path / ".out.tmp-00000001"
        staging.mkdir()
        marker = {"kind": "dataset", "state": "writing", "pid": writer.pid}
        marker["host"] = os.uname().nodename
        (staging / MARKER_FILE).write_text(json.dumps(marker))
        with pytest.raises(KubeslimError, match=f"another kubeslim process \\(pid {writer.pid}"):
            OutputDir(out, "dataset")
        assert staging.is_dir()
    finally:
        writer.kill()
        writer.wait()
    OutputDir(out, "dataset")
    assert not staging.exists()


_REPLACER = textwrap.dedent(
    """
    import itertools, sys
    from pathlib import Path
    from kubeslim import fileio
    if sys.argv[2] == "renames":
        fileio._RENAMEAT2 = None  # a file system that cannot exchange two directories
    out = Path(sys.argv[1])
    print("replacing", flush=True)
    for i in itertools.count():
        with fileio.OutputDir(out, "test").staging() as tmp:
            for f in range(20):
                (tmp / f"part-{f:02d}").write_text(f"{i}\\n" * 200)
    """
)


def _complete(out: Path) -> bool:
    """The output is whole: its marker, and twenty parts written by one run."""
    marker = read_marker(out)
    parts = sorted(out.glob("part-*"))
    contents = {p.read_text() for p in parts}
    return marker["state"] == "complete" and len(parts) == 20 and len(contents) == 1


@pytest.mark.parametrize("mode", ["exchange", "renames"])
def test_a_kill_at_any_instant_of_a_replacement_leaves_the_old_or_the_new_output(tmp_path, mode):
    """SIGKILLs a loop of replacements of a complete output at 60 random instants (on a slow
    machine, some before the first replacement finished). With an atomic exchange the
    final path holds a complete output at every instant; with two renames, the next run
    puts a complete one back. Either way no leftover survives the next run."""
    if mode == "exchange":
        probe = tmp_path / "probe"
        (probe / "a").mkdir(parents=True)
        (probe / "b").mkdir()
        if not fileio._exchange(probe / "a", probe / "b"):
            pytest.skip("this file system cannot exchange two directories")
    out = tmp_path / "out"
    with fileio.OutputDir(out, "test").staging() as tmp:  # the old output of the first kill
        for f in range(20):
            (tmp / f"part-{f:02d}").write_text("old\n" * 200)
    rng = random.Random(13)
    interrupted = 0  # kills that left something beside the output for the next run
    for _ in range(60):
        child = subprocess.Popen(
            [sys.executable, "-c", _REPLACER, str(out), mode], stdout=subprocess.PIPE
        )
        assert child.stdout.readline() == b"replacing\n"
        time.sleep(rng.uniform(0.002, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        if mode == "exchange":
            assert _complete(out)
        interrupted += any(p.name.startswith(".out") for p in tmp_path.iterdir())
        fileio.recover(out)
        assert _complete(out)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    print(f"{interrupted} of 60 kills interrupted a write or a replacement")
    assert interrupted >= 30


def test_claimed_directories_grow_and_refuse_what_is_not_theirs(tmp_path):
    model = claim_dir(tmp_path / "model", "classifier_model")
    (model / "model.ckpt-1.index").write_text("x")
    assert claim_dir(model, "classifier_model") == model
    assert read_marker(model)["kind"] == "classifier_model"
    with pytest.raises(KubeslimError, match="holds a kubeslim classifier_model output"):
        claim_dir(model, "word2vec_model")
    with pytest.raises(KubeslimError, match="was not written by kubeslim"):
        claim_dir(user_dir(tmp_path / "home"), "classifier_model")
    assert_untouched(tmp_path / "home")
    with pytest.raises(KubeslimError, match="lies inside --dataset_dir"):
        claim_dir(
            tmp_path / "data" / "model",
            "classifier_model",
            inputs={"--dataset_dir": tmp_path / "data"},
        )


def test_text_written_atomically_replaces_whole(tmp_path):
    path = tmp_path / "training.json"
    fileio.write_text_atomic(path, "one")
    fileio.write_text_atomic(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["training.json"]
