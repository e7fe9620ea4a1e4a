"""BoxFilter / Blur / box_uint8 against cv2.boxFilter / cv2.blur; the NaN rule; validation."""

from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest
import tensorflow as tf

import fixedfilters as ff
import fixedfilters.layers.box as box_module
from cvref import CV_BORDER


def _cv(fn, x, *args, **kw):
    return np.stack([np.atleast_3d(fn(np.ascontiguousarray(im), *args, **kw)) for im in x])


@pytest.mark.parametrize("ksize", [1, 2, (4, 2), (1, 9), 31, (64, 3)])
def test_uint8_bytes_equal_cv2(ksize, rng):
    """Areas <= 256 (OpenCV's fixed-point divide) and > 256 (float32 product, rounded)."""
    kw, kh = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    for (h, w), border, anchor in [
        ((1, 1), "reflect_101", None),
        ((9, 70), "constant", (0, kh - 1)),
        ((40, 37), "replicate", (-1, 0)),
    ]:
        x = rng.integers(0, 256, (2, h, w, 3)).astype(np.uint8)
        for normalize in (True, False):
            got = np.asarray(
                ff.box_uint8(x, ksize, normalize=normalize, anchor=anchor, border=border)
            )
            want = _cv(
                cv2.boxFilter,
                x,
                -1,
                (kw, kh),
                anchor=anchor or (-1, -1),
                normalize=normalize,
                borderType=CV_BORDER[border],
            )
            np.testing.assert_array_equal(got, want, err_msg=f"{(h, w)} {border} {normalize}")
    blurred = _cv(cv2.blur, x, (kw, kh))
    np.testing.assert_array_equal(np.asarray(ff.box_uint8(x, ksize)), blurred)


def test_large_boxes_on_a_large_image(rng):
    """31x31 and 64x17 boxes on 256x256 (the XLA windowed-sum path) within the registry
    tolerance of cv2's double-precision running sums."""
    x = rng.uniform(0, 255, (1, 256, 256, 2)).astype(np.float32)
    for ksize, normalize in [(31, True), ((64, 17), False), ((2, 2), True)]:
        kw, kh = ksize if isinstance(ksize, tuple) else (ksize, ksize)
        got = np.asarray(ff.BoxFilter(ksize, normalize=normalize)(x))
        want = _cv(cv2.boxFilter, x, cv2.CV_32F, (kw, kh), normalize=normalize)
        tapsum = 1.0 if normalize else kw * kh
        assert np.max(np.abs(got - want)) <= 1e-5 * tapsum * 255


def test_nan_stays_in_the_windows_that_hold_it():
    """cv2's running sums spread a NaN past its windows; ours is NaN exactly where a window
    holds a non-finite pixel (cv2 counts those windows: a box sum of the indicator), and
    elsewhere equals cv2 on the image with the bad pixels set to 0... within tolerance."""
    x = np.zeros((1, 40, 40, 1), np.float32)
    x[0, 10, 12, 0], x[0, 25, 30, 0], x[0, 30, 5, 0] = np.nan, np.inf, -np.inf
    for layer, k in [
        (ff.BoxFilter(3), (3, 3)),
        (ff.Blur((7, 4)), (7, 4)),
        (ff.BoxFilter(31), (31, 31)),
    ]:
        got = np.asarray(layer(x))[0, :, :, 0]
        bad = (~np.isfinite(x[0, :, :, 0])).astype(np.float32)
        touched = cv2.boxFilter(bad, cv2.CV_32F, k, normalize=False) > 0.5
        assert np.all(~np.isfinite(got[touched])) and np.all(np.isfinite(got[~touched]))
        clean = np.where(np.isfinite(x), x, 0)[0, :, :, 0]
        want = cv2.boxFilter(clean, cv2.CV_32F, k)
        assert np.max(np.abs(got[~touched] - want[~touched])) <= 1e-5


def test_dynamic_sizes_equal_eager_and_cv2(rng):
    layer = ff.BoxFilter((5, 3), normalize=False, border="wrap")
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2))])
    for h, w in [(1, 1), (6, 9), (40, 33)]:
        x = rng.uniform(-50, 255, (1, h, w, 2)).astype(np.float32)
        got = fn(x).numpy()
        np.testing.assert_array_equal(got, np.asarray(layer(x)))  # built dynamic: one path
        padded = np.pad(x[0], ((1 + 5, 1 + 5), (2 + 5, 2 + 5), (0, 0)), mode="wrap")
        want = cv2.boxFilter(padded, cv2.CV_32F, (5, 3), normalize=False)[6 : 6 + h, 7 : 7 + w]
        assert np.max(np.abs(got[0] - want)) <= 1e-5 * 15 * 255


def test_blur_and_weights():
    blur = ff.Blur((3, 2))
    assert blur.get_config()["ksize"] == [3, 2] and "normalize" not in blur.get_config()
    blur.build((None, 8, 8, 1))
    assert [w.shape for w in blur.weights] == [(1, 3), (1, 2)]
    np.testing.assert_array_equal(blur.kernel2d(), np.full((2, 3), 1 / 6))
    np.testing.assert_array_equal(ff.kernels.box((3, 2)), np.full((2, 3), 1 / 6))
    assert ff.BoxFilter(4, anchor=(-1, 0)).anchor == (2, 0)


def test_validation_messages():
    with pytest.raises(ValueError, match=r"ksize must be.*Received: ksize=0"):
        ff.BoxFilter(0)
    with pytest.raises(TypeError, match=r"ksize must be"):
        ff.BoxFilter(2.5)
    with pytest.raises(ValueError, match=r"anchor.*Received: anchor=\(3, 0\)"):
        ff.BoxFilter(3, anchor=(3, 0))
    with pytest.raises(TypeError, match="normalize must be a bool"):
        ff.BoxFilter(3, normalize="yes")
    with pytest.raises(TypeError, match="uint8"):
        ff.box_uint8(np.zeros((1, 4, 4, 1), np.float32), 3)
    with pytest.raises(ValueError, match="2\\*\\*24"):
        ff.box_uint8(np.zeros((1, 4, 4, 1), np.uint8), 300)


def test_docstring_examples():
    result = doctest.testmod(box_module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("ksize, normalize", [(3, True), ((5, 3), True), (17, True), (3, False)])
def test_output_dtype_uint8_is_opencvs_bytes(ksize, normalize):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (2, 19, 23, 3)).astype(np.uint8)
    got = np.asarray(ff.BoxFilter(ksize, normalize=normalize, output_dtype="uint8")(x))
    assert got.dtype == np.uint8
    size = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    want = np.stack([cv2.boxFilter(im, -1, size, normalize=normalize) for im in x])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "border, size, ksize, anchor",
    [
        ("reflect", (50, 45), (37, 18), (3, 17)),
        ("constant", (20, 21), (33, 40), None),
        ("wrap", (40, 30), (17, 20), (16, 0)),
    ],
)
def test_long_windows_borders_anchors_small_sizes(border, size, ksize, anchor, rng):
    """Windows longer than DIRECT_MAX (the two-pass sums), off-centre anchors, an image smaller
    than the box, a constant border value, channels first and uint8, against cv2 on the image
    padded by cv2.copyMakeBorder (wrap: numpy.pad)."""
    assert box_module.DIRECT_MAX < 17
    value = 7.0 if border == "constant" else 0.0
    (h, w), (kw, kh) = size, ksize
    ax, ay = anchor or (kw // 2, kh // 2)
    x = rng.uniform(-50, 255, (1, h, w, 3)).astype(np.float32)
    layer = ff.BoxFilter(ksize, normalize=False, anchor=anchor, border=border, border_value=value)
    got = np.asarray(layer(x))[0]
    pads = ((ay, kh - 1 - ay), (ax, kw - 1 - ax), (0, 0))
    if border == "wrap":
        padded = np.pad(x[0], pads, mode="wrap")
    else:
        padded = cv2.copyMakeBorder(x[0], *pads[0], *pads[1], CV_BORDER[border], value=[value] * 3)
    want = cv2.boxFilter(padded, cv2.CV_32F, ksize, anchor=(0, 0), normalize=False)[:h, :w]
    tol = 1e-5 * kw * kh * 255
    assert np.max(np.abs(got - want)) <= tol
    if border == "wrap":
        first = ff.BoxFilter(
            ksize, normalize=False, anchor=anchor, border=border, data_format="channels_first"
        )
        got_cf = np.asarray(first(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))[0]
        assert np.max(np.abs(got_cf.transpose(1, 2, 0) - want)) <= tol
    else:
        bytes_in = rng.integers(0, 256, (1, h, w, 3)).astype(np.uint8)
        padded8 = cv2.copyMakeBorder(
            bytes_in[0], *pads[0], *pads[1], CV_BORDER[border], value=[int(value)] * 3
        )
        want8 = cv2.boxFilter(padded8, -1, ksize, anchor=(0, 0))[:h, :w]
        got8 = ff.box_uint8(bytes_in, ksize, anchor=anchor, border=border, border_value=int(value))
        np.testing.assert_array_equal(np.asarray(got8)[0], want8)


@pytest.mark.parametrize("ksize", [(2, 1), (1, 2)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_uint8_two_pixel_box_of_255s_is_opencvs_tail_byte(ksize, data_format):
    """cv2's 8-bit 2-pixel mean of two 255s is ((510 + 2) * 2**22) >> 23 = 256: saturated to
    255 in its vector loop, cast to 0 in its scalar tail (the last (W * C) % 16 values of a
    row). Mostly-255 images of widths with and without a tail, eager and traced with unknown
    sizes (the same layer, built on the first call's static shape)."""
    rng = np.random.default_rng(5)
    for shape in [(4, 8, 1), (5, 33, 1), (3, 70, 1), (4, 40, 3), (6, 7, 3)]:
        img = np.where(rng.random(shape) < 0.8, 255, rng.integers(0, 256, shape)).astype(np.uint8)
        want = cv2.blur(img, ksize, borderType=cv2.BORDER_REFLECT).reshape(shape)
        assert (want == 0).any() or shape[1] * shape[2] % 16 == 0
        layer = ff.Blur(ksize, border="reflect", output_dtype="uint8", data_format=data_format)
        x = img[None] if data_format == "channels_last" else img[None].transpose(0, 3, 1, 2)
        c = shape[2]
        sig = (None, None, None, c) if data_format == "channels_last" else (None, c, None, None)
        traced = tf.function(layer, input_signature=[tf.TensorSpec(sig, tf.uint8)])
        for out in (layer(x), traced(x)):
            got = np.asarray(out)[0]
            got = got if data_format == "channels_last" else got.transpose(1, 2, 0)
            np.testing.assert_array_equal(got, want, err_msg=f"{shape} {ksize}")
