"""kernels.gabor bit for bit against cv2.getGaborKernel; Gabor and gabor_bank."""

from __future__ import annotations

import doctest

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
import fixedfilters.layers.gabor as gabor_module
from fixedfilters import kernels


def test_kernel_is_bit_identical_to_cv2(rng):
    """A sweep of random parameter sets (sizes 0..41, 0 = from sigma): 0 ulp apart."""
    for _ in range(300):
        ksize = (int(rng.integers(0, 42)), int(rng.integers(0, 42)))
        args = (
            float(rng.uniform(0.3, 12)),
            float(rng.uniform(-4, 4)),
            float(rng.uniform(0.5, 40)),
            float(rng.uniform(0.2, 3)),
            float(rng.uniform(-4, 4)),
        )
        want = cv2.getGaborKernel(ksize, *args, ktype=cv2.CV_64F)
        got = kernels.gabor(ksize, *args)
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, want, err_msg=f"{ksize} {args}")
    # an int size, the default psi, and an even size (OpenCV grows it by one)
    np.testing.assert_array_equal(
        kernels.gabor(4, 2.0, 0.3, 5.0, 0.5), cv2.getGaborKernel((4, 4), 2.0, 0.3, 5.0, 0.5)
    )


def test_layer_matches_filter2d_all_borders(rng):
    x = rng.uniform(-50, 255, (2, 19, 23, 3)).astype(np.float32)
    k = cv2.getGaborKernel((7, 9), 2.0, 0.7, 6.0, 0.6, 0.2, ktype=cv2.CV_64F)
    for border, code in [("reflect_101", 4), ("reflect", 2), ("replicate", 1), ("constant", 0)]:
        got = np.asarray(ff.Gabor((7, 9), 2.0, 0.7, 6.0, 0.6, 0.2, border=border)(x))
        want = np.stack(
            [np.atleast_3d(cv2.filter2D(im, cv2.CV_32F, k, borderType=code)) for im in x]
        )
        assert np.max(np.abs(got - want)) <= 1e-5 * np.abs(k).sum() * 255


def test_bank_channel_order_and_serialization(rng):
    thetas, lambdas, psis = [0.0, np.pi / 3, 2.0], [4.0, 9.0], [0.0, np.pi / 2]
    bank = ff.gabor_bank(9, 2.5, thetas, lambdas, gamma=0.7, psis=psis, border="replicate")
    x = rng.uniform(0, 255, (1, 16, 17, 2)).astype(np.float32)
    out = np.asarray(bank(x))
    assert out.shape == (1, 16, 17, 12 * 2)
    for t, theta in enumerate(thetas):
        for li, lam in enumerate(lambdas):
            for p, psi in enumerate(psis):
                f = (t * len(lambdas) + li) * len(psis) + p
                assert bank.filters[f].name == f"gabor_bank_t{t}_l{li}_p{p}"
                k = cv2.getGaborKernel((9, 9), 2.5, theta, lam, 0.7, psi, ktype=cv2.CV_64F)
                for c in range(2):
                    want = cv2.filter2D(x[0, :, :, c], cv2.CV_32F, k, borderType=1)
                    err = np.max(np.abs(out[0, :, :, f * 2 + c] - want))
                    assert err <= 1e-5 * np.abs(k).sum() * 255
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(bank))
    np.testing.assert_array_equal(np.asarray(again(x)), out)
    assert bank.trainable_weights == [] and len(bank.weights) == 12


def test_validation_messages():
    with pytest.raises(ValueError, match=r"sigma must be a finite number > 0.*Received: sigma=0"):
        ff.Gabor(5, 0, 0.0, 4.0, 0.5)
    with pytest.raises(ValueError, match=r"lambd.*Received: lambd=-1"):
        ff.Gabor(5, 1.0, 0.0, -1, 0.5)
    with pytest.raises(ValueError, match=r"gamma.*Received: gamma=0"):
        ff.Gabor(5, 1.0, 0.0, 4.0, 0)
    with pytest.raises(ValueError, match=r"theta.*Received: theta=nan"):
        ff.Gabor(5, 1.0, float("nan"), 4.0, 0.5)
    with pytest.raises(ValueError, match=r"ksize.*Received: ksize=-3"):
        ff.Gabor(-3, 1.0, 0.0, 4.0, 0.5)
    with pytest.raises(ValueError, match="MAX_GABOR_KSIZE"):
        ff.Gabor(0, 500.0, 0.0, 4.0, 0.5)
    with pytest.raises(TypeError, match=r"thetas must be.*Received: thetas=\[\]"):
        ff.gabor_bank(5, 1.0, [], [4.0])


def test_docstring_examples():
    result = doctest.testmod(gabor_module)
    assert result.attempted > 0 and result.failed == 0
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for fn in (
        kernels.gabor,
        kernels.gabor_ksize,
        kernels.box,
        kernels.box_ksize,
        kernels.pyramid_kernel,
    ):
        for test in finder.find(fn, fn.__name__, globs={"np": np, **vars(kernels)}):
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


# -- Filter2D's compiled float pass (Gabor included): the merged (N, H, W * C) layout -----------
# Images of at least STENCIL_MIN_ELEMENTS values with static shapes take it; each case is one
# XLA compile, so the table covers every border, anchors, even and one-row/one-column kernels,
# images narrower or shorter than the kernel and 1/3/4 channels in a few calls.
MERGED_CASES = [
    # (kernel shape, anchor, border, border_value, (h, w, c))
    ((7, 7), None, "reflect_101", 0.0, (20, 24, 3)),
    ((7, 7), None, "constant", 7.5, (17, 30, 4)),
    ((5, 9), (8, 0), "wrap", 0.0, (23, 19, 3)),
    ((4, 6), (1, 3), "reflect", 0.0, (33, 40, 1)),
    ((1, 7), None, "replicate", 0.0, (9, 130, 1)),
    ((7, 1), (0, 6), "constant", -3.0, (40, 30, 1)),
    ((7, 7), None, "reflect", 0.0, (2, 300, 3)),  # fewer rows than the kernel
    ((5, 5), (0, 4), "wrap", 0.0, (400, 3, 1)),  # fewer columns than the kernel
    ((7, 7), None, "reflect_101", 0.0, (1, 1100, 1)),
]


@pytest.mark.parametrize("shape,anchor,border,value,hwc", MERGED_CASES)
def test_filter2d_compiled_pass_matches_cv2(shape, anchor, border, value, hwc, rng):
    from cvref import filter2d_case, reference, tolerance
    from fixedfilters.layers.filters import _merged_direct_applies
    from fixedfilters.ops import filter_method

    k = rng.uniform(-1, 1, shape)
    img = rng.uniform(-50, 255, (2,) + hwc).astype(np.float32)
    layer = ff.Filter2D(k, anchor=anchor, border=border, border_value=value)
    if keras.backend.backend() in ("tensorflow", "jax"):
        assert filter_method(img.shape) == "stencil"
        assert _merged_direct_applies(img, k, "channels_last")
    got = np.asarray(keras.ops.convert_to_numpy(layer(img)))
    case = filter2d_case(k, anchor=anchor)
    want = reference(case, img, border, value)
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    assert err <= tolerance(case, img), f"{shape} {anchor} {border} {hwc}: {err}"


def test_gabor_compiled_pass_channels_first_set_weights_and_gradient(rng):
    x = rng.uniform(0, 255, (2, 3, 24, 20)).astype(np.float32)
    k = cv2.getGaborKernel((7, 7), 2.0, 0.5, 6.0, 0.5, 0.0, ktype=cv2.CV_64F)
    layer = ff.Gabor(7, 2.0, 0.5, 6.0, 0.5, 0.0, data_format="channels_first")
    planes = x.reshape(-1, 24, 20)

    def want(kernel):
        return np.stack([cv2.filter2D(p, cv2.CV_32F, kernel) for p in planes]).reshape(x.shape)

    tol = 1e-5 * np.abs(k).sum() * 255
    assert np.max(np.abs(np.asarray(keras.ops.convert_to_numpy(layer(x))) - want(k))) <= tol
    # the taps applied are the weights: set_weights changes the output
    k2 = np.float32(rng.uniform(-1, 1, (7, 7)))
    layer.set_weights([k2])
    got = np.asarray(keras.ops.convert_to_numpy(layer(x)))
    assert np.max(np.abs(got - want(k2))) <= 1e-5 * np.abs(k2).sum() * 255
    # gradients flow to the input (through the barrier too): the compiled pass's gradient
    # equals the uncompiled padded-convolution path's (a 3x5 kernel: the backward pass of 49
    # slices costs a long XLA compile, and the structure is the same)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    from fixedfilters.ops import correlate2d

    k3 = np.float32(rng.uniform(-1, 1, (3, 5)))
    small = ff.Filter2D(k3, anchor=(1, 2), border="wrap", data_format="channels_first")
    y = tf.constant(rng.standard_normal(x.shape).astype(np.float32))
    xt = tf.constant(x)
    grads = []
    for fn in (
        small,
        lambda t: correlate2d(
            t, k3, anchor=(1, 2), border="wrap", data_format="channels_first", method="conv"
        ),
    ):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = fn(xt)
        grads.append(tape.gradient(out, xt, output_gradients=y).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-3)


# -- integer outputs: OpenCV's bytes below FILTER2D_DFT_MIN_TAPS, within the documented bound
# from there on (cv2.filter2D correlates uint8 images in the Fourier domain) ------------------
def _cv_filter2d(img, ddepth, k, delta=0.0):
    return np.stack(
        [
            cv2.filter2D(np.ascontiguousarray(im), ddepth, np.float32(k), delta=delta).reshape(
                im.shape
            )
            for im in img
        ]
    )


CV_DEPTH = {"uint8": cv2.CV_8U, "int16": cv2.CV_16S, "uint16": cv2.CV_16U}


@pytest.mark.parametrize("shape", [(7, 7), (1, 49), (49, 1)])
def test_uint8_below_the_dft_threshold_is_opencvs_bytes(shape, rng):
    """Dyadic taps make exact .5 ties common: OpenCV's direct sum rounds them half to even, a
    DFT would not; the layer must give OpenCV's bytes (49 taps, the largest direct size)."""
    from cvref import assert_same_bytes
    from fixedfilters.exact import FILTER2D_DFT_MIN_TAPS

    assert shape[0] * shape[1] == FILTER2D_DFT_MIN_TAPS - 1
    k = rng.integers(-3, 4, shape) / 32.0
    img = rng.integers(0, 40, (2, 23, 61, 1)).astype(np.uint8)
    for out in ("uint8", "int16", "uint16"):
        got = ff.Filter2D(k, output_dtype=out)(img)
        assert_same_bytes(got, _cv_filter2d(img, CV_DEPTH[out], k), f"{shape} {out}")


def test_dft_threshold_is_where_cv2_leaves_the_direct_sum(rng):
    """The constant is cv2's behaviour: with dyadic taps (ties) a 1x50 kernel's cv2 bytes
    differ from the exactly rounded correlation, a 1x49 kernel's do not."""
    from fixedfilters.exact import FILTER2D_DFT_MIN_TAPS

    img = rng.integers(0, 40, (40, 150)).astype(np.uint8)
    differs = []
    for n in (FILTER2D_DFT_MIN_TAPS - 1, FILTER2D_DFT_MIN_TAPS):
        k = (rng.integers(-3, 4, (1, n)) / 32.0).astype(np.float32)
        exact = cv2.filter2D(img.astype(np.float64), cv2.CV_64F, k.astype(np.float64))
        want = np.clip(np.rint(exact), 0, 255)
        differs.append(int((cv2.filter2D(img, cv2.CV_8U, k) != want).sum()))
    assert differs[0] == 0 and differs[1] > 0, differs


def _photo_batch():
    skdata = pytest.importorskip("skimage.data")
    img = skdata.astronaut()[::2, ::2]  # 256x256x3
    return img[None]


@pytest.mark.parametrize(
    "ksize,theta,out,bound",
    [(9, 0.7, "uint16", 0.0001), (13, 1.9, "int16", 0.0005), (21, 0.7, "uint8", 0.0005)],
)
def test_gabor_dft_sizes_within_the_documented_bound(ksize, theta, out, bound):
    """From 50 taps on a uint8 image: at most 1 apart from cv2, on a small share of values
    (the docstrings' numbers: at most 0.18% for 31x31; these sizes stay well below)."""
    img = _photo_batch()
    layer = ff.Gabor(ksize, ksize / 5.0, theta, ksize / 2.0, 0.5, 0.0, output_dtype=out)
    got = np.asarray(keras.ops.convert_to_numpy(layer(img)))
    want = _cv_filter2d(img, CV_DEPTH[out], layer.kernel2d())
    assert got.dtype == want.dtype
    diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
    assert diff.max() <= 1
    assert (diff > 0).mean() <= bound, (diff > 0).mean()
