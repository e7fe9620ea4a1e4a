"""``demos/edge_detection.py``: runs as a user runs it, writes its figure, matches OpenCV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "demos" / "edge_detection.py"
OUTPUTS = ("blur", "sobel_x", "sobel_y", "magnitude", "laplacian")


def _run(tmp_path: Path, *args: str) -> dict[str, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    diffs = {}
    for line in result.stdout.splitlines():
        if "max |Keras - OpenCV| =" in line:
            diffs[line.split()[0]] = float(line.rsplit("=", 1)[1])
    assert set(diffs) == set(OUTPUTS), result.stdout
    return diffs


@pytest.mark.slow
def test_demo_script_on_a_photograph(tmp_path):
    pytest.importorskip("skimage")
    photo = tmp_path / "my photo.jpg"  # a user's file: a JPEG, a space in its name
    from skimage.data import astronaut

    assert cv2.imwrite(str(photo), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    figure = tmp_path / "figure.png"
    diffs = _run(tmp_path, str(photo), str(figure))
    image = cv2.imread(str(figure))
    assert image is not None and image.shape[0] > 400 and image.shape[1] > 600
    # The library's bound: 1e-5 * sum|taps| * max|x|; Sobel 3x3 taps sum to 8 (16 for the
    # magnitude's two), applied to a blurred 0..255 image.
    assert diffs["blur"] <= 1e-5 * 1 * 255
    for name in ("sobel_x", "sobel_y", "laplacian"):
        assert diffs[name] <= 1e-5 * 8 * 255
    assert diffs["magnitude"] <= 1e-5 * 16 * 255
    assert np.isfinite(list(diffs.values())).all()


@pytest.mark.slow
def test_demo_script_default_image(tmp_path):
    diffs = _run(tmp_path)
    assert (tmp_path / "edges.png").is_file()
    assert max(diffs.values()) <= 1e-5 * 16 * 255
