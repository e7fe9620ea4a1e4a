"""PyrDown / PyrUp against cv2.pyrDown / cv2.pyrUp: every accepted dstsize, borders, quirks,
uint8 bytes, dynamic sizes; validation."""

from __future__ import annotations

import doctest

import cv2
import numpy as np
import pytest
import tensorflow as tf

import fixedfilters as ff
import fixedfilters.layers.pyramid as pyramid_module

CB = {"reflect_101": 4, "reflect": 2, "replicate": 1, "wrap": 3}


def _cv(fn, x, **kw):
    """cv2 on each (H, W, C) image of a batch (cv2 drops a last axis of 1: put it back)."""
    return np.stack([np.atleast_3d(fn(np.ascontiguousarray(im), **kw)) for im in x])


def _down_sizes(n):
    return [0] + [d for d in range(1, n + 3) if abs(2 * d - n) <= 2]


def _pairs(ws, hs):
    """(w, h) pairs that use every entry of ``ws`` and of ``hs`` at least once."""
    n = max(len(ws), len(hs))
    return [(ws[i % len(ws)], hs[i % len(hs)]) for i in range(n)]


def _check_down(x, xu, dstsize, border):
    kw = dict(dstsize=dstsize, borderType=CB[border])
    got = np.asarray(ff.PyrDown(dstsize, border=border)(x))
    want = _cv(cv2.pyrDown, x, **kw)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-5 * np.abs(x).max(), (x.shape, dstsize, border)
    got_u8 = np.asarray(ff.pyrdown_uint8(xu, dstsize, border=border))
    np.testing.assert_array_equal(got_u8, _cv(cv2.pyrDown, xu, **kw))


def test_pyrdown_every_accepted_dstsize_and_border(rng):
    """Sizes 1..7 x 1..6, every dstsize entry OpenCV accepts, every border cv2.pyrDown accepts
    (wrap too); float32 within tolerance and uint8 exact. (Checked once for every (w, h) pair
    and size up to 9x9 while writing the layer; this is a cheaper cover.)"""
    borders = list(CB)
    k = 0
    for h in range(1, 8):
        for w in range(1, 7):
            x = (rng.standard_normal((1, h, w, 3)) * 50).astype(np.float32)
            xu = rng.integers(0, 256, (1, h, w, 3)).astype(np.uint8)
            for dstsize in _pairs(_down_sizes(w), _down_sizes(h)):
                k += 1
                _check_down(x, xu, dstsize, borders[k % len(borders)])


@pytest.mark.parametrize("border", list(CB))
def test_pyrdown_right_border_quirk(border, rng):
    """Even W >= 4 with w = W // 2 + 1: cv2 centres the last column on W - 1 (reproduced)."""
    for w in (4, 6, 10):
        x = (rng.standard_normal((1, 5, w, 2)) * 50).astype(np.float32)
        xu = rng.integers(0, 256, (1, 5, w, 2)).astype(np.uint8)
        _check_down(x, xu, (w // 2 + 1, 3), border)


def test_pyrup_every_accepted_dstsize(rng):
    for h in range(1, 6):
        for w in range(1, 6):
            x = (rng.standard_normal((1, h, w, 3)) * 50).astype(np.float32)
            xu = rng.integers(0, 256, (1, h, w, 3)).astype(np.uint8)
            ws, hs = [0, 2 * w - 1, 2 * w, 2 * w + 1], [2 * h + 1, 2 * h, 2 * h - 1, 0]
            for dw, dh in _pairs(ws, hs) + [(2 * w + 1, 2 * h + 1)]:
                if w == 1 and dw == 3:
                    continue  # OpenCV reads uninitialized memory there (see below)
                got = np.asarray(ff.PyrUp((dw, dh))(x))
                want = _cv(cv2.pyrUp, x, dstsize=(dw, dh))
                assert got.shape == want.shape
                assert np.max(np.abs(got - want)) <= 4e-5 * np.abs(x).max(), (h, w, dh, dw)
                got_u8 = np.asarray(ff.pyrup_uint8(xu, (dw, dh)))
                np.testing.assert_array_equal(got_u8, _cv(cv2.pyrUp, xu, dstsize=(dw, dh)))


def test_pyrup_one_column_to_three_repeats_the_last_column(rng):
    """cv2.pyrUp(1-wide, dstsize=(3, h)) leaves column 2 uninitialized; ours repeats column 1
    (the 2W + 1 rule) and columns 0-1 match cv2."""
    x = rng.uniform(0, 255, (1, 4, 1, 1)).astype(np.float32)
    got = np.asarray(ff.PyrUp((3, 8))(x))[0, :, :, 0]
    want = cv2.pyrUp(x[0, :, :, 0], dstsize=(3, 8))
    np.testing.assert_allclose(got[:, :2], want[:, :2], atol=1e-3)
    np.testing.assert_array_equal(got[:, 2], got[:, 1])


def test_uint8_large_image_and_layer_on_uint8(rng):
    x = rng.integers(0, 256, (2, 37, 50, 3)).astype(np.uint8)
    want_down = _cv(cv2.pyrDown, x)
    np.testing.assert_array_equal(np.asarray(ff.pyrdown_uint8(x)), want_down)
    np.testing.assert_array_equal(np.asarray(ff.pyrup_uint8(x)), _cv(cv2.pyrUp, x))
    # the layer on uint8 input: the float result, equal to cv2 on the float32 image
    got = np.asarray(ff.PyrDown()(x))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _cv(cv2.pyrDown, x.astype(np.float32)), atol=1e-3)


@pytest.mark.parametrize(
    "layer",
    [ff.PyrDown(), ff.PyrDown((4, 3), border="wrap"), ff.PyrDown((5, 3)), ff.PyrUp((13, 11))],
    ids=["down", "down-wrap-dst", "down-quirk", "up-dst"],
)
def test_dynamic_sizes_match_eager_and_cv2(layer, rng):
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2))])
    out_shape = layer.compute_output_shape((None, None, None, 2))
    assert out_shape[1:3] == ((None, None) if layer.dstsize is None else layer.dstsize[::-1])
    x = rng.uniform(-50, 255, (2, 6, 8, 2)).astype(np.float32)
    if isinstance(layer, ff.PyrUp):
        x = x[:, :5, :6]
    got = fn(x).numpy()
    np.testing.assert_array_equal(got, np.asarray(layer(x)))
    if isinstance(layer, ff.PyrDown):
        kw = dict(dstsize=layer.dstsize or (0, 0), borderType=CB[layer.border])
        want = _cv(cv2.pyrDown, x, **kw)
    else:
        want = _cv(cv2.pyrUp, x, dstsize=layer.dstsize)
    assert np.max(np.abs(got - want)) <= 1e-3


def test_dynamic_size_that_opencv_refuses_fails_at_run_time():
    fn = tf.function(ff.PyrDown((2, 2)), input_signature=[tf.TensorSpec((1, None, None, 1))])
    with pytest.raises(tf.errors.InvalidArgumentError, match="dstsize"):
        fn(np.zeros((1, 9, 9, 1), np.float32))


def test_output_shapes_and_tiny_images():
    assert ff.PyrDown().compute_output_shape((None, 7, 8, 3)) == (None, 4, 4, 3)
    assert ff.PyrDown().compute_output_shape((None, None, 8, 3)) == (None, None, 4, 3)
    assert ff.PyrUp().compute_output_shape((2, 7, None, 3)) == (2, 14, None, 3)
    assert ff.PyrUp((15, 9)).compute_output_shape((2, None, None, 3)) == (2, 9, 15, 3)
    cf = ff.PyrDown(data_format="channels_first")
    assert cf.compute_output_shape((1, 3, 5, 9)) == (1, 3, 3, 5)
    one = np.full((1, 1, 1, 1), 7.0, np.float32)
    assert np.asarray(ff.PyrDown()(one)).tolist() == [[[[7.0]]]]
    assert np.asarray(ff.PyrUp()(one)).shape == (1, 2, 2, 1)
    assert np.asarray(ff.PyrDown()(np.zeros((0, 5, 5, 2), np.float32))).shape == (0, 3, 3, 2)


def test_validation_messages():
    with pytest.raises(
        ValueError,
        match=r"'reflect_101', 'reflect', 'replicate', 'wrap'.*"
        r"Received: border='constant'",
    ):
        ff.PyrDown(border="constant")
    with pytest.raises(ValueError, match=r"PyrUp accepts.*'reflect_101'.*Received: border="):
        ff.PyrUp(border="reflect")
    with pytest.raises(TypeError, match="dstsize"):
        ff.PyrDown(dstsize=5)
    with pytest.raises(ValueError, match="dstsize"):
        ff.PyrDown(dstsize=(-1, 2))
    with pytest.raises(ValueError, match=r"Received: dstsize=\(2, 2\)"):
        ff.PyrDown((2, 2))(np.zeros((1, 9, 9, 1), np.float32))
    with pytest.raises(ValueError, match=r"dstsize"):
        ff.PyrUp((10, 10))(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        ff.pyrdown_uint8(np.zeros((1, 4, 4, 1), np.float32))
    assert ff.PyrDown((0, 5)).dstsize is None  # OpenCV: an empty size means the default


def test_docstring_examples():
    result = doctest.testmod(pyramid_module)
    assert result.attempted > 0 and result.failed == 0


def test_output_dtype_uint8_is_opencvs_bytes():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (2, 9, 12, 3)).astype(np.uint8)
    down = np.asarray(ff.PyrDown(output_dtype="uint8")(x))
    up = np.asarray(ff.PyrUp(output_dtype="uint8")(x))
    assert down.dtype == up.dtype == np.uint8
    np.testing.assert_array_equal(down, np.stack([cv2.pyrDown(im) for im in x]))
    np.testing.assert_array_equal(up, np.stack([cv2.pyrUp(im) for im in x]))
    with pytest.raises(ValueError, match="output_dtype"):
        ff.PyrDown(output_dtype="int16")(x)


@pytest.mark.parametrize("dtype", ["uint16", "int16"])
def test_16bit_output_dtype_is_opencvs(dtype, rng):
    """cv2.pyrDown / cv2.pyrUp keep a 16-bit depth: OpenCV's integer sums and rounding (an
    arithmetic shift: floor, negative sums too), byte for byte; tiny, odd and compiled sizes
    (21x26x3 is past STENCIL_MIN_ELEMENTS), every pyrDown border, the range's ends."""
    info = np.iinfo(dtype)
    for i, (h, w) in enumerate([(1, 1), (2, 3), (5, 4), (9, 12), (21, 26)]):
        x = rng.integers(info.min, info.max + 1, (2, h, w, 3)).astype(dtype)
        x[0, 0, 0], x[-1, -1, -1] = info.max, info.min
        border = list(CB)[i % len(CB)]
        dstsize = (13, 11) if (h, w) == (21, 26) else None
        kw = dict(dstsize=dstsize or (0, 0))
        down = np.asarray(ff.PyrDown(dstsize, border=border, output_dtype=dtype)(x))
        up = np.asarray(ff.PyrUp(output_dtype=dtype)(x))
        assert down.dtype == up.dtype == np.dtype(dtype)
        want_down = _cv(cv2.pyrDown, x, borderType=CB[border], **kw)
        np.testing.assert_array_equal(down, want_down, err_msg=f"{(h, w, border)}")
        np.testing.assert_array_equal(up, _cv(cv2.pyrUp, x), err_msg=f"{(h, w)}")
    for value in (info.min, info.max):
        flat = np.full((1, 6, 7, 1), value, dtype)
        assert np.all(np.asarray(ff.PyrDown(output_dtype=dtype)(flat)) == value)
        assert np.all(np.asarray(ff.PyrUp(output_dtype=dtype)(flat)) == value)
    with pytest.raises(ValueError, match="output_dtype"):
        ff.PyrDown(output_dtype="uint8")(x)


# -- the compiled (XLA) path --------------------------------------------------------------------
# Static sizes of at least STENCIL_MIN_ELEMENTS values per image run one XLA computation that
# splits each axis into first / interior / last outputs (the border outputs from a few gathered
# rows). Forced here on small images, so every split (axes of 1..13, dstsize variants, the quirk
# column, every border, both data formats) is checked against cv2: float32 within tolerance and
# the uint8 functions' path byte for byte.
_DOWN = [
    (1, 1, None),
    (1, 6, (4, 1)),  # quirk column
    (2, 5, (2, 2)),
    (3, 4, None),
    (5, 2, (2, 3)),
    (6, 6, (4, 2)),  # quirk column
    (7, 8, (5, 4)),  # quirk column
    (9, 3, None),
    (8, 10, (4, 5)),
    (11, 13, (6, 6)),
]
_UP = [(1, 1, None), (1, 2, (3, 3)), (2, 3, (5, 4)), (3, 1, (1, 7)), (5, 4, (8, 9))]


def _forced(x, spec):
    """``pyramid._run`` with method="stencil" (XLA) on a channels-last batch ``x``."""
    up, dstsize, border, data_format, exact = spec
    k = tf.constant(pyramid_module._TAPS, tf.float32)
    xt = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    out = np.asarray(pyramid_module._run(tf.constant(xt), k, k, spec, "stencil"))
    return out if data_format == "channels_last" else out.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("up", [False, True], ids=["down", "up"])
def test_compiled_path_every_split_against_cv2(up, rng):
    borders = list(CB) if not up else ["reflect_101"]
    for i, (h, w, dstsize) in enumerate(_UP if up else _DOWN):
        border = borders[i % len(borders)]
        data_format = "channels_first" if i % 3 == 1 else "channels_last"
        x = (rng.standard_normal((2, h, w, 3)) * 50).astype(np.float32)
        xu = rng.integers(0, 256, (2, h, w, 3)).astype(np.uint8)
        if up:
            want, want_u8 = (_cv(cv2.pyrUp, v, dstsize=dstsize or (0, 0)) for v in (x, xu))
        else:
            kw = dict(dstsize=dstsize or (0, 0), borderType=CB[border])
            want, want_u8 = (_cv(cv2.pyrDown, v, **kw) for v in (x, xu))
        got = _forced(x, (up, dstsize, border, data_format, False))
        assert got.shape == want.shape, (h, w, dstsize)
        assert np.max(np.abs(got - want)) <= 4e-5 * np.abs(x).max(), (h, w, dstsize, border)
        got_u8 = _forced(xu, (up, dstsize, border, data_format, "uint8"))
        np.testing.assert_array_equal(got_u8, want_u8, err_msg=f"{(h, w, dstsize, border)}")


def test_layers_take_the_compiled_path_on_large_images(rng):
    """From STENCIL_MIN_ELEMENTS values per image the layers and the uint8 functions run the
    compiled path (the same bits as forcing it), in eager calls and in a tf.function."""
    x = rng.uniform(0, 255, (2, 21, 26, 3)).astype(np.float32)  # 1638 values per image
    xu = x.astype(np.uint8)
    for layer, up in ((ff.PyrDown((13, 11), border="reflect"), False), (ff.PyrUp(), True)):
        spec = (up, layer.dstsize, layer.border, "channels_last", False)
        want = _forced(x, spec)
        np.testing.assert_array_equal(np.asarray(layer(x)), want)
        np.testing.assert_array_equal(tf.function(layer)(x).numpy(), want)
        fn = ff.pyrup_uint8 if up else ff.pyrdown_uint8
        kw = {} if up else {"border": layer.border}
        np.testing.assert_array_equal(
            np.asarray(fn(xu, layer.dstsize, **kw)), _forced(xu, spec[:4] + ("uint8",))
        )
