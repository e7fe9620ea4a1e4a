"""Every layer against cv2: borders x kernel sizes x channels x odd and tiny sizes x dtypes."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from cvref import (
    CASES,
    case_borders,
    cases_with,
    gaussian_case,
    laplacian_case,
    reference,
    sobel_case,
    tolerance,
)

# (height, width): 1x1, a row, a column, smaller than most kernels, odd, even.
SIZES = [(1, 1), (1, 7), (6, 1), (2, 3), (4, 5), (17, 23), (32, 31)]


def _image(rng, b, h, w, c, dtype):
    if dtype == "uint8":
        return rng.integers(0, 256, size=(b, h, w, c)).astype(np.uint8)
    return (rng.standard_normal((b, h, w, c)) * 50).astype(np.float32)


def _check(case, img, border, border_value=0.0, **layer_kwargs):
    layer = case.make(border=border, border_value=border_value, **layer_kwargs)
    got = np.asarray(layer(img))
    want = reference(case, img, border, border_value)
    assert got.shape == want.shape
    if case.same_shape:
        assert got.shape == img.shape
    assert got.dtype == np.float32
    tol = tolerance(case, img)
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
    assert err <= tol, f"{case.id} border={border} shape={img.shape}: max|diff|={err} > {tol}"


@pytest.mark.parametrize(
    "case,border", case_borders(), ids=[f"{c.id}-{b}" for c, b in case_borders()]
)
def test_parity_all_sizes(case, border, rng):
    for h, w in SIZES:
        _check(case, _image(rng, 2, h, w, 1, "float32"), border)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_parity_channels_and_dtypes(case, channels, dtype, rng):
    for border in ("reflect_101", "replicate", "wrap"):
        if border in case.borders:
            _check(case, _image(rng, 2, 19, 13, channels, dtype), border)


@pytest.mark.parametrize("case", cases_with("constant"), ids=lambda c: c.id)
@pytest.mark.parametrize("border_value", [0.0, 7.5, -100.0])
def test_parity_constant_border_value(case, border_value, rng):
    for h, w in [(1, 1), (3, 2), (15, 16)]:
        _check(case, _image(rng, 1, h, w, 2, "float32"), "constant", border_value)


@pytest.mark.skipif(
    keras.backend.backend() == "jax" and not os.environ.get("JAX_ENABLE_X64"),
    reason="JAX computes in float32 unless JAX_ENABLE_X64 is set",
)
def test_float64_layers_compute_in_float64(rng):
    img = rng.standard_normal((1, 9, 10, 2)).astype(np.float32).astype(np.float64)
    for case in (sobel_case(1, 0, 3), gaussian_case(5), laplacian_case(3)):
        layer = case.make(border="reflect_101", border_value=0.0, dtype="float64")
        got = np.asarray(layer(img))
        assert got.dtype == np.float64
        want = np.stack(
            [
                np.stack([case.cv(img[b, :, :, c].astype(np.float32), 4) for c in range(2)], -1)
                for b in range(1)
            ]
        )
        # cv2 computed in float32 here; our float64 result is at least as precise.
        assert np.max(np.abs(got - want)) <= tolerance(case, img)


def test_nan_propagates_like_opencv():
    import cv2

    import fixedfilters as ff

    img = np.zeros((1, 9, 9, 1), np.float32)
    img[0, 4, 4, 0] = np.nan
    for layer, cv in [
        (ff.GaussianBlur(3), lambda p: cv2.GaussianBlur(p, (3, 3), 0)),
        (ff.Sobel(1, 0, 3), lambda p: cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3)),
        (ff.Laplacian(3), lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=3)),
    ]:
        got = np.isnan(np.asarray(layer(img))[0, :, :, 0])
        want = np.isnan(cv(img[0, :, :, 0]))
        # Every pixel OpenCV makes NaN is NaN here too; far from the NaN nothing is.
        assert want.any() and np.all(got[want])
        assert not got[0, :].any() and not got[:, 0].any()
