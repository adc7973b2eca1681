"""The quality gate's verdicts and the report it sits beside."""

import json

import pytest

from kubeslim.components.options import GateOptions
from kubeslim.components.quality_gate import bless, check_evaluation
from kubeslim.errors import KubeslimError


def test_threshold_and_blessed_model():
    assert bless({"top1_accuracy": 0.98}, 0.97) == (
        True,
        "top-1 accuracy 0.9800 reaches the threshold 0.9700",
    )
    passed, reason = bless({"top1_accuracy": 0.96}, 0.97)
    assert not passed and "below the threshold 0.9700" in reason
    passed, reason = bless({"top1_accuracy": 0.98}, 0.97, {"top1_accuracy": 0.985})
    assert not passed and "worse than the blessed model's 0.9850" in reason
    assert bless({"top1_accuracy": 0.985}, 0.97, {"top1_accuracy": 0.985})[0]


def test_blessed_evaluation_is_read_from_a_directory_or_a_file(tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "metrics.json").write_text(json.dumps({"top1_accuracy": 0.9}))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "metrics.json").write_text(json.dumps({"top1_accuracy": 0.95}))
    assert not check_evaluation(
        tmp_path / "new",
        GateOptions(accuracy_threshold=0.5, blessed_evaluation=str(tmp_path / "old")),
    )[0]
    assert not check_evaluation(
        tmp_path / "new",
        GateOptions(
            accuracy_threshold=0.5, blessed_evaluation=str(tmp_path / "old" / "metrics.json")
        ),
    )[0]
    assert check_evaluation(tmp_path / "new", GateOptions(accuracy_threshold=0.5))[0]
    with pytest.raises(KubeslimError, match="blessed evaluation .*missing/metrics.json not found"):
        check_evaluation(
            tmp_path / "new",
            GateOptions(accuracy_threshold=0.5, blessed_evaluation=str(tmp_path / "missing")),
        )
