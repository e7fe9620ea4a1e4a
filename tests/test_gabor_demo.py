"""The fixed Gabor front-end demo runs, learns, and keeps its taps (shortened)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "demos" / "gabor_front_end.py"


def test_gabor_demo_runs_and_checks_pass(capsys):
    spec = importlib.util.spec_from_file_location("gabor_front_end_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.main(["--epochs", "4"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and out.count("ok  ") == 3, out
