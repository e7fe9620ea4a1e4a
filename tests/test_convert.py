"""``ConvertScaleAbs`` / ``convert_scale_abs``: ``cv2.convertScaleAbs``'s bytes, every arithmetic.

The layer picks integer, float32 or float64 arithmetic from ``alpha``, ``beta`` and the input
dtype (``convert_scale_abs_method``); every choice is compared with ``cv2`` itself, by equality,
on values chosen to break a wrong choice: ties at .5 after scaling, near-ties where float32's
two roundings and OpenCV's single-rounding ``fma`` give different bytes, saturation, NaN and
infinities, the extremes of each dtype.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import assert_same_bytes, cv_batch
from fixedfilters.layers.convert import convert_scale_abs, convert_scale_abs_method

REPO = Path(__file__).resolve().parent.parent

# (alpha, beta): identity, beta 0 (any alpha), powers of two, dyadic, non-dyadic, negative,
# zero, tiny and huge scales
PAIRS = [
    (1.0, 0.0),
    (-1.0, 0.0),
    (0.1, 0.0),
    (0.5, 3.0),
    (0.5, 0.25),
    (-0.25, 7.5),
    (3.0, -2.0),
    (0.1, 0.3),
    (1 / 3, 0.5),
    (0.7, -20.5),
    (0.0, 200.7),
    (2.0**-20, 0.5),
    (255.0 / 1023.0, 0.0),
    (7.3, -1000.25),
    (1e30, 1.0),
]

DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "int32", "float32", "float64", "float16"]


def _cv(x, alpha, beta):
    return cv_batch(lambda im: cv2.convertScaleAbs(im, alpha=alpha, beta=beta), x)


def _images(rng, dtype, shape):
    """Random values over the dtype's whole range, its extremes, ties and specials."""
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        x = rng.uniform(-400, 400, shape)
        flat = x.reshape(-1)
        specials = [0.5, 1.5, 2.5, -0.5, -1.5, 254.5, 255.5, -255.5, 256.0, np.nan, np.inf]
        specials += [-np.inf, 1e10, -1e10, 0.0, -0.0, 1e-40, 6.0, 1.25, 509.0, 4.5, -13.5]
        specials = specials[: flat.size]
        flat[: len(specials)] = specials
        with np.errstate(over="ignore"):  # float16: 1e10 is inf
            return x.astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(int(info.min), -(2**31)), min(int(info.max), 2**31 - 1)
    x = rng.integers(lo, hi, shape, endpoint=True, dtype=np.int64)
    flat = x.reshape(-1)
    edges = [lo, hi, 0, 1, -1, 255, 256, -255, -256, 511, 509, 6, 5, 7, -7, 1022, 1023, 2046]
    edges = [v for v in edges if lo <= v <= hi][: flat.size]
    flat[: len(edges)] = edges
    small = rng.integers(max(lo, -600), min(hi, 600), flat.size // 2, endpoint=True)
    small = small[: flat.size - len(edges)]
    flat[len(edges) : len(edges) + small.size] = small
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_equals_opencv_for_every_dtype_and_scale(dtype, rng):
    x = _images(rng, dtype, (2, 5, 17, 3))
    for alpha, beta in PAIRS:
        assert_same_bytes(
            convert_scale_abs(x, alpha, beta), _cv(x, alpha, beta), f"{dtype} {alpha} {beta}"
        )


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 9, 1), (3, 4, 1, 4), (1, 2, 3, 4)])
def test_tiny_shapes_and_channels(shape, rng):
    for dtype in ("uint8", "int16", "float32"):
        x = _images(rng, dtype, shape)
        for alpha, beta in [(1.0, 0.0), (0.5, 0.5), (0.1, 0.3)]:
            layer = ff.ConvertScaleAbs(alpha, beta)
            assert_same_bytes(layer(x), _cv(x, alpha, beta), f"{shape} {dtype} {alpha} {beta}")


def _near_ties(rng, alpha, beta, dtype, n=4000):
    """Float inputs whose OpenCV byte depends on the single rounding of the fused multiply-add:
    float32's ``fl(fl(x * a) + b)`` rounds to a different byte than the exact ``x * a + b``
    rounded once (computed here in NumPy float64, where the product of two float32 is exact)."""
    a32, b32 = np.float32(alpha), np.float32(beta)
    targets = rng.integers(-255, 255, 50 * n) + 0.5
    x = ((targets - np.float64(b32)) / np.float64(a32)).astype(np.float32)
    x = np.nextafter(x, np.float32(np.inf) * rng.choice([-1, 1], x.size).astype(np.float32))
    fused = (x.astype(np.float64) * np.float64(a32) + np.float64(b32)).astype(np.float32)
    split = (x.astype(np.float32) * a32) + b32
    differ = np.rint(np.abs(fused)) != np.rint(np.abs(split))
    return x[differ][:n].astype(dtype)


@pytest.mark.parametrize(
    "dtype,alpha,beta",
    [
        ("float32", 0.1, 0.3),
        ("float32", 1 / 3, 0.0 + 1 / 7),
        ("float32", -0.7, 20.3),
        ("float64", 0.1, 0.3),
    ],
)
def test_near_ties_take_the_single_rounding(dtype, alpha, beta, rng):
    x = _near_ties(rng, alpha, beta, dtype)
    assert x.size >= 20, "no near-tie found: the test would not test anything"
    assert convert_scale_abs_method(dtype, alpha, beta) == "f64"
    x = x.reshape(1, 1, -1, 1)
    want = _cv(x, alpha, beta)
    # plain float32 arithmetic gets these wrong (so this test can fail)
    split = np.abs(x.astype(np.float32) * np.float32(alpha) + np.float32(beta))
    assert np.mean(np.clip(np.rint(split), 0, 255).astype(np.uint8) != want) > 0.5
    assert_same_bytes(convert_scale_abs(x, alpha, beta), want, f"near ties {dtype} {alpha} {beta}")


def test_dyadic_bound_decides_the_arithmetic(rng):
    assert convert_scale_abs_method("int16", 1.0, 0.0) == "int"
    assert convert_scale_abs_method("int32", 1.0, 0.0) == "int"
    assert convert_scale_abs_method("float32", 1.0, 0.0) == "f32"
    assert convert_scale_abs_method("float32", 0.1, 0.0) == "f32"  # beta 0: fl(x * a)
    assert convert_scale_abs_method("float64", -0.25, 0.3) == "f32"  # a power of two
    assert convert_scale_abs_method("uint16", 3.0, 0.5) == "f32"  # 65535 * 3 + 0.5 < 2**23
    assert convert_scale_abs_method("uint8", 0.1, 0.5) == "f64"  # 0.1 is not dyadic enough
    # (M * |A| + |B|) / 2**e: 32768 * (1 + 2**-10) / 2**-10 < 2**24 but 2**-12 does not fit
    assert convert_scale_abs_method("int16", 1 + 2.0**-8, 2.0**-8) == "f32"
    assert convert_scale_abs_method("int16", 1 + 2.0**-12, 2.0**-12) == "f64"
    assert convert_scale_abs_method("int32", 3.0, 0.5) == "f64"
    # past the bound, float32 really does round: a value where it matters, against cv2
    # (found by a search over float32 pairs: one int16 value rounds to another byte)
    a, b = np.float32(0.1470569223165512), np.float32(0.0017673559486865997)
    assert convert_scale_abs_method("int16", float(a), float(b)) == "f64"
    x = np.arange(-32768, 32768).astype(np.int16).reshape(1, 1, -1, 1)
    want = _cv(x, float(a), float(b))
    split = np.clip(np.rint(np.abs(x.astype(np.float32) * a + b)), 0, 255).astype(np.uint8)
    assert np.any(split != want), "float32 happens to be exact here: pick another case"
    assert_same_bytes(convert_scale_abs(x, float(a), float(b)), want, "past the dyadic bound")


def test_dynamic_shapes_run_the_same_bytes_uncompiled(rng):
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("a TensorFlow graph with dynamic shapes")
    x = _images(rng, "float32", (2, 6, 11, 3))
    for alpha, beta in [(1.0, 0.0), (0.5, 3.0), (0.1, 0.3)]:
        layer = ff.ConvertScaleAbs(alpha, beta)
        fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3))])
        assert_same_bytes(fn(x), _cv(x, alpha, beta), f"dynamic {alpha} {beta}")
    xi = _images(rng, "int16", (2, 6, 11, 3))
    fn = tf.function(
        ff.ConvertScaleAbs(), input_signature=[tf.TensorSpec((None, None, None, 3), "int16")]
    )
    assert_same_bytes(fn(xi), _cv(xi, 1.0, 0.0), "dynamic int16")


_JAX_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np, cv2, jax
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, sys.argv[1] + "/tests")  # cvref, as pytest finds it
    from fixedfilters.layers.convert import convert_scale_abs, convert_scale_abs_method
    from tests.test_convert import _images, _cv, _near_ties
    rng = np.random.default_rng(7)
    pairs = [(1.0, 0.0), (0.5, 3.0), (0.1, 0.0), (0.1, 0.3), (-0.25, 7.5), (3.0, -2.0)]
    cases = [(d, a, b) for d in ("int16", "float32") for a, b in pairs]  # each arithmetic
    for x64 in (False, True):
        jax.config.update("jax_enable_x64", x64)
        for dtype, a, b in cases:
            x = _images(rng, dtype, (2, 4, 9, 3))
            if dtype == "float32" and convert_scale_abs_method(dtype, a, b) == "f64":
                x = np.concatenate([x.reshape(-1), _near_ties(rng, a, b, dtype, 30)])
                x = x.reshape(1, 1, -1, 1)
            got = np.asarray(convert_scale_abs(x, a, b))
            want = _cv(x, a, b)
            if x64 or convert_scale_abs_method(dtype, a, b) != "f64":
                assert (got == want).all(), (x64, dtype, a, b)
            else:  # float32 only: off by one on near-ties at most (documented)
                assert np.abs(got.astype(int) - want).max() <= 1, (dtype, a, b)
    # Filter2D's compiled float pass (tests/test_gabor.py on TensorFlow), here on JAX
    import fixedfilters as ff
    from fixedfilters.layers.filters import _merged_direct_applies
    k = cv2.getGaborKernel((7, 7), 2.0, 0.5, 6.0, 0.5, 0.0, ktype=cv2.CV_64F)
    tol = 1e-5 * np.abs(k).sum() * 255
    img = rng.uniform(0, 255, (2, 20, 24, 3)).astype(np.float32)
    assert _merged_direct_applies(img, k, "channels_last")
    for border, code in [("reflect_101", 4), ("reflect", 2), ("replicate", 1), ("constant", 0)]:
        got = np.asarray(ff.Gabor(7, 2.0, 0.5, 6.0, 0.5, 0.0, border=border)(img))
        want = np.stack([cv2.filter2D(im, cv2.CV_32F, k, borderType=code) for im in img])
        assert np.abs(got - want).max() <= tol, border
    first = np.ascontiguousarray(np.transpose(img, (0, 3, 1, 2)))
    got = np.asarray(ff.Gabor(7, 2.0, 0.5, 6.0, 0.5, 0.0, data_format="channels_first")(first))
    want = np.stack([cv2.filter2D(im, cv2.CV_32F, k) for im in img])
    assert np.abs(np.transpose(got, (0, 2, 3, 1)) - want).max() <= tol
    print("JAX-OK")
    """
)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="this run already is JAX")
def test_same_bytes_on_jax_with_and_without_x64():
    """ConvertScaleAbs on JAX (x64 off and on) and, in the same process, Filter2D's compiled
    float pass (Gabor 7x7, every border, channels first) against cv2."""
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", _JAX_SCRIPT, str(REPO)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and "JAX-OK" in proc.stdout, (proc.stdout + proc.stderr)[-3000:]
