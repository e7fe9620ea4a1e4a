"""Unit tests of fixedfilters.ops: index-map padding, both filter paths, gradients."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest
from keras import ops

import fixedfilters as ff
from fixedfilters import kernels
from fixedfilters import ops as fops
from fixedfilters.borders import BORDERS, NUMPY_PAD_MODES, pad_numpy

CV_BORDER = {"reflect_101": 4, "reflect": 2, "replicate": 1, "constant": 0}
METHODS = ("stencil", "conv")
TF = keras.backend.backend() == "tensorflow"


def _float64_honoured() -> bool:
    """JAX computes float64 inputs in float32 unless x64 is enabled."""
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _reference(x, terms, border, value=0.0, anchor=None, combine="sum"):
    """float64 NumPy reference of sep_filter on (B, H, W, C), via numpy-style padding."""
    kh, kw = len(terms[0][1]), len(terms[0][0])
    ax, ay = (kw // 2, kh // 2) if anchor is None else anchor
    h, w = x.shape[1:3]
    pads = ((0, 0), (ay, kh - 1 - ay), (ax, kw - 1 - ax), (0, 0))
    xp = pad_numpy(np.asarray(x, np.float64), pads, border, value)
    outs = []
    for kx, ky in terms:
        k2 = np.outer(ky, kx)
        out = np.zeros(x.shape)
        for i in range(kh):
            for j in range(kw):
                out += k2[i, j] * xp[:, i : i + h, j : j + w]
        outs.append(out)
    if combine == "magnitude":
        return np.sqrt(outs[0] ** 2 + outs[1] ** 2)
    return sum(outs)


def _stack(terms):
    kx = np.stack([t[0] for t in terms]).astype(np.float32)
    ky = np.stack([t[1] for t in terms]).astype(np.float32)
    return kx, ky


def _tol(terms, x):
    taps = sum(np.abs(np.outer(ky, kx)).sum() for kx, ky in terms)
    return 1e-5 * taps * max(1.0, float(np.max(np.abs(x))))


# -- pad_axis -----------------------------------------------------------------------------------
@pytest.mark.parametrize("border", BORDERS)
def test_pad_axis_matches_numpy_pad_for_tiny_axes_and_huge_pads(border):
    for n in (1, 2, 3, 5):
        x = np.arange(2 * n * 3, dtype=np.float32).reshape(2, n, 3) + 1
        for before, after in [(0, 1), (1, 0), (2, 2), (n + 3, 2 * n + 1), (7, 0)]:
            got = _np(fops.pad_axis(ops.convert_to_tensor(x), 1, before, after, border, 9.5))
            want = pad_numpy(x, ((0, 0), (before, after), (0, 0)), border, 9.5)
            np.testing.assert_array_equal(got, want, err_msg=f"{border} n={n} {before},{after}")
            if n > max(before, after) or border in ("wrap", "replicate", "constant"):
                kw = {"constant_values": 9.5} if border == "constant" else {}
                mode = NUMPY_PAD_MODES[border]
                np.testing.assert_array_equal(
                    got, np.pad(x, ((0, 0), (before, after), (0, 0)), mode=mode, **kw)
                )


@pytest.mark.skipif(not TF, reason="a graph with an unknown axis length is a TensorFlow idea")
@pytest.mark.parametrize("border", BORDERS)
def test_pad_axis_with_dynamic_length(border):
    import tensorflow as tf

    f = tf.function(
        lambda t: fops.pad_axis(t, 1, 3, 4, border, -2.0),
        input_signature=[tf.TensorSpec((1, None), tf.float32)],
    )
    for n in (1, 2, 6):
        x = np.arange(n, dtype=np.float32)[None] + 1
        want = pad_numpy(x, ((0, 0), (3, 4)), border, -2.0)
        np.testing.assert_array_equal(f(x).numpy(), want)


# -- the filter paths against OpenCV -------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("border", list(CV_BORDER))
def test_sep_correlate_matches_cv2_sepfilter2d(method, border, rng):
    for (kw, kh), anchor, (h, w) in [
        ((3, 5), None, (9, 11)),
        ((4, 1), (0, 0), (7, 6)),
        ((2, 6), (1, 5), (12, 5)),
        ((5, 3), (4, 1), (2, 3)),
    ]:
        kx = rng.standard_normal(kw).astype(np.float32)
        ky = rng.standard_normal(kh).astype(np.float32)
        x = (rng.standard_normal((2, h, w, 2)) * 20).astype(np.float32)
        got = _np(fops.sep_correlate(x, kx, ky, border=border, anchor=anchor, method=method))
        cv_anchor = (-1, -1) if anchor is None else anchor
        want = np.stack(
            [
                np.stack(
                    [
                        cv2.sepFilter2D(
                            x[b, :, :, c],
                            cv2.CV_32F,
                            kx,
                            ky,
                            anchor=cv_anchor,
                            borderType=CV_BORDER[border],
                        )
                        for c in range(2)
                    ],
                    -1,
                )
                for b in range(2)
            ]
        )
        np.testing.assert_allclose(got, want, atol=_tol([(kx, ky)], x), rtol=0)


@pytest.mark.parametrize("border", list(CV_BORDER))
def test_correlate2d_with_anchors_matches_cv2_filter2d(border, rng):
    for shape, anchor in [((3, 3), None), ((2, 4), (3, 0)), ((5, 2), (0, 4)), ((4, 4), (1, 2))]:
        k = rng.standard_normal(shape).astype(np.float32)
        x = (rng.standard_normal((1, 6, 9, 3)) * 10).astype(np.float32)
        got = _np(fops.correlate2d(x, k, border=border, anchor=anchor))
        cv_anchor = (-1, -1) if anchor is None else anchor
        want = np.stack(
            [
                cv2.filter2D(
                    x[0, :, :, c], cv2.CV_32F, k, anchor=cv_anchor, borderType=CV_BORDER[border]
                )
                for c in range(3)
            ],
            -1,
        )[None]
        np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(k).sum() * 30, rtol=0)


# -- the stencil path equals the conv path ------------------------------------------------------
FILTERS = {
    "sobel-dx-k3": ([kernels.sobel(1, 0, 3)], "sum"),
    "gauss-5x3": ([kernels.gaussian_blur_kernels((5, 3), 1.0, 0.7)], "sum"),
    "laplacian-k1": (kernels.laplacian_terms(1), "sum"),
    "laplacian-k5": (kernels.laplacian_terms(5), "sum"),
    "magnitude-k3": ([kernels.sobel(1, 0, 3), kernels.sobel(0, 1, 3)], "magnitude"),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_stencil_path_equals_conv_path_and_reference(name, rng):
    """Every border, a constant border value, tiny and odd sizes, both data formats.

    The stencil runs uncompiled here (the same ops XLA fuses; compiled below), so that this
    matrix stays cheap.
    """
    terms, combine = FILTERS[name]
    kx, ky = _stack(terms)
    for border in BORDERS:
        for h, w in [(1, 1), (2, 3), (6, 1), (4, 7), (13, 10)]:
            x = (rng.standard_normal((2, h, w, 3)) * 30).astype(np.float32)
            value = 7.5 if border == "constant" else 0.0
            want = _reference(x, terms, border, value, combine=combine)
            spec = (
                combine,
                border,
                value,
                (kx.shape[1] // 2, ky.shape[1] // 2),
                "channels_last",
                0.5,
                2.0,
            )
            stencil = _np(fops._stencil_filter(ops.convert_to_tensor(x), kx, ky, spec))
            conv = _np(fops._conv_filter(ops.convert_to_tensor(x), kx, ky, spec))
            tol = _tol(terms, x)
            np.testing.assert_allclose(stencil, 0.5 * want + 2.0, atol=tol, rtol=0)
            np.testing.assert_allclose(conv, 0.5 * want + 2.0, atol=tol, rtol=0)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("border", ["reflect_101", "constant", "wrap"])
def test_compiled_stencil_matches_conv_path(border, data_format, rng):
    terms, combine = FILTERS["laplacian-k5"]
    kx, ky = _stack(terms)
    x = (rng.standard_normal((2, 17, 40, 3)) * 30).astype(np.float32)
    xin = x if data_format == "channels_last" else np.transpose(x, (0, 3, 1, 2))
    kwargs = dict(border=border, border_value=-3.0, anchor=(1, 3), data_format=data_format)
    got = {m: _np(fops.sep_filter(xin, kx, ky, method=m, **kwargs)) for m in METHODS}
    if data_format == "channels_first":
        got = {m: np.transpose(v, (0, 2, 3, 1)) for m, v in got.items()}
    want = _reference(x, terms, border, -3.0, anchor=(1, 3))
    for m in METHODS:
        np.testing.assert_allclose(got[m], want, atol=_tol(terms, x), rtol=0, err_msg=m)


def test_filter_method_picks_stencil_for_static_images_above_the_threshold():
    small = np.zeros((1, 8, 8, 3), np.float32)
    large = np.zeros((1, 64, 64, 1), np.float32)
    assert fops.filter_method(small) == "conv"
    assert fops.filter_method(large) == "stencil"
    assert fops.filter_method(np.zeros((1, 1, 64, 64), np.float32), "channels_first") == "stencil"


@pytest.mark.parametrize(
    "layer",
    [ff.Sobel(1, 0, 3), ff.Laplacian(1), ff.GaussianBlur(15, 3.0), ff.SobelMagnitude(3)],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_on_the_stencil_path_match_cv2(layer, rng):
    x = rng.uniform(0, 255, (2, 48, 37, 3)).astype(np.float32)
    assert fops.filter_method(x) == "stencil"
    got = _np(layer(x))
    cvs = {
        "Sobel": lambda p: cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3),
        "Laplacian": lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=1),
        "GaussianBlur": lambda p: cv2.GaussianBlur(p, (15, 15), 3.0),
        "SobelMagnitude": lambda p: cv2.magnitude(
            cv2.Sobel(p, cv2.CV_32F, 1, 0), cv2.Sobel(p, cv2.CV_32F, 0, 1)
        ),
    }
    cv = cvs[type(layer).__name__]
    want = np.stack([np.stack([cv(x[b, :, :, c]) for c in range(3)], -1) for b in range(2)])
    assert np.max(np.abs(got - want)) <= 1e-5 * 32 * 255


@pytest.mark.skipif(not TF, reason="tf.function and tf.data are TensorFlow's")
def test_stencil_path_same_in_and_out_of_tf_function_and_in_tf_data(rng):
    import tensorflow as tf

    layer = ff.SobelMagnitude(3, border="replicate")
    x = rng.uniform(0, 255, (2, 40, 33, 3)).astype(np.float32)
    eager = np.asarray(layer(x))
    np.testing.assert_array_equal(tf.function(layer)(tf.constant(x)).numpy(), eager)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(layer)
    np.testing.assert_allclose(next(iter(ds)).numpy(), eager, rtol=1e-6, atol=1e-3)


def test_mixed_precision_policy_computes_in_float32_on_the_stencil_path(rng):
    layer = ff.GaussianBlur(7, dtype="mixed_float16")
    x = rng.uniform(0, 255, (1, 40, 40, 1)).astype(np.float32)
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    want = cv2.GaussianBlur(x[0, :, :, 0], (7, 7), 0)
    assert np.max(np.abs(_np(out)[0, :, :, 0] - want)) <= 1e-5 * 255


# -- gradients with respect to the input --------------------------------------------------------
def _grad(fn, x, w):
    """d/dx sum(w * fn(x)), in float64."""
    if TF:
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = tf.reduce_sum(tf.constant(w) * fn(xt))
        return tape.gradient(y, xt).numpy()
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda t: jnp.sum(w * fn(t)))(jnp.asarray(x)))
    pytest.skip("gradient test written for the TensorFlow and JAX backends")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("border", BORDERS)
def test_input_gradient_is_the_adjoint_correlation(method, border, rng):
    """For a linear filter y = A x, d sum(w * y) / dx = A^T w; A built from the reference."""
    terms = kernels.laplacian_terms(3) if border != "wrap" else [kernels.sobel(1, 1, 3)]
    kx, ky = _stack(terms)
    kx, ky = kx.astype(np.float64), ky.astype(np.float64)
    for h, w in [(5, 6), (2, 1)]:
        n = h * w
        basis = np.eye(n).reshape(n, h, w, 1)
        # constant border: the affine part (border_value) does not change the gradient
        a = _reference(basis, terms, border, 4.0).reshape(n, n) - _reference(
            np.zeros((1, h, w, 1)), terms, border, 4.0
        ).reshape(1, n)
        wts = rng.standard_normal((1, h, w, 1))
        x = rng.standard_normal((1, h, w, 1))

        def fn(t, border=border):
            return fops.sep_filter(t, kx, ky, border=border, border_value=4.0, method=method)

        got = _grad(fn, x, wts)
        want = (a @ wts.reshape(n)).reshape(1, h, w, 1)  # rows of a are A's columns
        tol = 1e-10 if _float64_honoured() else 1e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("method", METHODS)
def test_magnitude_gradient_is_finite_and_matches_finite_differences(method, rng):
    kx, ky = _stack(FILTERS["magnitude-k3"][0])
    kx, ky = kx.astype(np.float64), ky.astype(np.float64)

    def fn(t):
        return fops.sep_filter(t, kx, ky, combine="magnitude", method=method)

    flat = np.ones((1, 5, 5, 1))
    g = _grad(fn, flat, np.ones_like(flat))
    assert np.all(np.isfinite(g)) and np.all(g == 0)
    x = rng.standard_normal((1, 5, 6, 1))
    wts = rng.standard_normal(x.shape)
    got = _grad(fn, x, wts)
    eps, tol = (1e-6, 1e-5) if _float64_honoured() else (1e-2, 2e-2)
    # central differences, every perturbed image in one batch (one call, not 2 per pixel)
    n = x.size
    steps = (np.eye(n) * eps).reshape((n,) + x.shape[1:])
    plus, minus = _np(fn(x + steps)), _np(fn(x - steps))
    num = ((plus - minus) * wts).reshape(n, -1).sum(axis=1).reshape(x.shape) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=tol, atol=tol)


def test_a_layer_keeps_the_path_of_the_shape_it_was_built_with(rng):
    """Built with dynamic sizes (e.g. for export): every call, eager ones included, runs the
    conv path, so the exported graph and eager calls give the same bits."""
    inp = keras.Input((None, None, 3))
    layer = ff.SobelMagnitude(3)
    model = keras.Model(inp, layer(inp))
    x = rng.uniform(0, 255, (2, 40, 36, 3)).astype(np.float32)
    kx, ky = layer.get_weights()
    want = _np(fops.sep_filter(x, kx, ky, combine="magnitude", method="conv"))
    np.testing.assert_array_equal(_np(layer(x)), want)
    if TF:  # JAX's predict jits the whole step, so XLA may fuse (and round) differently
        np.testing.assert_array_equal(model.predict(x, verbose=0), want)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-6, atol=1e-3)
    static = ff.SobelMagnitude(3)
    static.build((None, 40, 36, 3))
    stencil = _np(fops.sep_filter(x, kx, ky, combine="magnitude", method="stencil"))
    np.testing.assert_array_equal(_np(static(x)), stencil)
    np.testing.assert_allclose(stencil, want, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("method", METHODS)
def test_sep_filter_bank_equals_the_filters_one_by_one(method, data_format, rng):
    filters = [
        (*_stack([kernels.sobel(1, 0, 3)]), {"border": "reflect"}),
        (*_stack(kernels.laplacian_terms(5)), {"scale": 0.5, "delta": 3.0}),
        (*_stack(FILTERS["magnitude-k3"][0]), {"combine": "magnitude", "border": "wrap"}),
        (
            *_stack([kernels.gaussian_blur_kernels(7, 0, 0)]),
            {"border": "constant", "anchor": (1, 5)},
        ),
    ]
    x = rng.uniform(0, 255, (2, 3, 21, 26)).astype(np.float32)
    if data_format == "channels_last":
        x = np.transpose(x, (0, 2, 3, 1))
    got = _np(fops.sep_filter_bank(x, filters, data_format=data_format, method=method))
    one_by_one = [
        _np(fops.sep_filter(x, kx, ky, data_format=data_format, method=method, **opts))
        for kx, ky, opts in filters
    ]
    want = np.concatenate(one_by_one, axis=-1 if data_format == "channels_last" else 1)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-3)
