"""The ``fixedfilters`` command, through ``main(argv)`` and as a subprocess.

Inputs are real photographs from ``skimage.data`` (cropped to keep the tests fast) written with
``cv2.imwrite``; every result is compared with the same OpenCV call, plane by plane. The float
tolerance is the library's: ``max|ours - cv2| <= 1e-5 * sum|taps| * max(1, max|x|)`` (plus
``1e-6 * |delta|``); 8-bit PNGs must be within one grey level of OpenCV's 8-bit conversion.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import fixedfilters as ff
from fixedfilters import charts, cli
from fixedfilters.cli import FILTERS, demo, main, runner

skdata = pytest.importorskip("skimage.data")

REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# Fixtures: photographs on disk, and the OpenCV reference of each filter
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    """Real photographs (gray, BGR, BGRA, 16-bit gray) as files, cropped for speed."""
    folder = tmp_path_factory.mktemp("photos")
    camera = skdata.camera()[120:280, 180:380]
    astronaut = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)[30:190, 150:330]
    coins = skdata.coins()[40:200, 60:260]
    ramp = np.linspace(0, 255, astronaut.shape[1], dtype=np.float32)
    alpha = np.broadcast_to(ramp, astronaut.shape[:2]).astype(np.uint8)
    files = {
        "camera": (folder / "camera.png", camera),
        "astronaut": (folder / "astronaut.png", astronaut),
        "coins": (folder / "coins.jpg", coins),
        "astronaut_bgra": (folder / "astronaut_bgra.png", np.dstack([astronaut, alpha])),
        "camera16": (folder / "camera16.png", camera.astype(np.uint16) * 257),
    }
    for path, image in files.values():
        assert cv2.imwrite(str(path), image)
    return {name: path for name, (path, _) in files.items()}


def _planes(image: np.ndarray) -> list[np.ndarray]:
    image = image[:, :, None] if image.ndim == 2 else image
    return [np.ascontiguousarray(image[:, :, c], dtype=np.float32) for c in range(image.shape[2])]


def _impulse_tapsum(fn) -> float:
    impulse = np.zeros((41, 41), np.float32)
    impulse[20, 20] = 1.0
    return float(np.abs(fn(impulse)).sum())


def _sobel(dx, dy, ksize=3, **kw):
    return lambda p: cv2.Sobel(p, cv2.CV_32F, dx, dy, ksize=ksize, **kw)


SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0.5]], np.float64)

# filter -> (extra CLI options, OpenCV on one float32 plane, the linear part for sum|taps|, delta)
CASES = {
    "sobel": (
        ["--dx", "1", "--dy", "1", "--ksize", "5"],
        _sobel(1, 1, 5),
        _sobel(1, 1, 5),
        0.0,
    ),
    "scharr": (
        ["--dx", "0", "--dy", "1", "--scale", "0.5", "--delta", "3", "--border", "reflect"],
        lambda p: cv2.Scharr(p, cv2.CV_32F, 0, 1, scale=0.5, delta=3, borderType=2),
        lambda p: cv2.Scharr(p, cv2.CV_32F, 0, 1, scale=0.5),
        3.0,
    ),
    "laplacian": (
        ["--ksize", "3", "--border", "replicate"],
        lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=3, borderType=cv2.BORDER_REPLICATE),
        lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=3),
        0.0,
    ),
    "gaussian": (
        ["--ksize", "7x5", "--sigma-x", "1.5"],
        lambda p: cv2.GaussianBlur(p, (7, 5), 1.5),
        lambda p: cv2.GaussianBlur(p, (7, 5), 1.5),
        0.0,
    ),
    "magnitude": (
        [],
        lambda p: cv2.magnitude(_sobel(1, 0)(p), _sobel(0, 1)(p)),
        lambda p: np.abs(_sobel(1, 0)(p)) + np.abs(_sobel(0, 1)(p)),
        0.0,
    ),
    "filter2d": (
        ["--delta", "10", "--border", "constant"],  # --kernel added by the test
        lambda p: cv2.filter2D(p, cv2.CV_32F, SHARPEN, delta=10, borderType=0),
        lambda p: cv2.filter2D(p, cv2.CV_32F, SHARPEN),
        10.0,
    ),
}


# The PNG of an 8-bit image for the filters computed in the image's depth (ddepth=-1).
SAME_DEPTH = {
    "gaussian": lambda img: cv2.GaussianBlur(img, (7, 5), 1.5),
    "filter2d": lambda img: cv2.filter2D(img, -1, SHARPEN, delta=10, borderType=0),
}


def _reference(path: Path, fn, gray: bool = False) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if gray and image.ndim == 3:
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)
    return np.stack([fn(p) for p in _planes(image)], axis=-1)


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------------------------
# apply: results equal OpenCV
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_apply_equals_opencv_raw_and_png(name, photos, tmp_path, capsys):
    options, fn, linear, delta = CASES[name]
    if name == "filter2d":
        kernel_file = tmp_path / "sharpen.csv"
        np.savetxt(kernel_file, SHARPEN, delimiter=",")
        options = [*options, "--kernel", kernel_file]
    inputs = [photos[k] for k in ("camera", "astronaut", "coins", "astronaut_bgra")]
    raw_dir, png_dir = tmp_path / "raw", tmp_path / "png"

    code, out, err = _run(["apply", name, *inputs, "--out", raw_dir, "--raw", *options], capsys)
    assert code == 0, err
    assert "wrote 4 float32 .npy file(s)" in out
    code, _, err = _run(["apply", name, *inputs, "--out", png_dir, *options], capsys)
    assert code == 0, err

    tapsum = _impulse_tapsum(linear)
    for path in inputs:
        expected = _reference(path, fn)
        got = np.load(raw_dir / f"{path.stem}.{name}.npy")
        assert got.dtype == np.float32 and got.shape == expected.shape
        x_max = float(np.abs(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)).max())
        tol = 1e-5 * tapsum * max(1.0, x_max) + 1e-6 * abs(delta)
        assert np.max(np.abs(got - expected)) <= tol, (path.name, name)

        # 8-bit images: the PNG is OpenCV's bytes, exactly (these options give exact sums).
        picture = (png_dir / f"{path.stem}.{name}.png").read_bytes()
        if FILTERS[name].derivative:
            planes8 = [cv2.convertScaleAbs(p) for p in _planes(expected)]
            expected8 = cv2.merge(planes8)
        else:  # gaussian, filter2d: OpenCV with ddepth=-1 (filter2d saturated, not |x|)
            expected8 = SAME_DEPTH[name](cv2.imread(str(path), cv2.IMREAD_UNCHANGED))
        assert picture == cv2.imencode(".png", expected8)[1].tobytes(), (path.name, name)


def test_gray_and_16_bit(photos, tmp_path, capsys):
    out = tmp_path / "out"
    inputs = [photos["astronaut"], photos["astronaut_bgra"], photos["camera16"]]
    code, _, err = _run(["apply", "sobel", *inputs, "--gray", "--raw", "--out", out], capsys)
    assert code == 0, err
    for path in inputs:
        got = np.load(out / f"{path.stem}.sobel.npy")
        expected = _reference(path, _sobel(1, 0), gray=True)
        assert got.shape == expected.shape and got.shape[-1] == 1
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * 8 * 65535)
    # 16-bit values are kept: a derivative's 8-bit PNG saturates, and the command says so; a
    # blur computed in the image's depth is cv2's 16-bit result, as a 16-bit PNG.
    code, _, err = _run(["apply", "sobel", photos["camera16"], "--out", out], capsys)
    assert code == 0
    assert "saturate at 255" in err and "--raw" in err
    picture = cv2.imread(str(out / "camera16.sobel.png"), cv2.IMREAD_UNCHANGED)
    assert picture.dtype == np.uint8 and picture.max() == 255
    code, stdout, err = _run(["apply", "gaussian", photos["camera16"], "--out", out], capsys)
    assert code == 0 and "saturate" not in err and "wrote 1 16-bit PNG file(s)" in stdout
    image = cv2.imread(str(photos["camera16"]), cv2.IMREAD_UNCHANGED)
    expected = cv2.imencode(".png", cv2.GaussianBlur(image, (3, 3), 0))[1].tobytes()
    assert (out / "camera16.gaussian.png").read_bytes() == expected


# --------------------------------------------------------------------------------------------
# apply: failures
# --------------------------------------------------------------------------------------------
def test_corrupt_and_missing_inputs_named_others_written(photos, tmp_path, capsys):
    corrupt = tmp_path / "holiday.png"
    corrupt.write_bytes(os.urandom(2048))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    missing = tmp_path / "no_such_photo.jpg"
    out = tmp_path / "out"
    argv = ["apply", "laplacian", photos["camera"], corrupt, missing, empty, photos["coins"]]
    code, _, err = _run([*argv, "--out", out], capsys)
    assert code == 1
    assert f"{corrupt}: not a readable image" in err
    assert f"{missing}: no such file or directory" in err
    assert f"{empty}: empty file" in err
    assert _files(out) == ["camera.laplacian.png", "coins.laplacian.png"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["sobel", "--ksize", "4"], "ksize"),
        (["sobel", "--border", "mirror"], "border"),
        (["gaussian", "--ksize", "4x3"], "ksize"),
        (["laplacian", "--ksize", "2"], "ksize"),
        (["scharr", "--dx", "1", "--dy", "1"], "dx"),
        (["sobel", "--dx", "0", "--dy", "0"], ""),
        (["sobel", "--sigma-x", "2"], "--sigma-x does not apply to sobel"),
        (["magnitude", "--scale", "2"], "--scale does not apply to magnitude"),
        (["sobel", "--ksize", "3x3"], "one integer"),
        (["filter2d"], "needs --kernel"),
        (["filter2d", "--kernel", "no_such_kernel.npy"], "no such file"),
        (["filter2d", "--kernel", "BAD"], "not a 2-D array of numbers"),
        (["sobel", "--batch-size", "0"], "--batch-size"),
        (["sobel", "--dx", "1.5"], "invalid int value"),
        (["sobel", "--scale", "nan"], "scale"),
        (["sobel", "--frobnicate"], "unrecognized arguments"),
        (["no_such_filter"], "invalid choice"),
        (["canny", "--threshold1", "50"], "needs --threshold2"),
        (["canny", "--threshold1", "1", "--threshold2", "2", "--aperture-size", "4"], "aperture"),
        (["canny", "--threshold1", "1", "--threshold2", "2", "--border", "wrap"], "--border"),
        (["erode", "--op", "open"], "--op does not apply to erode"),
        (["morphology", "--op", "hitmiss"], "op"),
        (["dilate", "--shape", "star"], "shape"),
        (["convertscaleabs", "--alpha", "inf"], "alpha"),
        (["blur", "--no-normalize"], "--normalize does not apply to blur"),
        (["gabor", "--ksize", "5", "--sigma", "1", "--theta", "0", "--lambd", "4"], "--gamma"),
        (["pyrup", "--border", "reflect"], "border"),
        (["pyrdown", "--dstsize", "7"], "WIDTHxHEIGHT"),
        (["pyrdown", "--dstsize", "-3x5"], "dstsize must be"),
        (["pyrdown", "--dstsize", "0x"], "WIDTHxHEIGHT"),
        (["filter2d", "--kernel", "COMPLEX"], "must hold real numbers"),
        (["filter2d", "--kernel", "NAN"], "finite"),
        (["filter2d", "--kernel", "SHARP", "--anchor", "-2,0"], "anchor"),
        (["filter2d", "--kernel", "SHARP", "--abs", "--raw"], "--abs changes the PNG only"),
        (["sobel", "--abs"], "--abs does not apply to sobel"),
        (["gaussian", "--ksize", "3", "--sigma-x", "nan"], "sigma_x"),
        (["gaussian", "--ksize", "100001"], "ksize"),
        (["median", "--ksize", "2051"], "halo of 1025 pixels"),
        (["box", "--ksize", "1500x3"], "halo"),
        (["erode", "--iterations", "5000"], "--iterations at most 1024"),
        (["erode", "--ksize", "0"], "ksize"),
        (
            [
                "gabor",
                "--ksize",
                "5",
                "--sigma",
                "0",
                "--theta",
                "0",
                "--lambd",
                "4",
                "--gamma",
                "1",
            ],
            "sigma",
        ),
        (["canny", "--threshold1", "nan", "--threshold2", "2"], "threshold1"),
        (["median", "--border", "reflect"], "replicate"),
    ],
)
def test_invalid_option_is_usage_error_and_writes_nothing(
    options, message, photos, tmp_path, capsys
):
    files = {name: tmp_path / f"{name.lower()}.npy" for name in ("COMPLEX", "NAN", "SHARP")}
    np.save(files["COMPLEX"], np.ones((3, 3), complex))
    np.save(files["NAN"], np.array([[1.0, np.nan]]))
    np.save(files["SHARP"], SHARPEN)
    files["BAD"] = tmp_path / "bad.csv"
    files["BAD"].write_text("1, 2\n3, x\n")
    options = [str(files.get(o, o)) for o in options]
    out = tmp_path / "out"
    code, _, err = _run(["apply", options[0], photos["camera"], *options[1:], "--out", out], capsys)
    assert code == 2
    assert "usage: fixedfilters apply" in err and message in err
    assert err.splitlines()[-1].startswith("fixedfilters apply: error: ")  # the reason: one line
    assert "Traceback" not in err and "Warning" not in err
    assert not out.exists()


def test_out_pointing_at_a_file_is_usage_error(photos, tmp_path, capsys):
    target = tmp_path / "results.png"
    target.write_bytes(b"keep me")
    code, _, err = _run(["apply", "sobel", photos["camera"], "--out", target], capsys)
    assert code == 2 and "is a file, not a folder" in err
    assert target.read_bytes() == b"keep me"


def test_existing_output_needs_overwrite(photos, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["apply", "sobel", photos["camera"], "--out", out]
    assert _run(argv, capsys)[0] == 0
    result = out / "camera.sobel.png"
    result.write_bytes(b"sentinel")
    code, _, err = _run(argv, capsys)
    assert code == 1 and f"{result} exists (use --overwrite" in err
    assert result.read_bytes() == b"sentinel"
    code, _, err = _run([*argv, "--overwrite"], capsys)
    assert code == 0, err
    assert cv2.imread(str(result), cv2.IMREAD_UNCHANGED).shape == (160, 200)
    assert _files(out) == ["camera.sobel.png"]  # no temporary file left behind


def test_input_file_is_never_overwritten(photos, tmp_path, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    shutil.copy(photos["camera"], folder / "x.png")
    shutil.copy(photos["coins"], folder / "x.sobel.png")  # an input named like an output
    before = (folder / "x.sobel.png").read_bytes()
    argv = ["apply", "sobel", folder / "x.png", folder / "x.sobel.png", "--out", folder]
    code, _, err = _run([*argv, "--overwrite"], capsys)
    assert code == 1
    assert "is an input file; refusing to overwrite" in err
    assert (folder / "x.sobel.png").read_bytes() == before
    assert (folder / "x.sobel.sobel.png").is_file()


def test_same_stem_from_two_folders_is_not_clobbered(photos, tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(photos["camera"], tmp_path / "a" / "img.png")
    shutil.copy(photos["coins"], tmp_path / "b" / "img.jpg")
    out = tmp_path / "out"
    code, _, err = _run(["apply", "gaussian", tmp_path / "a", tmp_path / "b", "--out", out], capsys)
    assert code == 1
    assert "img.jpg" in err and "also the output of" in err
    written = cv2.imread(str(out / "img.gaussian.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (160, 200)  # the first input's result, not replaced
    camera = cv2.imread(str(photos["camera"]), cv2.IMREAD_UNCHANGED).astype(np.float32)
    expected = np.rint(cv2.GaussianBlur(camera, (3, 3), 0))
    assert np.abs(written.astype(float) - expected).max() <= 1


def test_folders_recursive_and_output_folder_inside_input(photos, tmp_path, capsys):
    tree = tmp_path / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(photos["camera"], tree / "one.png")
    shutil.copy(photos["coins"], tree / "sub" / "two.jpg")
    shutil.copy(photos["astronaut"], tree / "sub" / "deeper" / "three.png")
    (tree / "notes.txt").write_text("not an image")
    out = tree / "edges"
    argv = ["apply", "magnitude", tree, "--out", out, "--recursive", "--overwrite"]
    for _ in range(2):  # the second run must not pick up the first run's outputs
        code, stdout, err = _run(argv, capsys)
        assert code == 0, err
        assert "wrote 3 8-bit PNG file(s)" in stdout
    assert _files(out) == [
        "one.magnitude.png",
        "sub/deeper/three.magnitude.png",
        "sub/two.magnitude.png",
    ]
    # Without --recursive only the folder's own images; results written next to the inputs
    # are not read back as inputs.
    for _ in range(2):
        code, stdout, err = _run(["apply", "sobel", tree, "--out", tree, "--overwrite"], capsys)
        assert code == 0, err
        assert "wrote 1 8-bit PNG file(s)" in stdout
    # A folder without images is named.
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run(["apply", "sobel", empty, "--out", tmp_path / "o"], capsys)
    assert code == 1 and f"{empty}: folder holds no images" in err


def test_batches_same_shape_images(photos, tmp_path, capsys, monkeypatch):
    # A filter without a reach (non-local, e.g. Canny; or shape-changing) runs whole images,
    # consecutive same-shape ones batched.
    monkeypatch.setitem(FILTERS, "sobel", dataclasses.replace(FILTERS["sobel"], reach=None))
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(5):
        shutil.copy(photos["camera"], folder / f"c{i}.png")
    shutil.copy(photos["astronaut"], folder / "astronaut.png")  # another shape: its own batch
    calls = []
    original = runner.Runner.flush

    def spy(self, group, key):
        calls.append((group[0][1].shape, len(group)))
        return original(self, group, key)

    monkeypatch.setattr(runner.Runner, "flush", spy)
    out = tmp_path / "out"
    code, _, err = _run(
        ["apply", "sobel", folder, "--out", out, "--batch-size", "2", "--raw"], capsys
    )
    assert code == 0, err
    assert [n for _, n in calls] == [1, 2, 2, 1]  # 1 astronaut, then 2 + 2 + 1 cameras
    first = np.load(out / "c0.sobel.npy")
    for i in range(1, 5):
        np.testing.assert_array_equal(np.load(out / f"c{i}.sobel.npy"), first)


def _mixed_sizes(folder: Path) -> list[Path]:
    """Crops of real photographs in sizes from 1x1 up to more than one tile (128) each way."""
    astronaut = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    camera = skdata.camera()
    folder.mkdir()
    paths = []
    for i, (h, w) in enumerate([(1, 1), (1, 7), (9, 1), (40, 40), (130, 300), (257, 129)]):
        for name, photo in (("gray", camera), ("bgr", astronaut)):
            path = folder / f"{i}-{name}-{h}x{w}.png"
            assert cv2.imwrite(str(path), photo[100 : 100 + h, 150 : 150 + w])
            paths.append(path)
    return paths


def test_mixed_sizes_one_compile_and_opencv_bytes(tmp_path, capsys, monkeypatch):
    from fixedfilters import ops

    traces = []
    original = ops._stencil_filter
    monkeypatch.setattr(ops, "_stencil_filter", lambda *a: traces.append(1) or original(*a))
    paths = _mixed_sizes(tmp_path / "mixed")
    out = tmp_path / "out"
    code, _, err = _run(["apply", "sobel", tmp_path / "mixed", "--out", out, "-q"], capsys)
    assert code == 0 and err == ""
    # The XLA stencil is traced per channel count (1 and 3), not per image size (6 of them).
    assert 1 <= len(traces) <= 2 * 2
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        expected = cv2.imencode(".png", cv2.convertScaleAbs(cv2.Sobel(image, cv2.CV_32F, 1, 0)))
        assert (out / f"{path.stem}.sobel.png").read_bytes() == expected[1].tobytes(), path.name


def test_gaussian_png_of_8_bit_images_is_opencvs_own(tmp_path, capsys):
    assert FILTERS["gaussian"].depths == ("uint8", "uint16")
    paths = _mixed_sizes(tmp_path / "mixed")
    out = tmp_path / "out"
    argv = ["apply", "gaussian", tmp_path / "mixed", "--ksize", "7x5", "--sigma-x", "1.5"]
    code, _, err = _run([*argv, "--out", out, "-q"], capsys)
    assert code == 0, err
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        expected = cv2.imencode(".png", cv2.GaussianBlur(image, (7, 5), 1.5))[1].tobytes()
        assert (out / f"{path.stem}.gaussian.png").read_bytes() == expected, path.name


@pytest.mark.parametrize("border", ["reflect", "wrap"])
def test_mixed_sizes_tiles_asymmetric_kernel(border, tmp_path, capsys):
    kernel = np.arange(1, 36, dtype=np.float64).reshape(5, 7) / 100.0
    np.save(tmp_path / "k.npy", kernel)
    paths = _mixed_sizes(tmp_path / "mixed")
    out = tmp_path / "out"
    argv = ["apply", "filter2d", tmp_path / "mixed", "--kernel", tmp_path / "k.npy"]
    argv += ["--anchor", "1,3", "--border", border, "--raw", "--out", out]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float32)
        if border == "wrap":  # numpy.pad(mode="wrap"), then OpenCV on the padded image
            pads = ((3, 5 - 1 - 3), (1, 7 - 1 - 1)) + ((0, 0),) * (image.ndim - 2)
            padded = np.pad(image, pads, mode="wrap")
            ref = cv2.filter2D(padded, cv2.CV_32F, kernel, anchor=(1, 3), borderType=0)
            ref = ref[3 : 3 + image.shape[0], 1 : 1 + image.shape[1]]
        else:
            ref = cv2.filter2D(image, cv2.CV_32F, kernel, anchor=(1, 3), borderType=2)
        ref = ref.reshape(image.shape[0], image.shape[1], -1)
        got = np.load(out / f"{path.stem}.filter2d.npy")
        assert got.shape == ref.shape, path.name
        assert np.max(np.abs(got - ref)) <= 1e-5 * kernel.sum() * 255, path.name


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------
def test_write_atomic_leaves_no_partial_file(tmp_path):
    dest = tmp_path / "a.png"

    def half_then_fail(handle):
        handle.write(b"half a file")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        cli.write_atomic(dest, half_then_fail)
    assert _files(tmp_path) == []
    dest.write_bytes(b"old")
    with pytest.raises(OSError):
        cli.write_atomic(dest, half_then_fail, overwrite=True)
    assert dest.read_bytes() == b"old" and _files(tmp_path) == ["a.png"]
    with pytest.raises(FileExistsError):
        cli.write_atomic(dest, lambda fh: fh.write(b"new"))
    assert dest.read_bytes() == b"old" and _files(tmp_path) == ["a.png"]
    cli.write_atomic(dest, lambda fh: fh.write(b"new"), overwrite=True)
    assert dest.read_bytes() == b"new" and _files(tmp_path) == ["a.png"]


@pytest.mark.parametrize("raw", [False, True])
def test_failure_or_ctrl_c_mid_write(raw, photos, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    argv = ["apply", "scharr", photos["camera"], photos["coins"], "--out", out]
    argv += ["--raw"] if raw else []
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(28, "No space left on device", "tmpfile")

    monkeypatch.setattr(cli.os, "fsync", failing_fsync)
    code, _, err = _run(argv, capsys)
    assert code == 1 and "No space left on device" in err
    ext = "npy" if raw else "png"
    # Writers run in a thread pool, so which image's write comes first is not fixed: the one
    # whose fsync failed is named and absent, the other is still written, no temp file is left.
    written = _files(out)
    assert len(written) == 1 and written[0] in (f"camera.scharr.{ext}", f"coins.scharr.{ext}")
    failed = "coins" if written[0].startswith("camera") else "camera"
    assert failed in err

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.os, "fsync", interrupt)
    code, _, err = _run([*argv, "--overwrite"], capsys)
    assert code == 130 and "interrupted" in err
    assert _files(out) == written


# --------------------------------------------------------------------------------------------
# Progress bar, help, list
# --------------------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "quiet, count, shown", [(False, 3, True), (True, 3, False), (False, 1, False)]
)
def test_progress_bar_only_on_a_terminal(quiet, count, shown, photos, tmp_path, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    inputs = [photos["camera"], photos["coins"], photos["astronaut"]][:count]
    argv = ["apply", "gaussian", *inputs, "--out", tmp_path / "out"] + (["-q"] if quiet else [])
    assert main([str(a) for a in argv]) == 0
    assert ("fixedfilters gaussian" in terminal.getvalue()) == shown


def test_help_on_every_subcommand(capsys):
    code, out, _ = _run(["--help"], capsys)
    assert code == 0 and "demo" in out and "apply" in out and "list" in out
    for command in ("demo", "apply", "list"):
        code, out, _ = _run([command, "--help"], capsys)
        assert code == 0 and out.startswith(f"usage: fixedfilters {command}")
    code, _, err = _run([], capsys)
    assert code == 2 and "fixedfilters demo" in err


# Arguments every layer takes from the base classes: not filter options (the command reads
# images channels last and picks output_dtype itself).
_COMMON_ARGUMENTS = {"data_format", "output_dtype"}
_SAMPLE_VALUES = {  # for the required arguments
    "threshold1": 50.0,
    "threshold2": 150.0,
    "kernel": [[0.0, 1.0, 0.0]],
    "ksize": 5,
    "sigma": 1.0,
    "theta": 0.0,
    "lambd": 4.0,
    "gamma": 0.5,
}


def _layer_parameters(layer: type) -> dict[str, inspect.Parameter]:
    """A layer's arguments: its own ``__init__``'s and, while that forwards ``**kwargs``, its
    parents' up to the library's base classes (FixedFilter, FixedLayer), keeping those its
    ``get_config`` saves: a parent's argument that the layer fixes itself (Erode's ``op``,
    Scharr's ``ksize``) or ignores (GaussianBlur's ``scale``) is not in its config."""
    from fixedfilters.layers.base import FixedFilter, FixedLayer

    # the parents' arguments a layer refuses or fixes itself (base.FixedLayer's one rule)
    refused = {
        name
        for klass in layer.__mro__
        for name in {**vars(klass).get("_refused_args", {}), **vars(klass).get("_fixed_args", {})}
    }
    parameters: dict[str, inspect.Parameter] = {}
    for klass in layer.__mro__:
        if klass in (FixedFilter, FixedLayer):
            break
        if "__init__" not in vars(klass):
            continue
        forwards = False
        for name, parameter in inspect.signature(klass.__init__).parameters.items():
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                forwards = True
            elif name != "self" and parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
                if name not in refused or klass is layer:
                    parameters.setdefault(name, parameter)  # the subclass's default wins
        if not forwards:
            break
    required = {k: _SAMPLE_VALUES[k] for k, p in parameters.items() if p.default is p.empty}
    saved = set(layer(**required).get_config())
    return {k: p for k, p in parameters.items() if k in saved and k not in _COMMON_ARGUMENTS}


def test_list_shows_every_filter_with_the_layer_defaults(capsys):
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    for spec in FILTERS.values():
        assert spec.name in out and spec.opencv.split("(")[0] in out
        parameters = _layer_parameters(getattr(ff, spec.layer))
        for key, default in spec.params:
            assert flag_shown(key) in out, (spec.name, key)
            if (key, default) == ("anchor", "centre"):  # filter2d: None, i.e. the centre
                assert parameters[key].default is None
            elif default == cli.filters.REQUIRED:
                assert parameters[key].default is inspect.Parameter.empty, (spec.name, key)
            else:
                assert str(parameters[key].default) == default, (spec.name, key)
        assert {k for k, _ in spec.params} == set(parameters), spec.name


def flag_shown(key: str) -> str:
    return "--" + key.replace("_", "-")


def test_layer_parameters_follow_forwarded_kwargs():
    # Erode(ksize=None, **kwargs) forwards to MorphologyEx: its options are MorphologyEx's but
    # op, which Erode fixes (op="erode" is accepted, another op is a TypeError).
    erode = _layer_parameters(ff.Erode)
    expected = {"ksize", "shape", "kernel", "anchor", "iterations", "border", "border_value"}
    assert set(erode) == expected and ff.Erode(op="erode").op == "erode"
    with pytest.raises(TypeError, match="'op'"):
        ff.Erode(op="dilate")
    assert erode["border"].default == "constant" and erode["border_value"].default is None
    assert set(_layer_parameters(ff.Dilate)) == expected
    assert "op" in _layer_parameters(ff.MorphologyEx)
    assert {"scale", "delta"} <= set(_layer_parameters(ff.Sobel))
    assert "ksize" not in _layer_parameters(ff.Scharr)
    assert "data_format" not in _layer_parameters(ff.Canny)
    # Blur fixes BoxFilter's normalize; Gabor drops Filter2D's kernel, anchor and delta.
    assert "normalize" in _layer_parameters(ff.BoxFilter)
    assert "normalize" not in _layer_parameters(ff.Blur)
    assert {"kernel", "anchor", "delta"}.isdisjoint(_layer_parameters(ff.Gabor))


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------
def test_demo_in_process(tmp_path, capsys):
    out = tmp_path / "panels"
    code, stdout, err = _run(["demo", "--out", out, "--quiet"], capsys)
    assert code == 0, err
    names = [f"{n}.png" for n in charts.CHARTS] + [f"skimage-{n}.png" for n in demo.SKIMAGE_PHOTOS]
    assert _files(out) == sorted(names)
    panel = cv2.imread(str(out / "skimage-camera.png"))
    assert panel.shape[0] > 2 * 512 and panel.shape[1] > 3 * 512
    # One report line per filter; the differences stay within the library's tolerance.
    for key, _, reference in demo.DEMO_FILTERS:
        line = next(line for line in stdout.splitlines() if line.strip().startswith(key))
        assert reference in line
        diff, largest = (float(v) for v in line.split()[-2:])
        assert diff <= 1e-5 * 16 * max(1.0, largest)
    # Canny on the 8-bit gray images: not one pixel differs from cv2.Canny.
    line = next(line for line in stdout.splitlines() if line.startswith("Canny layer"))
    assert demo.CANNY[2] in line and line.split(": ")[-1].startswith("0 of ")
    assert int(line.split(": ")[-1].split()[2]) > 512 * 512 * 3  # every image's pixels


def test_demo_images_without_bundled_folder_or_skimage(monkeypatch):
    monkeypatch.setattr(demo, "_bundled_images_dir", lambda: None)
    monkeypatch.setitem(sys.modules, "skimage", None)
    images, origin = demo.demo_images()
    assert [name for name, _ in images] == list(charts.CHARTS)
    assert "rendered in memory" in origin and "install scikit-image" in origin


# --------------------------------------------------------------------------------------------
# As a user runs it: a subprocess
# --------------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    # As a user runs it: no TF_CPP_MIN_LOG_LEVEL (the command sets what it needs).
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _assert_only_our_lines(stderr: str) -> None:
    for line in stderr.splitlines():
        assert line.startswith("fixedfilters: "), f"not ours on stderr: {line!r}"


@pytest.mark.slow
def test_subprocess_apply_and_demo(photos, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fixedfilters", "apply", "sobel", photos["camera"], bad]
    result = subprocess.run(
        [*map(str, command), "--out", str(out)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert result.returncode == 1
    assert f"{bad}: not a readable image" in result.stderr
    assert _files(out) == ["camera.sobel.png"]
    _assert_only_our_lines(result.stderr)

    result = subprocess.run(
        [sys.executable, "-m", "fixedfilters", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 10 panels" in result.stdout and "max |diff|" in result.stdout
    assert len(_files(tmp_path / "demo")) == 10
    assert result.stderr == ""  # no TensorFlow/absl/XLA start-up line


@pytest.mark.slow
def test_console_script_if_installed(tmp_path):
    script = shutil.which("fixedfilters") or shutil.which(
        "fixedfilters", path=str(Path(sys.executable).parent)
    )
    if script is None:
        pytest.skip("the fixedfilters console script is not installed")
    missing = tmp_path / "missing.png"
    result = subprocess.run(
        [script, "apply", "sobel", str(missing), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert result.returncode == 1
    assert f"{missing}: no such file or directory" in result.stderr
    assert not (tmp_path / "o").exists()
    _assert_only_our_lines(result.stderr)
    # A folder of many image sizes, --quiet: nothing at all on stderr (no retracing warning).
    _mixed_sizes(tmp_path / "mixed")
    for argv in (
        ["apply", "gaussian", str(tmp_path / "mixed"), "--out", str(tmp_path / "g"), "-q"],
        ["list"],
    ):
        result = subprocess.run(
            [script, *argv], capture_output=True, text=True, env=_env(), timeout=120
        )
        assert result.returncode == 0 and result.stderr == "", result.stderr
    assert len(_files(tmp_path / "g")) == 12
