"""``fixedfilters apply`` with the 8-bit filters (Canny, morphology, convertScaleAbs): the PNG it
writes is, byte for byte, ``cv2.imencode(".png", ...)`` of the same OpenCV call on the image as
``cv2.imread`` reads it; ``--raw`` arrays of float outputs equal OpenCV's float32 result.

Inputs: crops of ``skimage.data`` photographs, gray and BGR, sizes from 1x1 to more than one
tile (128) each way, plus a BGRA and a 16-bit image. One command run per test (a few per filter
family) keeps this cheap.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fixedfilters.cli import FILTERS, main

skdata = pytest.importorskip("skimage.data")

SIZES = [(1, 1), (1, 7), (9, 1), (40, 40), (130, 300)]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A folder of 8-bit gray and BGR crops of many sizes, one BGRA and one 16-bit image."""
    folder = tmp_path_factory.mktemp("images")
    astronaut = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    camera = skdata.camera()
    for i, (h, w) in enumerate(SIZES):
        for name, photo in (("gray", camera), ("bgr", astronaut)):
            assert cv2.imwrite(str(folder / f"{i}-{name}.png"), photo[100 : 100 + h, 150 : 150 + w])
    crop = astronaut[200:260, 180:250]
    ramp = np.broadcast_to(np.linspace(0, 255, crop.shape[1]), crop.shape[:2]).astype(np.uint8)
    assert cv2.imwrite(str(folder / "bgra.png"), np.dstack([crop, ramp]))
    assert cv2.imwrite(str(folder / "deep16.png"), camera[:50, :70].astype(np.uint16) * 257)
    return folder


def _run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _read(path: Path, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    return cv2.imread(str(path), flags)


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def _eight_bit(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.png") if p.stem != "deep16")


def _same_depth(folder: Path, name: str) -> list[Path]:
    """The images whose PNG is the OpenCV call's own result in their depth (ddepth=-1)."""
    return [p for p in sorted(folder.glob("*.png")) if _read(p).dtype.name in FILTERS[name].depths]


# --------------------------------------------------------------------------------------------
# canny
# --------------------------------------------------------------------------------------------
def test_canny_png_is_cv2_canny(images, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["apply", "canny", images, "--threshold1", "120", "--threshold2", "45.5"]
    argv += ["--aperture-size", "5", "--l2-gradient", "--out", out, "-q"]
    code, _, err = _run(argv, capsys)
    # The 16-bit image fails (cv2.Canny takes 8 bits only), named; every other one is written.
    assert code == 1
    assert "deep16.png: canny takes 8-bit images" in err and "uint16" in err
    assert not (out / "deep16.canny.png").exists()
    for path in _eight_bit(images):
        # BGRA: the colour channels, as cv2.imread(IMREAD_COLOR) reads them.
        image = _read(path, cv2.IMREAD_COLOR if path.stem == "bgra" else cv2.IMREAD_UNCHANGED)
        edges = cv2.Canny(image, 120, 45.5, apertureSize=5, L2gradient=True)
        assert (out / f"{path.stem}.canny.png").read_bytes() == _png(edges), path.name
    assert _read(out / "bgra.canny.png").ndim == 2  # one channel of 0/255


def test_canny_defaults_raw_and_gray(images, tmp_path, capsys):
    out = tmp_path / "out"
    inputs = [images / "4-bgr.png", images / "bgra.png"]
    argv = ["apply", "canny", *inputs, "--threshold1", "50", "--threshold2", "150", "--gray"]
    code, stdout, err = _run([*argv, "--raw", "--out", out], capsys)
    assert code == 0, err
    assert "wrote 2 uint8 .npy file(s)" in stdout
    for path in inputs:
        image = _read(path)
        code_ = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        expected = cv2.Canny(cv2.cvtColor(image, code_), 50, 150)
        got = np.load(out / f"{path.stem}.canny.npy")
        assert got.dtype == np.uint8 and got.shape == (*expected.shape, 1)
        np.testing.assert_array_equal(got[:, :, 0], expected)


# --------------------------------------------------------------------------------------------
# erode, dilate, morphology
# --------------------------------------------------------------------------------------------
ELLIPSE_5x3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 3))
CROSS_3x5 = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 5))
ELEMENT = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], np.uint8)

MORPHOLOGY = {
    # filter: (options, OpenCV on the image as read)
    "erode": (
        ["--ksize", "5x3", "--shape", "ellipse", "--iterations", "2"],
        lambda img: cv2.erode(img, ELLIPSE_5x3, iterations=2),
    ),
    "dilate": (
        ["--kernel", "ELEMENT", "--anchor", "0,2", "--border", "reflect"],
        lambda img: cv2.dilate(img, ELEMENT, anchor=(0, 2), borderType=cv2.BORDER_REFLECT),
    ),
    "morphology": (
        ["--op", "tophat", "--ksize", "3x5", "--shape", "cross", "--border-value", "40"],
        # --border-value fills every channel: cv2's borderValue=40 would be (40, 0, 0, 0).
        lambda img: cv2.morphologyEx(
            img, cv2.MORPH_TOPHAT, CROSS_3x5, borderType=cv2.BORDER_CONSTANT, borderValue=(40,) * 4
        ),
    ),
}


@pytest.mark.parametrize("name", list(MORPHOLOGY))
def test_morphology_png_is_opencvs_and_raw_is_float32(name, images, tmp_path, capsys):
    options, reference = MORPHOLOGY[name]
    np.savetxt(tmp_path / "element.csv", ELEMENT, fmt="%d", delimiter=",")
    options = [str(tmp_path / "element.csv") if o == "ELEMENT" else o for o in options]
    out = tmp_path / "out"
    code, _, err = _run(["apply", name, images, *options, "--out", out, "-q"], capsys)
    assert code == 0, err
    for path in _same_depth(images, name):  # 8- and 16-bit PNGs
        expected = _png(reference(_read(path)))
        assert (out / f"{path.stem}.{name}.png").read_bytes() == expected, path.name
    # --raw: the float32 layer output equals OpenCV on float32 (min/max are exact).
    inputs = [images / "deep16.png", images / "3-bgr.png"]
    code, stdout, err = _run(["apply", name, *inputs, *options, "--raw", "--out", out], capsys)
    assert code == 0, err
    assert "wrote 2 float32 .npy file(s)" in stdout
    for path in inputs:
        image = _read(path).astype(np.float32)
        expected = reference(image).reshape(image.shape[0], image.shape[1], -1)
        got = np.load(out / f"{path.stem}.{name}.npy")
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------------------------
# convertscaleabs
# --------------------------------------------------------------------------------------------
def test_convertscaleabs_png_is_cv2s_for_8_and_16_bit(images, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["apply", "convertscaleabs", images, "--alpha", "0.7", "--beta", "-20.5"]
    code, _, err = _run([*argv, "--out", out, "-q"], capsys)
    assert code == 0 and err.count("alpha channel") == 1, err  # the BGRA image, noted
    for path in sorted(images.glob("*.png")):
        expected = _png(cv2.convertScaleAbs(_read(path), alpha=0.7, beta=-20.5))
        assert (out / f"{path.stem}.convertscaleabs.png").read_bytes() == expected, path.name


# --------------------------------------------------------------------------------------------
# median
# --------------------------------------------------------------------------------------------
def test_median_png_is_cv2_median_blur(images, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["apply", "median", images, "--ksize", "7", "--out", out, "-q"], capsys)
    # ksize 7 takes 8-bit images only (as cv2.medianBlur): the 16-bit image fails, named.
    assert code == 1 and "deep16.png" in err and "uint8" in err
    for path in _eight_bit(images):
        expected = _png(cv2.medianBlur(_read(path), 7))
        assert (out / f"{path.stem}.median.png").read_bytes() == expected, path.name
    # --raw, ksize 5 (any depth): the float32 output holds the input values cv2 picks.
    inputs = [images / "deep16.png", images / "bgra.png"]
    argv = ["apply", "median", *inputs, "--ksize", "5", "--raw", "--out", out]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    for path in inputs:
        got = np.load(out / f"{path.stem}.median.npy")
        expected = cv2.medianBlur(_read(path), 5).reshape(got.shape)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------------------------
# box, blur, gabor (local: tiled), pyrdown, pyrup (shape-changing: whole images)
# --------------------------------------------------------------------------------------------
GABOR = cv2.getGaborKernel((7, 7), 2.0, 0.5, 5.0, 0.5, ktype=cv2.CV_64F)  # psi: pi / 2

LINEAR = {
    # filter: (options, OpenCV on the image as read (8-bit: its own bytes), sum|taps|)
    "box": (
        ["--ksize", "4x3", "--no-normalize", "--border", "replicate"],
        lambda img, depth: cv2.boxFilter(
            img, depth, (4, 3), normalize=False, borderType=cv2.BORDER_REPLICATE
        ),
        12.0,
    ),
    "blur": (
        ["--ksize", "5", "--anchor", "1,3", "--border", "wrap"],
        None,  # wrap: numpy.pad(mode="wrap") then the valid box (cv2 refuses BORDER_WRAP)
        1.0,
    ),
    "gabor": (
        ["--ksize", "7", "--sigma", "2", "--theta", "0.5", "--lambd", "5", "--gamma", "0.5"],
        lambda img, depth: cv2.filter2D(img, depth, GABOR),
        float(np.abs(GABOR).sum()),
    ),
    # cv2.pyrDown/pyrUp keep the depth: 8-bit in, OpenCV's 8-bit bytes out.
    "pyrdown": (["--border", "reflect"], lambda img, _: cv2.pyrDown(img, borderType=2), 1.0),
    "pyrup": ([], lambda img, _: cv2.pyrUp(img), 4.0),
}


def _blur_wrap(img: np.ndarray, depth: int) -> np.ndarray:
    pads = ((3, 5 - 1 - 3), (1, 5 - 1 - 1)) + ((0, 0),) * (img.ndim - 2)
    padded = np.pad(img, pads, mode="wrap")
    out = cv2.blur(padded, (5, 5), anchor=(1, 3), borderType=cv2.BORDER_CONSTANT)
    return out[3 : 3 + img.shape[0], 1 : 1 + img.shape[1]]


@pytest.mark.parametrize("name", list(LINEAR))
def test_linear_png_is_opencvs_and_raw_within_tolerance(name, images, tmp_path, capsys):
    options, reference, tapsum = LINEAR[name]
    reference = reference or _blur_wrap
    out = tmp_path / "out"
    code, _, err = _run(["apply", name, images, *options, "--out", out, "-q"], capsys)
    assert code == 0, err
    same_depth = _same_depth(images, name)
    assert len(same_depth) == (11 if name in ("box", "blur") else 12)  # box, blur: 8-bit only
    for path in same_depth:
        expected = _png(reference(_read(path), -1))
        assert (out / f"{path.stem}.{name}.png").read_bytes() == expected, path.name
    if name in ("box", "blur"):  # no uint16 layer output: the float result, rounded, clipped
        assert "saturate at 255" in err and "deep16.png" in err
    inputs = [images / "deep16.png", images / "3-bgr.png"]
    code, _, err = _run(["apply", name, *inputs, *options, "--raw", "--out", out], capsys)
    assert code == 0, err
    for path in inputs:
        image = _read(path).astype(np.float32)
        expected = reference(image, cv2.CV_32F)
        got = np.load(out / f"{path.stem}.{name}.npy")
        assert got.dtype == np.float32 and got.size == expected.size
        tol = 1e-5 * tapsum * float(image.max())
        assert np.max(np.abs(got - expected.reshape(got.shape))) <= tol, path.name


# --------------------------------------------------------------------------------------------
# filter2d: cv2.filter2D(img, -1, kernel), saturated; --abs: convertScaleAbs of the float32
# --------------------------------------------------------------------------------------------
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64)


def test_filter2d_png_is_cv2_filter2d_same_depth_and_abs(images, tmp_path, capsys):
    kernel = tmp_path / "sharpen.csv"
    np.savetxt(kernel, SHARPEN, fmt="%d", delimiter=",")
    out, out_abs = tmp_path / "out", tmp_path / "abs"
    argv = ["apply", "filter2d", images, "--kernel", kernel, "--anchor", "-1,-1", "--delta", "-3"]
    code, _, err = _run([*argv, "--out", out, "-q"], capsys)
    assert code == 0, err
    code, _, err = _run([*argv, "--abs", "--out", out_abs, "-q"], capsys)
    assert code == 0, err
    negative = 0
    for path in sorted(images.glob("*.png")):  # 8-bit and the 16-bit image (a 16-bit PNG)
        image = _read(path)
        same = cv2.filter2D(image, -1, SHARPEN, delta=-3)
        assert (out / f"{path.stem}.filter2d.png").read_bytes() == _png(same), path.name
        f32 = cv2.filter2D(image, cv2.CV_32F, SHARPEN, delta=-3)
        expected = _png(cv2.convertScaleAbs(f32))
        assert (out_abs / f"{path.stem}.filter2d.png").read_bytes() == expected, path.name
        negative += int(np.count_nonzero(f32 < -0.5))
    assert negative > 100  # dark undershoots: 0 in the first, |x| in the --abs PNGs


def test_pyramid_dstsize(images, tmp_path, capsys):
    out = tmp_path / "out"
    path = images / "3-bgr.png"  # 40 x 40
    for name, size, reference in (
        ("pyrdown", "21x19", lambda img: cv2.pyrDown(img, dstsize=(21, 19))),
        ("pyrup", "81x80", lambda img: cv2.pyrUp(img, dstsize=(81, 80))),
    ):
        code, _, err = _run(["apply", name, path, "--dstsize", size, "--out", out], capsys)
        assert code == 0, err
        assert (out / f"3-bgr.{name}.png").read_bytes() == _png(reference(_read(path)))
    # A size OpenCV refuses for this image: that image fails, named, with OpenCV's rule on one
    # line, before any layer runs; an image it fits (79x79: |2 * 40 - 79| <= 2) is written.
    fits = images / "fits.png"
    assert cv2.imwrite(str(fits), _read(images / "4-bgr.png")[:79, :79])
    out = tmp_path / "out2"
    argv = ["apply", "pyrdown", path, fits, "--dstsize", "40x40", "--out", out]
    code, _, err = _run(argv, capsys)
    fits.unlink()
    assert code == 1, err
    assert err.splitlines()[0].startswith(f"fixedfilters: error: {path}: PyrDown: dstsize=")
    assert "|2 w - W| <= 2" in err and len(err.splitlines()) == 2  # + "1 input(s) failed"
    assert (out / "fits.pyrdown.png").exists() and not (out / "3-bgr.pyrdown.png").exists()
