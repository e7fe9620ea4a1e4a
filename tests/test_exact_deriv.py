"""Sobel / Scharr / Laplacian integer outputs equal cv2's bytes for any scale and delta.

OpenCV folds ``scale`` into a float32 tap and sums in float32 in its own order (FMA in the
vector body, GCC-contracted and plain scalar tails), hands one-channel images to IPP (the
integer derivative saturated to int16, then a float32 fma), and takes an int32 path for
uint8 -> int16 with integer taps (adding ``cvRound(delta)``). ``fixedfilters.exact``
reproduces each; every reference here is cv2 itself, compared by equality.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import fixedfilters as ff
from cvref import CV_BORDER, CV_DEPTH, assert_same_bytes, cv_batch

RANGE = {"uint8": (0, 256), "uint16": (0, 65536), "int16": (-32768, 32768)}
# (input dtype, output dtype): what cv2.Sobel accepts for 8/16-bit inputs and integer ddepths
DTYPES = [
    ("uint8", "int16"),
    ("uint8", "uint8"),
    ("uint8", "uint16"),
    ("uint16", "int16"),
    ("uint16", "uint16"),
    ("uint16", "uint8"),
    ("int16", "int16"),
    ("int16", "uint8"),
    ("int16", "uint16"),
]
SCALE_DELTA = [
    (1.0, 0.0),
    (0.1, 0.0),
    (0.25, 0.5),
    (1 / 3, 3.25),
    (2.5, -7.0),
    (-0.7, 0.5),
    (1.0, 3.25),
    (0.1, -7.0),
    (1.0, 0.5),
]
SIZES = [(1, 1), (1, 6), (5, 1), (2, 3), (3, 70), (13, 37), (9, 21)]
ORDERS = [
    (1, 0, 1),
    (0, 1, 1),
    (1, 0, 3),
    (0, 1, 3),
    (1, 1, 3),
    (2, 0, 3),
    (0, 2, 3),
    (1, 0, 5),
    (0, 1, 5),
    (0, 2, 5),
    (2, 1, 5),
    (3, 0, 7),
    (0, 1, 7),
    (1, 0, -1),
    (0, 1, -1),
]


def _image(rng, shape, dtype, full=True):
    lo, hi = RANGE[dtype]
    if not full:  # values a 16-bit image often holds: small, derivatives inside int16
        lo, hi = (lo // 64, hi // 64) if dtype != "uint8" else (lo, hi)
    return rng.integers(lo, hi, size=shape).astype(dtype)


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "dxdyk{}{}{}".format(*o))
def test_sobel_scharr_equal_opencv(order, rng):
    """Every (input, output) dtype pair once per order; borders, channels (1, 3, 4), sizes
    (1x1 to 13x37, smaller than the kernel included), scale/delta cycle through the list."""
    dx, dy, ksize = order
    k = ORDERS.index(order)
    for i, (src, dst) in enumerate(DTYPES):
        border = list(CV_BORDER)[(i + k) % 4]
        channels = (1, 3, 4)[(i + k) % 3]
        h, w = SIZES[(i + 2 * k) % len(SIZES)]
        scale, delta = SCALE_DELTA[(i + k) % len(SCALE_DELTA)]
        img = _image(rng, (2, h, w, channels), src, full=(i + k) % 2 == 0)
        if ksize == -1:
            layer = ff.Scharr(dx, dy, scale=scale, delta=delta, border=border, output_dtype=dst)
        else:
            layer = ff.Sobel(
                dx, dy, ksize, scale=scale, delta=delta, border=border, output_dtype=dst
            )
        want = cv_batch(
            img=img,
            fn=lambda p, dst=dst, border=border, scale=scale, delta=delta: cv2.Sobel(
                p, CV_DEPTH[dst], dx, dy, ksize=ksize, scale=scale, delta=delta,
                borderType=CV_BORDER[border],
            ),
        )  # fmt: skip
        assert_same_bytes(layer(img), want, f"{src}->{dst} {border} {img.shape} {scale} {delta}")


@pytest.mark.parametrize("channels", [1, 3])
def test_sobel_ties_and_saturation(channels, rng):
    """Values exactly at .5 after scaling (float32(0.1) * 5 rounds to 0.5; 0.25 * 2),
    int16 inputs whose raw derivative leaves int16 (IPP saturates it before scaling on one
    channel), and an int32-path delta (0.5 -> cvRound(0.5) = 0 added for scale 1)."""
    img = rng.integers(0, 4, size=(1, 16, 45, channels)).astype("uint8")
    for dx, dy, scale, delta in [(1, 0, 0.1, 0.0), (0, 1, 0.25, 0.0), (0, 1, 1.0, 0.5)]:
        raw = cv2.Sobel(img[0], cv2.CV_64F, dx, dy, ksize=3).reshape(img.shape[1:])
        assert np.any((np.float32(raw * np.float32(scale)) + delta) % 1 == 0.5)  # ties present
        got = ff.Sobel(dx, dy, 3, scale=scale, delta=delta, output_dtype="int16")(img)
        want = cv_batch(
            img=img,
            fn=lambda p, a=dx, b=dy, s=scale, d=delta: cv2.Sobel(
                p, cv2.CV_16S, a, b, ksize=3, scale=s, delta=d
            ),
        )
        assert_same_bytes(got, want, f"ties {dx}{dy} {scale} {delta} c={channels}")
    big = _image(rng, (1, 12, 19, channels), "int16")
    for order in [(0, 1, 3), (0, 1, 5), (1, 0, 3)]:
        got = ff.Sobel(*order, scale=0.1, delta=0.3, output_dtype="int16")(big)
        want = cv_batch(
            img=big,
            fn=lambda p, o=order: cv2.Sobel(p, -1, o[0], o[1], ksize=o[2], scale=0.1, delta=0.3),
        )
        assert_same_bytes(got, want, f"int16 saturation {order} c={channels}")


def test_sobel_on_photographs_with_non_dyadic_scale():
    import skimage.data

    astronaut = skimage.data.astronaut()[None]  # 3 channels: OpenCV's float32 passes
    want = cv2.Sobel(astronaut[0], cv2.CV_16S, 0, 1, ksize=3, scale=0.1, delta=0.3)[None]
    got = ff.Sobel(0, 1, 3, scale=0.1, delta=0.3, output_dtype="int16")(astronaut)
    assert_same_bytes(got, want, "astronaut")
    # the float result rounded is not OpenCV's (so this test can fail)
    rounded = np.rint(np.asarray(ff.Sobel(0, 1, 3, scale=0.1, delta=0.3)(astronaut * 1.0)))
    assert np.mean(rounded != want) > 0.01
    camera = skimage.data.camera()[None, :, :, None]  # 1 channel: OpenCV's IPP path
    want = cv2.Sobel(camera[0, :, :, 0], cv2.CV_16S, 1, 0, ksize=5, scale=1 / 3, delta=-7)
    got = ff.Sobel(1, 0, 5, scale=1 / 3, delta=-7, output_dtype="int16")(camera)
    assert_same_bytes(got, want[None, :, :, None], "camera")


@pytest.mark.parametrize("ksize", [1, 3, 5, 7, 9])
def test_laplacian_equal_opencv(ksize, rng):
    pairs = [("uint8", "int16"), ("uint8", "uint8"), ("uint16", "uint16"), ("int16", "int16")]
    if ksize > 3:
        pairs += [("uint16", "int16"), ("int16", "uint8"), ("uint8", "uint16")]
    for i, (src, dst) in enumerate(pairs):
        border = list(CV_BORDER)[(i + ksize) % 4]
        scale, delta = SCALE_DELTA[(i + ksize) % len(SCALE_DELTA)]
        h, w = SIZES[(i + ksize) % len(SIZES)]
        img = _image(rng, (1, h, w, (1, 3, 4)[i % 3]), src, full=i % 2 == 0)
        layer = ff.Laplacian(ksize, scale=scale, delta=delta, border=border, output_dtype=dst)
        want = cv_batch(
            img=img,
            fn=lambda p, dst=dst, border=border, scale=scale, delta=delta: cv2.Laplacian(
                p, CV_DEPTH[dst], ksize=ksize, scale=scale, delta=delta,
                borderType=CV_BORDER[border],
            ),
        )  # fmt: skip
        assert_same_bytes(layer(img), want, f"{src}->{dst} {border} {img.shape} {scale} {delta}")


def test_sobel_with_scale_in_a_graph_with_dynamic_size(rng):
    import tensorflow as tf

    layer = ff.Sobel(0, 1, 3, scale=0.1, delta=0.3, output_dtype="int16")
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)])
    for h, w in [(7, 41), (20, 9)]:  # different tails (W * 3 % 8, % 4) in one graph
        img = _image(rng, (2, h, w, 3), "uint8")
        want = cv_batch(
            lambda p: cv2.Sobel(p, cv2.CV_16S, 0, 1, ksize=3, scale=0.1, delta=0.3), img
        )
        assert_same_bytes(fn(tf.constant(img)).numpy(), want, f"tf.function {img.shape}")
