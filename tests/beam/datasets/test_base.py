import numpy as np
import pytest

from kubeslim.beam.datasets import base


@pytest.mark.parametrize("block_bytes", [4 << 20, 100, 1])
def test_record_file_indexes_like_the_array(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(base, "_BLOCK_BYTES", block_bytes)
    records = np.random.default_rng(0).integers(0, 256, (50, 4, 3), dtype=np.uint8)
    path = tmp_path / "records.bin"
    path.write_bytes(b"HEADER" + records.tobytes())
    file = base.RecordFile(path, offset=6, shape=records.shape)
    assert len(file) == 50
    indices = np.array([49, 0, 7, 7, 23, 1, 48])
    np.testing.assert_array_equal(file[indices], records[indices])
    np.testing.assert_array_equal(file[13], records[13])
    assert file[np.array([], np.int64)].shape == (0, 4, 3)
    with pytest.raises(IndexError, match="out of range"):
        file[np.array([3, 50])]


def test_split_off_is_deterministic_and_disjoint():
    refs = list(range(20))
    rest, held = base.split_off(refs, 5, seed=3)
    assert len(held) == 5 and sorted(rest + held) == refs
    assert base.split_off(refs, 5, seed=3) == (rest, held)
    assert base.split_off(refs, 5, seed=4)[1] != held
