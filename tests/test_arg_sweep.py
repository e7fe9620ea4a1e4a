"""Every constructor-argument combination OpenCV accepts builds, runs and matches cv2.

One explicit table per layer of candidate arguments (accepted and refused ones); ``cv2`` itself
says which it accepts (a tiny call that raises ``cv2.error`` or not). For every combination cv2
accepts, our layer must build and run on a small image and match cv2 within the parity
tolerance of ``tests/cvref.py``; for every combination cv2 refuses, our constructor must raise
``ValueError``/``TypeError`` (never a failure later, in ``build`` or ``call``).

Cheap by design: the sweep runs on a 9x11 image with 2 channels (the padded-convolution path,
no XLA compile); a few representative kernel shapes also run on a 32x40 image, which takes the
compiled stencil path. Borders cycle through ``cvref.BORDERS`` along each table.

The second half sweeps the integer outputs (``output_dtype``, OpenCV's ``ddepth``) of every
family that has them, seeded and random over the argument space: input dtypes (float64 where
OpenCV takes it), each accepted integer output, OpenCV's borders (constant with a non-zero
``borderValue`` where cv2 takes one: morphology), scales and deltas, anchors, tiny images
down to 1x1 and one-pixel-wide/high ones. Every result is compared with ``cv2`` by equality.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import fixedfilters as ff
from cvref import (
    BORDERS,
    assert_same_bytes,
    cv_batch,
    filter2d_case,
    gaussian_case,
    laplacian_case,
    magnitude_case,
    reference,
    scharr_case,
    sobel_case,
    tolerance,
)
from fixedfilters.layers.morphology import MORPH_OPS
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


# -- integer outputs: a seeded random sweep against cv2, compared by equality -------------------
CV_INT_DEPTH = {"uint8": cv2.CV_8U, "int16": cv2.CV_16S, "uint16": cv2.CV_16U}
CV_BORDER_TYPES = {
    "reflect_101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}
SIDES = (1, 1, 2, 3, 5, 8, 16, 29)  # tiny and one-pixel sides are common on purpose
INT_SWEEP_SIZE = 24  # configurations per family


def _int_image(rng, dtype, *, channels=None):
    """A random batch: 1-2 images, sides from SIDES, 1-3 channels (or ``channels``)."""
    b = int(rng.integers(1, 3))
    h, w = int(rng.choice(SIDES)), int(rng.choice(SIDES))
    c = int(channels or rng.integers(1, 4))
    shape = (b, h, w, c)
    if dtype in ("float32", "float64"):
        # integer values (OpenCV and the layer then sum exactly; see the README's Same bytes)
        return rng.integers(-300, 300, shape).astype(dtype)
    info = np.iinfo(dtype)
    if rng.random() < 0.5:  # the whole range, extremes included
        return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)
    lo = max(int(info.min), -40)
    return rng.integers(lo, 60, shape).astype(dtype)


def _int_outputs(layer, dtype):
    return [d for d in layer._output_dtypes(dtype) if d in CV_INT_DEPTH]


def _border(rng, choices=tuple(CV_BORDER_TYPES)):
    return str(rng.choice(choices))


def _scale_delta(rng, dtype):
    """Any scale and delta on 8/16-bit images; dyadic ones on float images (the README: a float
    image with a non-dyadic scale is only within 1 of OpenCV)."""
    if dtype.startswith("float"):
        return float(rng.choice([1.0, 0.25, 2.0, -0.5])), float(rng.choice([0.0, 2.5, -1.0]))
    scale = float(rng.choice([1.0, 0.1, 0.3, 2.0, 1.7, 0.151239, -0.25]))
    return scale, float(rng.choice([0.0, 2.5, -3.3, 1.0, 0.5]))


def _deriv_config(rng):
    while True:
        ksize = int(rng.choice([-1, 1, 3, 5, 7]))
        top = 2 if ksize in (-1, 1) else ksize - 1
        dx, dy = int(rng.integers(0, top + 1)), int(rng.integers(0, top + 1))
        if dx + dy == 0 or (ksize == -1 and dx + dy != 1):
            continue
        return dx, dy, ksize


def _sobel(rng):
    dx, dy, ksize = _deriv_config(rng)
    dtype = str(rng.choice(["uint8", "uint8", "uint16", "int16", "float32", "float64"]))
    scale, delta = _scale_delta(rng, dtype)
    border = _border(rng)
    make = lambda out: ff.Sobel(  # noqa: E731
        dx, dy, ksize, scale=scale, delta=delta, border=border, output_dtype=out
    )
    cv = lambda p, d: cv2.Sobel(  # noqa: E731
        p, d, dx, dy, ksize=ksize, scale=scale, delta=delta, borderType=CV_BORDER_TYPES[border]
    )
    return f"Sobel({dx}, {dy}, {ksize}, {scale}, {delta}, {border})", dtype, make, cv


def _scharr(rng):
    dx = int(rng.integers(0, 2))
    dtype = str(rng.choice(["uint8", "uint16", "int16", "float64"]))
    scale, delta = _scale_delta(rng, dtype)
    border = _border(rng)
    make = lambda out: ff.Scharr(  # noqa: E731
        dx, 1 - dx, scale=scale, delta=delta, border=border, output_dtype=out
    )
    cv = lambda p, d: cv2.Scharr(  # noqa: E731
        p, d, dx, 1 - dx, scale=scale, delta=delta, borderType=CV_BORDER_TYPES[border]
    )
    return f"Scharr({dx}, {scale}, {delta}, {border})", dtype, make, cv


def _laplacian(rng):
    ksize = int(rng.choice([1, 3, 3, 5, 7]))
    dtypes = ["uint8", "uint8", "uint16", "int16"] + (["float64"] if ksize >= 5 else [])
    dtype = str(rng.choice(dtypes))
    scale, delta = _scale_delta(rng, dtype)
    border = _border(rng)
    # one channel often: cv2 hands one-channel uint8 ksize 3 to IPP (its own arithmetic)
    make = lambda out: ff.Laplacian(  # noqa: E731
        ksize, scale=scale, delta=delta, border=border, output_dtype=out
    )
    cv = lambda p, d: cv2.Laplacian(  # noqa: E731
        p, d, ksize=ksize, scale=scale, delta=delta, borderType=CV_BORDER_TYPES[border]
    )
    return f"Laplacian({ksize}, {scale}, {delta}, {border})", dtype, make, cv


def _gaussian(rng):
    ksize = (int(rng.choice([0, 1, 3, 5, 9])), int(rng.choice([0, 1, 3, 7])))
    sx = float(rng.choice([0.0, 0.6, 1.3, 2.2]))
    sy = float(rng.choice([0.0, 1.1, 0.8]))
    if 0 in ksize and sx <= 0:
        sx = 1.0
    if ksize[1] == 0 and sy <= 0 and sx <= 0:
        sy = 1.0
    dtype = str(rng.choice(["uint8", "uint16", "int16", "int16"]))
    border = _border(rng)
    make = lambda out: ff.GaussianBlur(ksize, sx, sy, border=border, output_dtype=out)  # noqa: E731
    cv = lambda p, d: cv2.GaussianBlur(  # noqa: E731
        p, ksize, sx, sigmaY=sy, borderType=CV_BORDER_TYPES[border]
    )
    return f"GaussianBlur({ksize}, {sx}, {sy}, {border})", dtype, make, cv


def _filter2d(rng):
    kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))
    kernel = rng.uniform(-1, 1, (kh, kw)).round(int(rng.integers(1, 6)))
    anchor = None if rng.random() < 0.5 else (int(rng.integers(0, kw)), int(rng.integers(0, kh)))
    delta = float(rng.choice([0.0, 0.5, 2.3, -7.7]))
    dtype = str(rng.choice(["uint8", "uint8", "uint16", "int16"]))
    border = _border(rng)
    make = lambda out: ff.Filter2D(  # noqa: E731
        kernel, anchor=anchor, delta=delta, border=border, output_dtype=out
    )
    cv = lambda p, d: cv2.filter2D(  # noqa: E731
        p, d, np.float32(kernel), anchor=anchor or (-1, -1), delta=delta,
        borderType=CV_BORDER_TYPES[border],
    )  # fmt: skip
    return f"Filter2D({kh}x{kw}, {anchor}, {delta}, {border})", dtype, make, cv


def _gabor(rng):
    ksize = (int(rng.choice([1, 3, 5, 7])), int(rng.choice([3, 5, 7])))
    args = (float(rng.uniform(0.8, 3)), float(rng.uniform(-3, 3)), float(rng.uniform(2, 9)))
    gamma, psi = float(rng.uniform(0.3, 1.5)), float(rng.uniform(-2, 2))
    border = _border(rng)
    make = lambda out: ff.Gabor(ksize, *args, gamma, psi, border=border, output_dtype=out)  # noqa: E731
    k = cv2.getGaborKernel(ksize, *args, gamma, psi, ktype=cv2.CV_64F)
    cv = lambda p, d: cv2.filter2D(p, d, k, borderType=CV_BORDER_TYPES[border])  # noqa: E731
    return f"Gabor({ksize}, {args}, {gamma}, {psi}, {border})", "uint8", make, cv


def _box(rng):
    ksize = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    anchor = (
        None
        if rng.random() < 0.6
        else (int(rng.integers(0, ksize[0])), int(rng.integers(0, ksize[1])))
    )
    border = _border(rng)
    if rng.random() < 0.3:
        make = lambda out: ff.Blur(ksize, anchor=anchor, border=border, output_dtype=out)  # noqa: E731
        cv = lambda p, d: cv2.blur(  # noqa: E731
            p, ksize, anchor=anchor or (-1, -1), borderType=CV_BORDER_TYPES[border]
        )
        return f"Blur({ksize}, {anchor}, {border})", "uint8", make, cv
    make = lambda out: ff.BoxFilter(ksize, anchor=anchor, border=border, output_dtype=out)  # noqa: E731
    cv = lambda p, d: cv2.boxFilter(  # noqa: E731
        p, d, ksize, anchor=anchor or (-1, -1), borderType=CV_BORDER_TYPES[border]
    )
    return f"BoxFilter({ksize}, {anchor}, {border})", "uint8", make, cv


def _pyramid(rng):
    dtype = str(rng.choice(["uint8", "uint16", "int16"]))
    if rng.random() < 0.5:
        border = _border(rng, ("reflect_101", "reflect", "replicate"))
        make = lambda out: ff.PyrDown(border=border, output_dtype=out)  # noqa: E731
        cv = lambda p, d: cv2.pyrDown(p, borderType=CV_BORDER_TYPES[border])  # noqa: E731
        return f"PyrDown({border})", dtype, make, cv
    make = lambda out: ff.PyrUp(output_dtype=out)  # noqa: E731
    return "PyrUp()", dtype, make, lambda p, d: cv2.pyrUp(p)


def _median(rng):
    dtype = str(rng.choice(["uint8", "uint8", "uint16", "int16"]))
    ksize = int(rng.choice([3, 5, 7] if dtype == "uint8" else [3, 5]))
    make = lambda out: ff.MedianBlur(ksize, output_dtype=out)  # noqa: E731
    return f"MedianBlur({ksize})", dtype, make, lambda p, d: cv2.medianBlur(p, ksize)


def _morphology(rng):
    op = str(rng.choice(list(MORPH_OPS)))
    shape = int(rng.choice([cv2.MORPH_RECT, cv2.MORPH_ELLIPSE, cv2.MORPH_CROSS]))
    size = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    element = cv2.getStructuringElement(shape, size)
    anchor = (
        None
        if rng.random() < 0.6
        else (int(rng.integers(0, size[0])), int(rng.integers(0, size[1])))
    )
    iterations = int(rng.choice([1, 1, 2]))
    dtype = str(rng.choice(["uint8", "uint16", "int16", "float64"]))
    border = _border(rng)
    value = None
    if border == "constant" and rng.random() < 0.7:  # cv2 takes a borderValue here
        top = 255 if dtype == "uint8" else 1000
        value = float(rng.integers(-1000 if dtype in ("int16", "float64") else 0, top))
    make = lambda out: ff.MorphologyEx(  # noqa: E731
        op, kernel=element, anchor=anchor, iterations=iterations, border=border,
        border_value=value, output_dtype=out,
    )  # fmt: skip
    extra = {} if value is None else {"borderValue": (value,) * 4}  # every channel
    cv = lambda p, d: cv2.morphologyEx(  # noqa: E731
        p, MORPH_OPS[op], element, anchor=anchor or (-1, -1), iterations=iterations,
        borderType=CV_BORDER_TYPES[border], **extra,
    )  # fmt: skip
    name = f"MorphologyEx({op}, {size}, {anchor}, it={iterations}, {border}, {value})"
    return name, dtype, make, cv


FAMILIES = {
    "sobel": _sobel,
    "scharr": _scharr,
    "laplacian": _laplacian,
    "gaussian": _gaussian,
    "filter2d": _filter2d,
    "gabor": _gabor,
    "box": _box,
    "pyramid": _pyramid,
    "median": _median,
    "morphology": _morphology,
}


def _cv_each(fn, img):
    """cv2 on each (H, W, C) image; the output keeps C (cv2 drops a 1-channel axis) and may
    change H and W (the pyramids)."""
    outs = []
    for im in img:
        out = fn(np.ascontiguousarray(im))
        outs.append(out.reshape(out.shape[0], out.shape[1], im.shape[2]))
    return np.stack(outs)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_integer_outputs_equal_cv2(family):
    rng = np.random.default_rng(list(FAMILIES).index(family) + 2026)
    checked = 0
    for i in range(INT_SWEEP_SIZE):
        name, dtype, make, cv = FAMILIES[family](rng)
        one = family == "laplacian" and rng.random() < 0.5
        img = _int_image(rng, dtype, channels=1 if one else None)
        if family == "morphology" and dtype == "float64":
            # float64 input: the layer's only integer outputs are none (SAME_DEPTH); cast
            img = img.astype("int16")
            dtype = "int16"
        outs = _int_outputs(make(None), dtype)
        assert outs or dtype.startswith("float"), f"{name}: no integer output for {dtype}"
        for out in outs:
            want = _cv_each(lambda p, out=out, cv=cv: cv(p, CV_INT_DEPTH[out]), img)
            assert_same_bytes(make(out)(img), want, f"#{i} {name} {dtype}->{out} {img.shape}")
            checked += 1
    assert checked >= INT_SWEEP_SIZE // 2


def test_convert_scale_abs_sweep():
    """Every input dtype (float64 with fewer and more than 16 values a sample), random alpha
    and beta, near-ties included, against cv2.convertScaleAbs per sample."""
    rng = np.random.default_rng(7)
    dtypes = ["uint8", "int8", "uint16", "int16", "int32", "float32", "float64", "float64"]
    for i in range(60):
        dtype = str(rng.choice(dtypes))
        alpha = float(rng.choice([1.0, 4.0, 0.5, 7.3, 0.186358, -0.1, 1 / 3]))
        beta = float(rng.choice([0.0, 0.151239, 182.624, -2.5, 0.3]))
        shape = (int(rng.integers(1, 3)), int(rng.choice(SIDES)), int(rng.choice(SIDES)))
        shape += (int(rng.integers(1, 4)),)
        if dtype.startswith("float"):
            # values whose alpha * x + beta is near a .5 tie
            k = rng.integers(-255, 256, shape) + 0.5
            x = (k - np.float32(beta)) / np.float32(alpha)
            img = (x * (1 + rng.normal(0, 1e-7, shape))).astype(dtype)
        else:
            info = np.iinfo(dtype)
            img = rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)
        want = cv_batch(lambda p, a=alpha, b=beta: cv2.convertScaleAbs(p, alpha=a, beta=b), img)
        got = ff.ConvertScaleAbs(alpha, beta)(img)
        assert_same_bytes(got, want, f"#{i} ConvertScaleAbs({alpha}, {beta}) {dtype} {shape}")
