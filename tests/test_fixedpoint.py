"""fixedfilters.fixedpoint against cv2.GaussianBlur on uint8 and uint16 images, by equality."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest

from cvref import CV_BORDER
from fixedfilters import fixedpoint as fp
from fixedfilters import kernels

BORDERS = (*CV_BORDER, "wrap")
DEPTHS = ("uint8", "uint16")
TOP = {"uint8": 255, "uint16": 65535}
KSIZES = (1, 3, 5, 7, 9, 11, 15, 21, 31, (3, 5), (7, 1), (1, 9), (5, 31))
SIGMAS = (0.0, 0.3, 0.8, 1.0, 1.5, 2.7, 5.0)
SIZES = ((1, 1), (1, 7), (6, 1), (2, 3), (5, 4), (17, 23))


def _pair(ksize):
    return ksize if isinstance(ksize, tuple) else (ksize, ksize)


def cv_blur(batch, ksize, sigma_x, sigma_y=0.0, border="reflect_101", border_value=0):
    """cv2.GaussianBlur on each whole HWC image of a (B, H, W, C) batch.

    "wrap" and a non-zero constant are padded with NumPy / cv2.copyMakeBorder by the kernel
    radius, blurred by cv2 and cropped (the centre only reads the padding).
    """
    kw, kh = fp.integer_gaussian_ksize(ksize, sigma_x, sigma_y, batch.dtype.name)
    outs = []
    for img in batch:
        plane = img[..., 0] if img.shape[-1] == 1 else img
        if border == "wrap" or (border == "constant" and border_value != 0):
            pads = ((kh // 2, kh // 2), (kw // 2, kw // 2)) + ((0, 0),) * (plane.ndim - 2)
            if border == "wrap":
                padded = np.pad(plane, pads, mode="wrap")
            else:
                padded = cv2.copyMakeBorder(
                    plane,
                    kh // 2,
                    kh // 2,
                    kw // 2,
                    kw // 2,
                    cv2.BORDER_CONSTANT,
                    value=(border_value,) * 4,
                )
            out = cv2.GaussianBlur(padded, (kw, kh), sigma_x, sigmaY=sigma_y)
            out = out[kh // 2 : kh // 2 + img.shape[0], kw // 2 : kw // 2 + img.shape[1]]
        else:
            out = cv2.GaussianBlur(
                plane, (kw, kh), sigma_x, sigmaY=sigma_y, borderType=CV_BORDER[border]
            )
        outs.append(out.reshape(img.shape))
    return np.stack(outs)


def ours(batch, ksize, sigma_x, sigma_y=0.0, **kw):
    depth = batch.dtype.name
    kx, ky = fp.integer_gaussian_kernels(ksize, sigma_x, sigma_y, depth)
    # float32 weights, as a layer holds them, with the float64 reference taps
    out = fp.gaussian_blur_fixed(
        batch,
        kx.astype(np.float32),
        ky.astype(np.float32),
        depth=depth,
        reference=(kx, ky),
        **kw,
    )
    return keras.ops.convert_to_numpy(out)


def _noise(rng, shape, depth):
    return rng.integers(0, TOP[depth] + 1, shape).astype(depth)


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("border", BORDERS)
def test_matches_cv2_sweep(rng, depth, border):
    """Every border x sizes from 1x1 x a rotating choice of ksize, sigma and 1..4 channels."""
    n = 0
    for s, (h, w) in enumerate(SIZES):
        for i, ksize in enumerate(KSIZES):
            if (i + s) % 3:
                continue
            sigma = SIGMAS[(i + 2 * s) % len(SIGMAS)]
            c = 1 + (i + s) % (2 if h * w > 200 else 4)  # stays on the uncompiled path
            x = _noise(rng, (2, h, w, c), depth)
            x[0, : max(1, h // 3)] = TOP[depth]  # a saturated band: the top of the range
            got = ours(x, ksize, sigma, border=border)
            want = cv_blur(x, ksize, sigma, border=border)
            assert got.dtype == np.dtype(depth)
            np.testing.assert_array_equal(got, want, err_msg=f"{(h, w, c)} {ksize} {sigma}")
            n += 1
    assert n >= 25


@pytest.mark.parametrize("depth", DEPTHS)
def test_ksize_from_sigma_and_anisotropic_sigmas(rng, depth):
    """ksize 0 derives the size with the uint8 rule (6 sigma + 1) or the float one (uint16)."""
    x = _noise(rng, (1, 11, 13, 2), depth)
    cases = [((0, 0), s, 0.0) for s in (0.3, 0.8, 1.0, 1.5, 2.7, 5.0)]
    cases += [((0, 5), 1.2, 0.0), ((7, 0), 0.0, 1.1), ((0, 0), 0.9, 2.1), ((5, 9), 3.0, 0.4)]
    for ksize, sx, sy in cases:
        got = ours(x, ksize, sx, sy)
        np.testing.assert_array_equal(got, cv_blur(x, ksize, sx, sy), err_msg=f"{ksize} {sx} {sy}")
    assert fp.integer_gaussian_ksize(0, 5.0, 0.0, "uint8") == (31, 31)
    assert fp.integer_gaussian_ksize(0, 5.0, 0.0, "uint16") == (41, 41)


@pytest.mark.parametrize(
    "name, ksize, sigma", [("astronaut", (5, 5), 0.0), ("camera", (7, 7), 1.5)]
)
def test_photographs_compiled_path(name, ksize, sigma):
    """A real photo through the XLA path; the bytes are not those of a rounded float blur, so
    OpenCV did take its fixed-point path (no float fallback) and so did we."""
    data = pytest.importorskip("skimage.data")
    img = getattr(data, name)()
    if img.ndim == 2:
        img = img[..., None]
    x = img[None, :256, :256]
    got = ours(x, ksize, sigma)
    want = cv_blur(x, ksize, sigma)
    np.testing.assert_array_equal(got, want)
    as_float = cv2.GaussianBlur(x[0].astype(np.float32), ksize, sigma).reshape(x.shape[1:])
    rounded = np.clip(np.rint(as_float), 0, 255).astype(np.uint8)
    assert np.mean(rounded != want[0]) > 0.001  # measured: 0.2%..3% of the pixels differ


def test_uint16_photograph_high_values():
    data = pytest.importorskip("skimage.data")
    x = data.camera()[None, :40, :25, None].astype(np.uint16) * 257  # 0..65535, with 65535
    for ksize, sigma in [(3, 0.0), (9, 2.0), (31, 0.0)]:
        np.testing.assert_array_equal(ours(x, ksize, sigma), cv_blur(x, ksize, sigma))


@pytest.mark.parametrize("depth", DEPTHS)
def test_ties_round_half_up(rng, depth):
    """Sparse impulses whose blur lands exactly on .5: OpenCV rounds half up, we too."""
    x = np.zeros((1, 12, 16, 1), dtype=depth)
    x[0, 2::4, 2::4, 0] = rng.choice([2, 6, 10, 18, 34], size=x[0, 2::4, 2::4, 0].shape)
    exact = cv2.GaussianBlur(x[0, ..., 0].astype(np.float64), (3, 3), 0)
    assert np.any(exact - np.floor(exact) == 0.5)
    got = ours(x, 3, 0.0)
    np.testing.assert_array_equal(got, cv_blur(x, 3, 0.0))
    ties = exact - np.floor(exact) == 0.5
    np.testing.assert_array_equal(got[0, ..., 0][ties], np.ceil(exact[ties]))
    # near the top of uint16 (and 255 for uint8): no overflow, no saturation error
    y = (TOP[depth] - rng.integers(0, 200, (1, 9, 14, 3))).astype(depth)
    for ksize in (3, 9, 31):
        np.testing.assert_array_equal(ours(y, ksize, 0.0), cv_blur(y, ksize, 0.0))


def _observed_taps(depth, ksize, sigma):
    """The horizontal taps cv2 applies, read back from impulse responses.

    Row v of the image is an impulse of height v; with a kernel height of 1 OpenCV's output is
    ``(t * v + 2**(F-1)) >> F`` for the tap ``t`` at that offset. Returns the taps and, per tap,
    how many integers in [0, 2**F] explain the whole column (1 = the taps are identified).
    """
    bits = fp.FIXED_POINT_DEPTHS[depth]
    one = 1 << bits
    if depth == "uint8":
        values = np.arange(256)
    else:
        values = np.unique(np.r_[np.arange(1, 600), 65535 - np.arange(600), 1 << np.arange(16)])
    r = ksize // 2
    img = np.zeros((values.size, 2 * ksize + 1), dtype=depth)
    img[:, ksize] = values
    out = cv2.GaussianBlur(img, (ksize, 1), sigma, borderType=cv2.BORDER_CONSTANT).astype(np.int64)
    cols = out[:, ksize - r : ksize + r + 1]  # offsets -r..r
    taps, counts = [], []
    v = values.astype(np.int64)[:, None]
    for col in cols.T:
        if depth == "uint8":
            cand = np.arange(one + 1)
        else:  # 65537 candidates x 1800 rows is heavy: scan a window around the estimate
            est = int(col[values == 65535][0])
            cand = np.arange(max(0, est - 64), min(one, est + 64) + 1)
        ok = np.all(((cand[None, :] * v + (one >> 1)) >> bits) == col[:, None], axis=0)
        taps.append(int(cand[ok][0]) if ok.any() else -1)
        counts.append(int(ok.sum()))
    return np.array(taps), np.array(counts)


@pytest.mark.parametrize("depth", DEPTHS)
def test_fixed_taps_equal_what_cv2_applies(depth):
    cases = [
        (3, 0.0),
        (5, 0.0),
        (7, 0.0),
        (9, 0.0),
        (5, 1.0),
        (7, 1.5),
        (11, 2.0),
        (15, 0.3),
        (21, 5.0),
        (31, 0.0),
        (31, 2.986455429111156),
        (7, 26.308206925169628),
    ]
    for ksize, sigma in cases:
        observed, counts = _observed_taps(depth, ksize, sigma)
        assert np.all(counts == 1), (ksize, sigma, counts)  # the impulses identify the taps
        k64 = kernels.gaussian(ksize, sigma)
        np.testing.assert_array_equal(fp.fixed_taps_numpy(k64, depth), observed)
        qx, qy = fp.fixed_taps(
            k64.astype(np.float32), k64.astype(np.float32), depth, reference=(k64, k64)
        )
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(qx), observed)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(qy), observed)
        assert observed.sum() == 1 << fp.FIXED_POINT_DEPTHS[depth]


def test_float32_weights_alone_are_not_enough_for_uint16():
    """Why `reference` exists: OpenCV quantizes float64 taps; from the float32 rounding of
    them one uint16 tap comes out differently in this configuration (uint8 is unaffected)."""
    k64 = kernels.gaussian(31, 2.986455429111156)
    k32 = k64.astype(np.float32)
    exact16 = fp.fixed_taps_numpy(k64, "uint16")
    from_f32 = keras.ops.convert_to_numpy(fp.fixed_taps(k32, k32, "uint16")[0])
    assert np.abs(from_f32 - exact16).max() == 1
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(fp.fixed_taps(k32, k32, "uint8")[0]),
        fp.fixed_taps_numpy(k64, "uint8"),
    )


def test_fixed_taps_follow_the_weights():
    """Weights other than the reference (set_weights) are quantized from the weights."""
    ref = kernels.gaussian(5, 1.0)
    new = kernels.gaussian(5, 2.0).astype(np.float32)
    qx, _ = fp.fixed_taps(new, new, "uint8", reference=(ref, ref))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(qx), fp.fixed_taps_numpy(kernels.gaussian(5, 2.0), "uint8")
    )


def test_tf_function_dynamic_size_and_weights():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow backend only")
    kx = tf.Variable(kernels.gaussian(5, 0.0).astype(np.float32))
    ky = tf.Variable(kernels.gaussian(3, 0.0).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def blur(x):
        return fp.gaussian_blur_fixed(x, kx, ky, depth="uint8", border="reflect")

    rng = np.random.default_rng(5)
    for h, w in ((7, 9), (40, 3), (1, 1)):
        x = rng.integers(0, 256, (2, h, w, 3)).astype(np.uint8)
        np.testing.assert_array_equal(blur(x).numpy(), cv_blur(x, (5, 3), 0.0, border="reflect"))
    kx.assign(kernels.gaussian(5, 1.7).astype(np.float32))  # like set_weights
    ky.assign(kernels.gaussian(3, 1.7).astype(np.float32))
    x = rng.integers(0, 256, (1, 8, 11, 3)).astype(np.uint8)
    np.testing.assert_array_equal(blur(x).numpy(), cv_blur(x, (5, 3), 1.7, border="reflect"))


def test_channels_first_input_dtypes_and_border_value(rng):
    x = rng.integers(0, 256, (2, 6, 7, 3)).astype(np.uint8)
    want = cv_blur(x, 5, 1.1)
    first = ours(np.transpose(x, (0, 3, 1, 2)), 5, 1.1, data_format="channels_first")
    np.testing.assert_array_equal(np.transpose(first, (0, 2, 3, 1)), want)
    for dtype in ("int32", "float32"):
        np.testing.assert_array_equal(_ours_as(x, dtype), want)
    for depth, value in (("uint8", 7), ("uint16", 60000)):
        y = rng.integers(0, TOP[depth] + 1, (1, 5, 4, 2)).astype(depth)
        got = ours(y, (7, 3), 0.0, border="constant", border_value=value)
        np.testing.assert_array_equal(
            got, cv_blur(y, (7, 3), 0.0, border="constant", border_value=value)
        )


def _ours_as(x, dtype):
    kx, ky = fp.integer_gaussian_kernels(5, 1.1, 0.0, "uint8")
    out = fp.gaussian_blur_fixed(x.astype(dtype), kx, ky, depth="uint8")
    return keras.ops.convert_to_numpy(out)


def test_decisions_and_errors():
    assert fp.uses_fixed_point(3, 0.0, 0.0, "uint8")
    assert fp.uses_fixed_point((0, 0), 7.5, 0.0, "uint16")
    assert not fp.uses_fixed_point(3, 0.0, 0.0, "float32")
    with pytest.raises(ValueError, match="ksize"):
        fp.uses_fixed_point(4, 0.0, 0.0, "uint8")
    with pytest.raises(ValueError, match="sigma_x"):
        fp.uses_fixed_point(0, 0.0, 0.0, "uint8")
    k = kernels.gaussian(3, 0.0)
    x = np.zeros((1, 4, 4, 1), np.uint8)
    with pytest.raises(ValueError, match="depth"):
        fp.gaussian_blur_fixed(x, k, k, depth="int16")
    with pytest.raises(ValueError, match="border_value"):
        fp.gaussian_blur_fixed(x, k, k, depth="uint8", border="constant", border_value=300)
    with pytest.raises(ValueError, match="odd length"):
        fp.fixed_taps(np.ones(4) / 4, k, "uint8")
    with pytest.raises(ValueError, match="4-D"):
        fp.gaussian_blur_fixed(x[0], k, k, depth="uint8")
