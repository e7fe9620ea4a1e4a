"""The transfer-learning demo, shortened (--quick): every stage runs and every check passes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "demos" / "transfer_learning.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("transfer_learning_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_demo_runs_and_checks_pass(demo, capsys):
    status = demo.main(["--quick"])
    out = capsys.readouterr().out
    assert status == 0, out
    # a weight report at every stage, each with all four kinds
    assert out.count("Weight report:") == 3
    for stage in ("Stage 1", "Stage 2", "Stage 3"):
        assert stage in out
    totals = re.findall(r"^\s+(trainable|frozen|fixed|statistic)\s+([\d,]+)", out, re.M)
    by_stage = [dict(totals[i : i + 4]) for i in range(0, len(totals), 4)]
    assert len(by_stage) == 3
    assert [s["fixed"] for s in by_stage] == ["42", "42", "42"]
    assert by_stage[0]["frozen"] == "0"
    assert by_stage[1]["frozen"] != "0"  # body frozen in stage 2
    assert by_stage[2]["frozen"] == "0"  # and unfrozen for fine-tuning
    assert "FreezeGuard caught the naive unfreeze" in out
    assert "frozen body weights changed by stage 2: 0 of" in out
    assert "bit-identical after all three stages" in out
    accuracies = [
        float(a) for a in re.findall(r"accuracy on digits [\d-]+ \(test\)[^:]*: ([\d.]+)", out)
    ]
    assert len(accuracies) == 3 and all(0.0 <= a <= 1.0 for a in accuracies)


def test_demo_data_split(demo):
    x_tr, y_tr, x_te, y_te = demo.load_split((5, 6, 7, 8, 9), 100, 0)
    assert x_tr.shape[1:] == (demo.SIZE, demo.SIZE, 1) and x_tr.dtype.name == "float32"
    assert len(x_tr) + len(x_te) == 100
    assert set(y_tr.tolist()) == set(range(5)) and set(y_te.tolist()) <= set(range(5))
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
