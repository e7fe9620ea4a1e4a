"""fixedfilters.kernels against OpenCV: cv2 is the only source of expected values.

The accepted (dx, dy, ksize) combinations are found by probing cv2.Sobel on a tiny image, so
these tests also prove that ``kernels.sobel`` accepts exactly what cv2.Sobel accepts.
"""

from __future__ import annotations

import doctest
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixedfilters import kernels

REPO = Path(__file__).resolve().parents[1]
KERNELS_FILE = REPO / "fixedfilters" / "kernels.py"

SOBEL_KSIZES = [cv2.FILTER_SCHARR, *range(1, 32, 2)]
PROBED_ORDERS = range(-1, 34)  # past the largest order OpenCV allows (30)
_TINY = np.zeros((8, 8), np.float32)


def _cv_accepts(fn, *args, **kwargs) -> bool:
    try:
        fn(*args, **kwargs)
    except cv2.error:
        return False
    return True


def _cv_sobel_accepts(dx: int, dy: int, ksize: int) -> bool:
    return _cv_accepts(cv2.Sobel, _TINY, cv2.CV_32F, dx, dy, ksize=ksize)


def _cv_deriv(dx, dy, ksize, normalize):
    kx, ky = cv2.getDerivKernels(dx, dy, ksize, normalize=normalize, ktype=cv2.CV_64F)
    return kx.ravel(), ky.ravel()


def _impulse(shape, dtype):
    img = np.zeros(shape, dtype)
    img[shape[0] // 2, shape[1] // 2] = 1
    return img


def _centre_crop(img, h, w):
    cy, cx = img.shape[0] // 2, img.shape[1] // 2
    return img[cy - h // 2 : cy + h // 2 + 1, cx - w // 2 : cx + w // 2 + 1]


def _assert_support_only(response, h, w):
    """Everything outside the centred h x w window is exactly 0."""
    outside = response.copy()
    _centre_crop(outside, h, w)[...] = 0
    assert not outside.any()


# ---------------------------------------------------------------------------------------------
# Sobel / Scharr
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ksize", SOBEL_KSIZES)
def test_sobel_accepts_exactly_what_cv2_sobel_accepts_and_matches_bitwise(ksize):
    accepted = 0
    for dx in PROBED_ORDERS:
        for dy in PROBED_ORDERS:
            cv_ok = _cv_sobel_accepts(dx, dy, ksize)
            # getDerivKernels and Sobel agree on what they accept (OpenCV 5: both refuse 0, 0).
            assert cv_ok == _cv_accepts(cv2.getDerivKernels, dx, dy, ksize, ktype=cv2.CV_64F)
            if not cv_ok:
                with pytest.raises(ValueError):
                    kernels.sobel(dx, dy, ksize)
                continue
            accepted += 1
            for normalize in (False, True):
                kx, ky = kernels.sobel(dx, dy, ksize, normalize=normalize)
                ex, ey = _cv_deriv(dx, dy, ksize, normalize)
                assert kx.dtype == ky.dtype == np.float64
                assert kx.ndim == ky.ndim == 1
                assert np.array_equal(kx, ex), (dx, dy, ksize, normalize)
                assert np.array_equal(ky, ey), (dx, dy, ksize, normalize)
                assert np.array_equal(np.signbit(kx), np.signbit(ex))
    assert accepted > 0


def test_sobel_is_what_cv2_sobel_applies():
    rng = np.random.default_rng(0)
    img = rng.standard_normal((23, 19))
    for dx, dy, ksize in [(1, 0, 3), (0, 2, 1), (2, 1, 5), (1, 0, -1), (3, 2, 7), (1, 1, 1)]:
        kx, ky = kernels.sobel(dx, dy, ksize)
        got = cv2.sepFilter2D(img, cv2.CV_64F, kx, ky, borderType=cv2.BORDER_REFLECT_101)
        want = cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=ksize, borderType=cv2.BORDER_REFLECT_101)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ksize", [0, -3, -5])
def test_sobel_refuses_opencv_scharr_aliases(ksize):
    # OpenCV treats every ksize <= 0 as Scharr; only -1 (cv2.FILTER_SCHARR) is accepted here.
    assert _cv_sobel_accepts(1, 0, ksize)
    with pytest.raises(ValueError, match=f"ksize={ksize}"):
        kernels.sobel(1, 0, ksize)


@pytest.mark.parametrize("ksize", [2, 4, 30, 33, 35])
def test_sobel_refuses_even_and_large_ksize_like_cv2(ksize):
    assert not _cv_sobel_accepts(1, 0, ksize)
    with pytest.raises(ValueError, match=f"ksize={ksize}"):
        kernels.sobel(1, 0, ksize)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("dx, dy", [(1, 0), (0, 1)])
def test_scharr_is_sobel_minus_one(dx, dy, normalize):
    kx, ky = kernels.scharr(dx, dy, normalize)
    ex, ey = _cv_deriv(dx, dy, cv2.FILTER_SCHARR, normalize)
    assert np.array_equal(kx, ex) and np.array_equal(ky, ey)


def test_sobel_accepts_numpy_integers_and_bools():
    kx, ky = kernels.sobel(np.int64(1), np.int32(0), np.int16(5), normalize=np.bool_(True))
    ex, ey = _cv_deriv(1, 0, 5, True)
    assert np.array_equal(kx, ex) and np.array_equal(ky, ey)


# ---------------------------------------------------------------------------------------------
# Gaussian
# ---------------------------------------------------------------------------------------------

SIGMAS = [0, -1, 0.1, 0.3, 0.5, 0.8, 1, 1.234, 2, 3, 5.5, 10, 50]


def _cv_gauss(n, sigma, ktype=cv2.CV_64F):
    return cv2.getGaussianKernel(n, sigma, ktype=ktype).ravel()


@pytest.mark.parametrize("sigma", SIGMAS)
def test_gaussian_matches_cv2_bitwise(sigma):
    for n in range(1, 52, 2):
        got = kernels.gaussian(n, sigma)
        assert got.dtype == np.float64 and got.shape == (n,)
        assert np.array_equal(got, _cv_gauss(n, sigma)), (n, sigma)
        # OpenCV's float32 kernels are the float64 ones rounded: what float32 images use.
        assert np.array_equal(got.astype(np.float32), _cv_gauss(n, sigma, cv2.CV_32F))


def test_gaussian_matches_cv2_bitwise_random_and_extreme_sigmas():
    rng = np.random.default_rng(2024)
    sigmas = [*rng.uniform(0.05, 60.0, 60), *np.exp(rng.uniform(-7.0, 9.0, 60))]
    sigmas += [1e-3, 1e-200, 1e-320, 1e200, 1e300, 7.0 / 3.0, np.nextafter(0.5, 1.0)]
    for sigma in sigmas:
        for n in (3, 9, 11, 25, 63, 101, 151):
            assert np.array_equal(kernels.gaussian(n, sigma), _cv_gauss(n, sigma)), (n, sigma)


def test_gaussian_accepts_numpy_scalars():
    got = kernels.gaussian(np.int64(7), np.float32(1.5))
    assert np.array_equal(got, _cv_gauss(7, float(np.float32(1.5))))


def _near_half_sigmas(factor):
    """sigmas where sigma*factor*2 + 1 is (about) m + 0.5, and their float neighbours."""
    out = []
    for m in range(2, 36):
        s = (m - 0.5) / (2 * factor)
        out += [np.nextafter(s, 0.0), s, np.nextafter(s, 1.0)]
    return out


FLOAT_SIGMAS = [0.15, 0.2, 0.33, 0.5, 0.7, 1.0, 1.1, 1.5, 2.0, 2.7, 3.3, 4.0]


def test_gaussian_ksize_matches_cv2_impulse_width_float32():
    img = _impulse((1, 81), np.float32)  # one row: the response width is the kernel width
    for sigma in FLOAT_SIGMAS + [s for s in _near_half_sigmas(4) if s >= 0.15]:
        k = kernels.gaussian_ksize(sigma)
        out = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        assert np.count_nonzero(out) == k, sigma
        assert k % 2 == 1


def test_gaussian_ksize_matches_cv2_impulse_width_tiny_sigmas_float64():
    # Below sigma ~0.15 the outer taps underflow float32; float64 images use the same rule.
    img = _impulse((1, 41), np.float64)
    for sigma in [0.01, 0.05, 0.0624, 0.0625, 0.0626, 0.08, 0.1, 0.1249, 0.125, 0.1875]:
        k = kernels.gaussian_ksize(sigma)
        out = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        assert np.count_nonzero(out) == k, sigma


def _sizes_equal_to_auto(img, sigma, candidates):
    auto = cv2.GaussianBlur(img, (0, 0), sigma)
    return {k for k in candidates if np.array_equal(cv2.GaussianBlur(img, (k, k), sigma), auto)}


def test_gaussian_ksize_near_half_boundaries_float32():
    # Blurring with (0, 0) equals blurring with our explicit size, and not with 2 taps fewer.
    img = np.random.default_rng(5).random((40, 40)).astype(np.float32)
    for sigma in [s for s in _near_half_sigmas(4) if s < 2.0]:
        k = kernels.gaussian_ksize(sigma)
        matches = _sizes_equal_to_auto(img, sigma, range(1, 40, 2))
        assert k in matches and k - 2 not in matches, (sigma, k, matches)


def test_gaussian_ksize_uint8_rule():
    # uint8 images use 8-bit fixed-point taps, whose tails vanish beyond about 3 sigma, so
    # several sizes often blur identically; the rule must be consistent everywhere and is
    # pinned down (only our size matches, not the 8*sigma + 1 float rule) where they differ.
    img = np.random.default_rng(6).integers(0, 256, (48, 48), dtype=np.uint8)
    pinned = 0
    for sigma in np.round(np.arange(0.5, 2.6, 0.05), 2):
        k = kernels.gaussian_ksize(float(sigma), uint8=True)
        matches = _sizes_equal_to_auto(img, float(sigma), range(1, 30, 2))
        assert k in matches, (sigma, k, matches)
        pinned += matches == {k} and kernels.gaussian_ksize(float(sigma)) != k
    assert pinned >= 5


BLUR_CASES = [
    (5, 1.0, 0.0),
    ((7, 3), 1.5, 0.7),
    ((3, 9), 0.8, 2.0),
    ([9, 5], 0.0, 0.0),
    ((9, 5), -1.0, -2.0),
    ((11, 7), 0.0, 1.3),
    ((0, 0), 1.2, 0.0),
    ((0, 0), 0.9, 2.3),
    (0, 1.7, 0.6),
    ((0, 7), 1.1, 0.0),
    ((5, 0), 0.0, 1.3),
    ((3, 0), -2.0, 0.4),
    ((np.int64(13), np.int32(5)), 2.5, 0.0),
    (np.array([7, 11]), 1.0, 3.0),
    # |sigma_x - sigma_y| < DBL_EPSILON with equal sizes: OpenCV reuses the x taps for y.
    ((7, 7), 0.6531569210431771, 0.6531569210431772),
]


@pytest.mark.parametrize("ksize, sigma_x, sigma_y", BLUR_CASES)
def test_gaussian_blur_kernels_match_cv2_gaussian_blur(ksize, sigma_x, sigma_y):
    kx, ky = kernels.gaussian_blur_kernels(ksize, sigma_x, sigma_y)
    h, w = len(ky), len(kx)
    cv_ksize = tuple(int(v) for v in ksize) if np.ndim(ksize) else (int(ksize), int(ksize))

    def blur(img, border=cv2.BORDER_CONSTANT):
        return cv2.GaussianBlur(img, cv_ksize, sigma_x, sigmaY=sigma_y, borderType=border)

    # float64 images: the response to an impulse is outer(ky, kx), one product per pixel.
    resp = blur(_impulse((41, 45), np.float64))
    np.testing.assert_array_equal(_centre_crop(resp, h, w), np.outer(ky, kx))
    _assert_support_only(resp, h, w)

    # float32 images: OpenCV uses the taps rounded to float32 and float32 products.
    resp32 = blur(_impulse((41, 45), np.float32))
    want32 = np.outer(ky.astype(np.float32), kx.astype(np.float32))
    np.testing.assert_array_equal(_centre_crop(resp32, h, w), want32)
    _assert_support_only(resp32, h, w)

    # A float32 image, our separable taps applied in float64 by numpy (reflect_101 border).
    img = np.random.default_rng(9).random((17, 23)).astype(np.float32)
    pad = np.pad(img.astype(np.float64), ((h // 2, h // 2), (w // 2, w // 2)), mode="reflect")
    rows = sum(ky[i] * pad[i : i + img.shape[0], :] for i in range(h))
    ours = sum(kx[j] * rows[:, j : j + img.shape[1]] for j in range(w))
    np.testing.assert_allclose(blur(img, cv2.BORDER_REFLECT_101), ours, rtol=1e-5, atol=1e-6)


def test_gaussian_blur_kernels_width_height_order():
    kx, ky = kernels.gaussian_blur_kernels((7, 3), 1.5, 0.7)
    assert np.array_equal(kx, _cv_gauss(7, 1.5)) and np.array_equal(ky, _cv_gauss(3, 0.7))
    kx, ky = kernels.gaussian_blur_kernels((0, 0), 0.9, 2.3)
    assert (len(kx), len(ky)) == (kernels.gaussian_ksize(0.9), kernels.gaussian_ksize(2.3))


# ---------------------------------------------------------------------------------------------
# Laplacian
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ksize", range(1, 32, 2))
def test_laplacian_matches_cv2_impulse(ksize):
    lap = kernels.laplacian(ksize)
    size = max(ksize, 3)
    assert lap.dtype == np.float64 and lap.shape == (size, size)
    img = _impulse((67, 67), np.float64)
    resp = cv2.Laplacian(img, cv2.CV_64F, ksize=ksize, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_array_equal(_centre_crop(resp, size, size), lap)
    _assert_support_only(resp, size, size)


@pytest.mark.parametrize("ksize", range(1, 32, 2))
def test_laplacian_terms_sum_to_laplacian(ksize):
    terms = kernels.laplacian_terms(ksize)
    assert len(terms) == 2
    for kx, ky in terms:
        assert kx.dtype == ky.dtype == np.float64 and kx.ndim == ky.ndim == 1
    total = sum(np.outer(ky, kx) for kx, ky in terms)
    np.testing.assert_array_equal(total, kernels.laplacian(ksize))
    if ksize >= 3:
        (ax, ay), (bx, by) = terms
        assert np.array_equal(ax, _cv_deriv(2, 0, ksize, False)[0])
        assert np.array_equal(ay, _cv_deriv(2, 0, ksize, False)[1])
        assert np.array_equal(bx, _cv_deriv(0, 2, ksize, False)[0])
        assert np.array_equal(by, _cv_deriv(0, 2, ksize, False)[1])
    else:
        assert all(len(k) == 3 for term in terms for k in term)


def test_laplacian_accepts_exactly_what_cv2_laplacian_accepts():
    for ksize in range(-3, 36):
        if _cv_accepts(cv2.Laplacian, _TINY, cv2.CV_32F, ksize=ksize):
            kernels.laplacian(ksize)
        else:
            with pytest.raises(ValueError, match=f"ksize={ksize}"):
                kernels.laplacian(ksize)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

S, SC, G, GK, GB = (
    kernels.sobel,
    kernels.scharr,
    kernels.gaussian,
    kernels.gaussian_ksize,
    kernels.gaussian_blur_kernels,
)
L, LT = kernels.laplacian, kernels.laplacian_terms
NAN, INF = float("nan"), float("inf")

ERROR_CASES = [
    # (function, args, kwargs, exception, substrings of the message)
    (S, (1, 0, 4), {}, ValueError, ["ksize=4", "-1 (Scharr)", "odd integer from 1 to 31"]),
    (S, (1, 0, 33), {}, ValueError, ["ksize=33"]),
    (S, (1, 0, 0), {}, ValueError, ["ksize=0"]),
    (S, (1, 0, -3), {}, ValueError, ["ksize=-3"]),
    (S, (1, 0, 3.0), {}, TypeError, ["ksize=3.0", "float"]),
    (S, (1, 0, True), {}, TypeError, ["ksize=True", "bool"]),
    (S, (1, 0, "3"), {}, TypeError, ["ksize='3'"]),
    (S, (0, 0, 3), {}, ValueError, ["dx=0", "dy=0", "dx + dy > 0"]),
    (S, (0, 0, 1), {}, ValueError, ["dx=0", "dy=0"]),
    (S, (3, 0, 3), {}, ValueError, ["dx=3", "ksize=3", "at most 2"]),
    (S, (3, 0, 1), {}, ValueError, ["dx=3", "ksize=1", "at most 2"]),
    (S, (0, 5, 5), {}, ValueError, ["dy=5", "ksize=5", "at most 4"]),
    (S, (1, 31, 31), {}, ValueError, ["dy=31", "at most 30"]),
    (S, (1, 1, -1), {}, ValueError, ["dx=1", "dy=1", "Scharr"]),
    (S, (2, 0, -1), {}, ValueError, ["dx=2", "dy=0"]),
    (S, (-1, 1, 3), {}, ValueError, ["dx=-1", "non-negative"]),
    (S, (1, -2, 5), {}, ValueError, ["dy=-2", "non-negative"]),
    (S, (1.5, 0), {}, TypeError, ["dx=1.5", "integer"]),
    (S, ("1", 0), {}, TypeError, ["dx='1'"]),
    (S, (0, 1.0), {}, TypeError, ["dy=1.0"]),
    (S, (1, 0, 3), {"normalize": "yes"}, TypeError, ["normalize='yes'", "bool"]),
    (SC, (0, 0), {}, ValueError, ["dx=0", "dy=0", "Scharr"]),
    (SC, (0, 2), {}, ValueError, ["dy=2"]),
    (G, (4, 1.0), {}, ValueError, ["ksize=4", "odd positive integer"]),
    (G, (0, 1.0), {}, ValueError, ["ksize=0"]),
    (G, (-3, 1.0), {}, ValueError, ["ksize=-3"]),
    (G, (3.0, 1.0), {}, TypeError, ["ksize=3.0"]),
    (G, (False, 1.0), {}, TypeError, ["ksize=False"]),
    (G, (5, NAN), {}, ValueError, ["sigma=nan", "finite"]),
    (G, (5, INF), {}, ValueError, ["sigma=inf"]),
    (G, (5, -INF), {}, ValueError, ["sigma=-inf"]),
    (G, (5, "1"), {}, TypeError, ["sigma='1'"]),
    (G, (5, None), {}, TypeError, ["sigma=None"]),
    (GK, (0.0,), {}, ValueError, ["sigma=0.0", "> 0"]),
    (GK, (-1,), {}, ValueError, ["sigma=-1"]),
    (GK, (NAN,), {}, ValueError, ["sigma=nan"]),
    (GK, (INF,), {}, ValueError, ["sigma=inf"]),
    (GK, (1e300,), {}, ValueError, ["sigma=1e+300", "too large"]),
    (GK, (1.0,), {"uint8": 1}, TypeError, ["uint8=1", "bool"]),
    (GB, ((3, 4), 1.0), {}, ValueError, ["ksize=(3, 4)", "(width, height)"]),
    (GB, ((3, 3, 3), 1.0), {}, ValueError, ["ksize=(3, 3, 3)", "2 entries"]),
    (GB, ((3,), 1.0), {}, ValueError, ["ksize=(3,)"]),
    (GB, ([], 1.0), {}, ValueError, ["ksize=[]"]),
    (GB, ((-3, 3), 1.0), {}, ValueError, ["ksize=(-3, 3)"]),
    (GB, (-3, 1.0), {}, ValueError, ["ksize=-3"]),
    (GB, (4, 1.0), {}, ValueError, ["ksize=4"]),
    (GB, ((3.0, 3), 1.0), {}, TypeError, ["ksize=(3.0, 3)"]),
    (GB, ((3, True), 1.0), {}, TypeError, ["ksize=(3, True)"]),
    (GB, ("33", 1.0), {}, TypeError, ["ksize='33'"]),
    (GB, (3.0, 1.0), {}, TypeError, ["ksize=3.0"]),
    (GB, (0, 0.0), {}, ValueError, ["ksize=0", "sigma_x=0.0"]),
    (GB, ((0, 0), -1.0), {}, ValueError, ["ksize=(0, 0)", "sigma_x=-1.0"]),
    (GB, ((0, 5), 0.0), {}, ValueError, ["ksize=(0, 5)", "sigma_x=0.0"]),
    (GB, ((5, 0), -1.0, -1.0), {}, ValueError, ["ksize=(5, 0)", "sigma_y=-1.0"]),
    (GB, (5, NAN), {}, ValueError, ["sigma_x=nan"]),
    (GB, (5, 1.0, INF), {}, ValueError, ["sigma_y=inf"]),
    (GB, (5, "1"), {}, TypeError, ["sigma_x='1'"]),
    (L, (2,), {}, ValueError, ["ksize=2", "odd integer from 1 to 31"]),
    (L, (33,), {}, ValueError, ["ksize=33"]),
    (L, (0,), {}, ValueError, ["ksize=0"]),
    (L, (-1,), {}, ValueError, ["ksize=-1"]),
    (L, (1.0,), {}, TypeError, ["ksize=1.0"]),
    (LT, (4,), {}, ValueError, ["ksize=4"]),
]


@pytest.mark.parametrize(
    "fn, args, kwargs, exc, needles",
    ERROR_CASES,
    ids=[f"{c[0].__name__}{c[1]!r}{c[2] or ''}" for c in ERROR_CASES],
)
def test_errors_name_argument_value_and_what_is_allowed(fn, args, kwargs, exc, needles):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert type(info.value) is exc
    message = str(info.value)
    assert "Received:" in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_validators_are_private_helpers():
    assert kernels._check_int("n", np.int64(3)) == 3
    assert kernels._check_finite("s", np.float32(0.5)) == 0.5
    assert kernels._check_odd_ksize("k", 7, max_size=31) == 7
    assert kernels._check_odd_ksize("k", -1, special={-1: "-1 (Scharr)"}) == -1
    assert kernels._check_ksize_pair("k", 5) == (5, 5)
    assert kernels._check_ksize_pair("k", (0, 3)) == (0, 3)
    assert not any(name.startswith("_") for name in kernels.__all__)


# ---------------------------------------------------------------------------------------------
# Module hygiene
# ---------------------------------------------------------------------------------------------


def test_kernels_module_imports_no_tensorflow_keras_or_cv2():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('ff_kernels', {str(KERNELS_FILE)!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('tensorflow', 'keras', 'cv2', 'fixedfilters'))\n"
        "assert not bad, bad\n"
        "assert mod.sobel(1, 0)[0].tolist() == [-1.0, 0.0, 1.0]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_docstring_examples():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(kernels) if t.examples]
    assert {t.name.rsplit(".", 1)[-1] for t in tests} >= set(kernels.__all__) - {
        "SCHARR",
        "MAX_DERIV_KSIZE",
    }
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


def test_public_functions_are_documented():
    for name in kernels.__all__:
        obj = getattr(kernels, name)
        if callable(obj):
            doc = obj.__doc__ or ""
            assert "cv2." in doc and ">>>" in doc, name
            assert "correlation" in doc.lower() or name == "gaussian_ksize", name


def test_constants():
    assert kernels.SCHARR == cv2.FILTER_SCHARR
    assert kernels._EXP2_TABLE[0] == 1.0 and kernels._EXP2_TABLE[32] == math.sqrt(2.0)
