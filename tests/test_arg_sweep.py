"""Every constructor-argument combination OpenCV accepts builds, runs and matches cv2.

One explicit table per layer of candidate arguments (accepted and refused ones); ``cv2`` itself
says which it accepts (a tiny call that raises ``cv2.error`` or not). For every combination cv2
accepts, our layer must build and run on a small image and match cv2 within the parity
tolerance of ``tests/cvref.py``; for every combination cv2 refuses, our constructor must raise
``ValueError``/``TypeError`` (never a failure later, in ``build`` or ``call``).

Cheap by design: the sweep runs on a 9x11 image with 2 channels (the padded-convolution path,
no XLA compile); a few representative kernel shapes also run on a 32x40 image, which takes the
compiled stencil path. Borders cycle through ``cvref.BORDERS`` along each table.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import fixedfilters as ff
from cvref import (
    BORDERS,
    filter2d_case,
    gaussian_case,
    laplacian_case,
    magnitude_case,
    reference,
    scharr_case,
    sobel_case,
    tolerance,
)
from fixedfilters.ops import filter_method

PROBE = np.arange(7 * 8, dtype=np.float32).reshape(7, 8)


def _cv_accepts(fn) -> bool:
    try:
        fn(PROBE)
    except cv2.error:
        return False
    return True


# -- the tables of candidates --------------------------------------------------------------------
SOBEL_KSIZES = (-1, 1, 3, 5, 7)
SOBEL = [
    (dx, dy, k) for k in SOBEL_KSIZES for dx in range(max(k, 3) + 1) for dy in range(max(k, 3) + 1)
] + [(1, 0, 31), (0, 1, 31), (2, 3, 31), (30, 0, 31), (0, 30, 31), (30, 30, 31), (31, 0, 31)]
SCHARR = [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (0, 0)]
LAPLACIAN = list(range(-1, 33))
GAUSSIAN = (
    [(k, 0.0, 0.0) for k in (1, 3, 5, 7, 9, 11, 15, 31)]  # sizes only: fixed tables up to 9
    + [((1, 3), 0.0, 0.0), ((3, 1), 0.0, 0.0), ((5, 9), 0.0, 0.0), ((9, 5), 1.3, 0.0)]
    + [(5, 1.1, 0.0), (5, 1.1, 2.2), (7, 0.6, 0.0), (5, -1.0, 0.0), (3, 0.0, 1.5)]
    + [(0, 1.2, 0.0), ((0, 0), 0.8, 1.7), ((0, 5), 1.0, 0.0), ((5, 0), 0.0, 1.0)]
    + [(0, 3.5, 0.0), ((0, 7), 0.0, 0.0), (0, 0.0, 0.0), (4, 1.0, 0.0), ((3, 4), 1.0, 0.0)]
)
MAGNITUDE = [-1, 1, 3, 5, 7, 31]
FILTER2D_SHAPES = [(1, 1), (2, 2), (3, 3), (2, 3), (4, 3), (1, 4), (5, 1), (4, 4)]


def _filter2d_candidates():
    out = []
    for kh, kw in FILTER2D_SHAPES:
        anchors = [None, (-1, -1), (-1, 0), (0, -1), (-2, 0)] + [
            (x, y) for y in range(kh + 1) for x in range(kw + 1)
        ]
        out += [((kh, kw), a) for a in anchors]
    return out


FILTER2D = _filter2d_candidates()


def _kernel(kh, kw):
    return (np.arange(kh * kw, dtype=np.float64).reshape(kh, kw) - kh * kw / 3) / 4


# -- the checks -----------------------------------------------------------------------------------
def _image(h, w, c, seed):
    return np.random.default_rng(seed).uniform(-100, 155, (1, h, w, c)).astype(np.float32)


def _check(case, border, *, h=9, w=11, c=2, seed=0):
    img = _image(h, w, c, seed)
    layer = case.make(border=border)
    got = np.asarray(layer(img))
    want = reference(case, img, border)
    assert got.shape == img.shape
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    tol = tolerance(case, img)
    assert err <= tol, f"{case.id} border={border}: max|diff|={err} > {tol}"


def _sweep(candidates, cv_fn, make_case, make_layer):
    """Check every candidate; return the number cv2 accepted (the tables must not be empty)."""
    accepted = 0
    for i, args in enumerate(candidates):
        if _cv_accepts(lambda p, a=args: cv_fn(p, *a)):
            _check(make_case(*args), BORDERS[i % len(BORDERS)], seed=i)
            accepted += 1
        else:
            with pytest.raises((ValueError, TypeError)):
                make_layer(*args)
    return accepted


def test_sobel_every_accepted_order_and_ksize():
    n = _sweep(
        SOBEL,
        lambda p, dx, dy, k: cv2.Sobel(p, cv2.CV_32F, dx, dy, ksize=k),
        sobel_case,
        ff.Sobel,
    )
    assert n == 2 + 8 + 8 + 24 + 48 + 6  # Scharr, ksize 1 and 3: orders <= 2; k: < k


def test_scharr_every_accepted_order():
    n = _sweep(
        SCHARR,
        lambda p, dx, dy: cv2.Scharr(p, cv2.CV_32F, dx, dy),
        scharr_case,
        ff.Scharr,
    )
    assert n == 2


def test_laplacian_every_accepted_ksize():
    n = _sweep(
        [(k,) for k in LAPLACIAN],
        lambda p, k: cv2.Laplacian(p, cv2.CV_32F, ksize=k),
        laplacian_case,
        ff.Laplacian,
    )
    assert n == 16


def _cv_gaussian(p, ksize, sx, sy):
    ks = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    return cv2.GaussianBlur(p, ks, sx, sigmaY=sy)


def test_gaussian_every_accepted_ksize_and_sigma_form():
    n = _sweep(GAUSSIAN, _cv_gaussian, gaussian_case, ff.GaussianBlur)
    assert n >= 20


def _cv_magnitude(p, k):
    return cv2.magnitude(
        cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=k), cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=k)
    )


@pytest.mark.parametrize("ksize", MAGNITUDE)
def test_sobel_magnitude_every_accepted_ksize(ksize):
    assert _cv_accepts(lambda p: _cv_magnitude(p, ksize))
    _check(
        magnitude_case(ksize),
        BORDERS[MAGNITUDE.index(ksize) % len(BORDERS)],
        seed=MAGNITUDE.index(ksize),
    )


def test_filter2d_every_anchor_and_size():
    def cv_fn(p, shape, anchor):
        k = _kernel(*shape).astype(np.float32)
        return cv2.filter2D(p, cv2.CV_32F, k, anchor=(-1, -1) if anchor is None else anchor)

    def case(shape, anchor):
        return filter2d_case(_kernel(*shape), anchor=anchor, name="sweep")

    def layer(shape, anchor):
        return ff.Filter2D(_kernel(*shape), anchor=anchor)

    n = _sweep(FILTER2D, cv_fn, case, layer)
    assert n == sum(kh * kw + 4 for kh, kw in FILTER2D_SHAPES)


# The compiled stencil path (images of at least STENCIL_MIN_ELEMENTS values): one call per
# kind of kernel shape (1-tap factors, Scharr, the largest apertures, uneven sizes).
STENCIL_CASES = [
    sobel_case(1, 0, 1),
    sobel_case(0, 2, 1),
    sobel_case(2, 2, 1),
    sobel_case(1, 0, -1),
    sobel_case(3, 4, 7),
    laplacian_case(1),
    laplacian_case(7),
    gaussian_case((1, 3)),
    gaussian_case((31, 5), 3.0, 0.7),
    magnitude_case(-1),
    magnitude_case(5),
]


@pytest.mark.parametrize("case", STENCIL_CASES, ids=lambda c: c.id)
def test_stencil_path_for_extreme_kernel_shapes(case):
    h, w, c = 32, 40, 1
    assert filter_method((1, h, w, c)) == "stencil"
    _check(case, "reflect_101", h=h, w=w, c=c, seed=7)


@pytest.mark.parametrize(
    "shape, anchor, border",
    [
        ((3, 3), None, "reflect_101"),
        ((2, 2), (0, 0), "constant"),
        ((4, 3), (2, 3), "wrap"),
        ((1, 5), (4, 0), "replicate"),
        ((5, 2), (1, 1), "reflect"),
    ],
)
def test_correlate2d_stencil_method(shape, anchor, border):
    """``ops.correlate2d(method="stencil")`` (the compiled direct 2-D pass a Filter2D can pick
    once per layer) against cv2, with a non-zero constant border value too."""
    from fixedfilters.ops import correlate2d

    case = filter2d_case(_kernel(*shape), anchor=anchor, name="stencil")
    value = 3.5 if border == "constant" else 0.0
    img = _image(32, 40, 2, seed=3)
    got = np.asarray(
        correlate2d(
            img, _kernel(*shape), anchor=anchor, border=border, border_value=value, method="stencil"
        )
    )
    want = reference(case, img, border, value)
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    assert err <= tolerance(case, img), f"{shape} {anchor} {border}: {err}"
