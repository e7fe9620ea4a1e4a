"""fixedfilters.initializers: the same taps in a plain (trainable) Conv2D / DepthwiseConv2D."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest

from fixedfilters import initializers as ffi
from fixedfilters import kernels


def _interior(a, r):
    return a[:, r:-r, r:-r, :]


@pytest.mark.parametrize(
    "init, cv, k",
    [
        (ffi.Sobel(1, 0, 3), lambda p: cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3), 3),
        (ffi.Scharr(0, 1), lambda p: cv2.Scharr(p, cv2.CV_32F, 0, 1), 3),
        (ffi.Laplacian(5), lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=5), 5),
        (
            ffi.Gaussian((5, 3), 1.0, 0.6),
            lambda p: cv2.GaussianBlur(p, (5, 3), 1.0, sigmaY=0.6),
            None,
        ),
        (ffi.Kernel([[1, 2], [3, 4.5]]), None, 2),
    ],
)
def test_conv2d_diagonal_and_broadcast_layouts_match_cv2(init, cv, k, rng):
    kernel = init.kernel2d()
    ks = kernel.shape
    x = rng.uniform(0, 255, (1, 20, 21, 3)).astype(np.float32)
    if cv is None:
        cv = lambda p: cv2.filter2D(p, cv2.CV_32F, kernel.astype(np.float32))  # noqa: E731
    for cin, cout in [(3, 3), (1, 4)]:
        conv = keras.layers.Conv2D(
            cout, ks, padding="valid", use_bias=False, kernel_initializer=init
        )
        xin = x[..., :cin]
        got = np.asarray(conv(xin))
        want = np.stack([cv(xin[0, :, :, c if cin > 1 else 0]) for c in range(cout)], -1)[None]
        ry, rx = ks[0] // 2, ks[1] // 2
        want = want[:, ry : ry + got.shape[1], rx : rx + got.shape[2], :]
        assert conv.trainable_weights  # a plain conv: it will train
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(kernel).sum() * 255)


def test_depthwise_layout(rng):
    init = ffi.Gaussian(5, depthwise=True)
    dw = keras.layers.DepthwiseConv2D(
        5, padding="valid", use_bias=False, depthwise_initializer=init
    )
    x = rng.uniform(0, 1, (1, 12, 12, 3)).astype(np.float32)
    got = np.asarray(dw(x))
    g = kernels.gaussian(5, 0)
    for c in range(3):
        want = cv2.sepFilter2D(x[0, :, :, c], cv2.CV_32F, g, g)[2:-2, 2:-2]
        np.testing.assert_allclose(got[0, :, :, c], want, atol=1e-6)


def test_bad_layout_and_size_errors():
    with pytest.raises(ValueError, match="input channels == output channels"):
        ffi.Sobel()((3, 3, 3, 2))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        ffi.Sobel()((5, 5, 1, 1))
    with pytest.raises(TypeError, match="depthwise"):
        ffi.Sobel(depthwise="yes")


def test_initializer_config_round_trip():
    for init in [
        ffi.Sobel(0, 1, 5),
        ffi.Scharr(1, 0),
        ffi.Laplacian(3),
        ffi.Gaussian((3, 5), 0.8, 1.1),
        ffi.Kernel([[0, 1], [2, 3]], depthwise=True),
    ]:
        ser = keras.saving.serialize_keras_object(init)
        again = keras.saving.deserialize_keras_object(ser)
        np.testing.assert_array_equal(again.kernel2d(), init.kernel2d())
        assert again.get_config() == init.get_config()
