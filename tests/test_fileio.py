import pytest

from kubeslim.errors import KubeslimError
from kubeslim.fileio import atomic_output_dir


def test_output_appears_only_when_complete_and_replaces_the_old(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_output_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
        assert (out / "old.txt").exists() and not (out / "new.txt").exists()
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failure_leaves_the_old_output_and_no_temporary(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_output_dir(out) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("killed")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    stale = tmp_path / ".out.tmp-deadbeef"
    stale.mkdir()
    (stale / "shard.tfrecord.partial").write_bytes(b"half")
    with atomic_output_dir(tmp_path / "out") as tmp:
        (tmp / "done.txt").write_text("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_output_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(KubeslimError, match="is not a directory"):
        with atomic_output_dir(tmp_path / "file" / "out"):
            pass
