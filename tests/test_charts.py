"""Tests for fixedfilters.charts and the committed PNGs in images/."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fixedfilters import charts  # noqa: E402

IMAGES = Path(__file__).resolve().parent.parent / "images"

#: name -> expected shape (channel count implied: 2-D gray, or last axis 3 BGR / 4 BGRA).
EXPECTED_SHAPES = {
    "siemens_star": (320, 320),
    "checkerboard": (256, 384),
    "shapes": (288, 384, 3),
    "text": (200, 480),
    "ramp": (257, 321),
    "noisy_step": (256, 256),
    "color_zone_plate": (288, 288, 4),
}

#: Charts whose pixels depend on OpenCV's font rasteriser, compared loosely.
FONT_DEPENDENT = {"text"}

MAX_TOTAL_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def rendered() -> dict[str, np.ndarray]:
    return charts.render_all()


def test_registry_names():
    assert set(charts.CHARTS) == set(EXPECTED_SHAPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_chart_dtype_shape_channels(rendered, name):
    image = rendered[name]
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.uint8
    assert image.shape == EXPECTED_SHAPES[name]
    assert image.flags.c_contiguous
    # Not blank: uses a decent part of the range and has many distinct values.
    assert int(image.max()) - int(image.min()) >= 100
    assert len(np.unique(image)) >= 8


def test_channel_variety(rendered):
    channels = {image.shape[2] if image.ndim == 3 else 1 for image in rendered.values()}
    assert channels == {1, 3, 4}
    # At least one non-square and one odd-sized chart.
    assert any(im.shape[0] != im.shape[1] for im in rendered.values())
    assert any(im.shape[0] % 2 or im.shape[1] % 2 for im in rendered.values())


def test_bgra_alpha_is_used(rendered):
    alpha = rendered["color_zone_plate"][..., 3]
    assert alpha.min() == 0 and alpha.max() == 255


def test_render_is_deterministic(rendered):
    again = charts.render_all()
    assert list(again) == list(rendered)
    for name, image in again.items():
        np.testing.assert_array_equal(image, rendered[name], err_msg=name)


def test_render_by_name_and_unknown():
    np.testing.assert_array_equal(charts.render("ramp"), charts.ramp())
    with pytest.raises(KeyError, match="unknown chart"):
        charts.render("no_such_chart")


def test_committed_pngs_are_exactly_the_charts():
    pngs = {p.stem for p in IMAGES.glob("*.png")}
    assert pngs == set(charts.CHARTS)


def test_committed_pngs_total_size():
    total = sum(p.stat().st_size for p in IMAGES.glob("*.png"))
    assert total < MAX_TOTAL_BYTES


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_committed_png_matches_fresh_render(rendered, name):
    path = IMAGES / f"{name}.png"
    assert path.is_file(), f"{path} missing: run python images/render.py"
    stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert stored is not None, f"could not read {path}"
    assert stored.dtype == np.uint8
    assert stored.shape == rendered[name].shape
    if name in FONT_DEPENDENT:
        assert int(stored.max()) - int(stored.min()) >= 100
        assert (stored < 128).mean() > 0.01  # there is ink on the page
    else:
        np.testing.assert_array_equal(
            stored, rendered[name], err_msg=f"{path} is stale: run python images/render.py"
        )


def test_save_all_writes_atomically(tmp_path, rendered):
    out = tmp_path / "charts"
    written = charts.save_all(out)
    assert [p.name for p in written] == [f"{n}.png" for n in charts.CHARTS]
    # Only the PNGs, no temporary files left behind.
    assert sorted(os.listdir(out)) == sorted(f"{n}.png" for n in charts.CHARTS)
    for path in written:
        stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(stored, rendered[path.stem], err_msg=path.name)
    # Overwriting in place works and still leaves nothing else behind.
    assert charts.save_all(out, names=["ramp"]) == [out / "ramp.png"]
    assert sorted(os.listdir(out)) == sorted(f"{n}.png" for n in charts.CHARTS)


def test_save_all_failure_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "ramp.png"
    target.write_bytes(b"old contents")

    def failing_replace(src, dst):
        raise OSError("simulated failure during replace")

    monkeypatch.setattr(charts.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated failure"):
        charts.save_all(tmp_path, names=["ramp"])
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["ramp.png"]
