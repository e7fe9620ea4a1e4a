"""MedianBlur against cv2.medianBlur: equality on every path, OpenCV's dtype/ksize rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff

TF = keras.backend.backend() == "tensorflow"
needs_tf = pytest.mark.skipif(not TF, reason="TensorFlow graph features")
SIZES = [(1, 1), (1, 7), (6, 1), (2, 3), (4, 5), (17, 23)]


def _cv(x, k):
    """cv2.medianBlur on every (image) of a (B, H, W, C) batch, as float32."""
    out = []
    for img in x:
        y = cv2.medianBlur(np.ascontiguousarray(img), k)
        out.append(y.reshape(img.shape))
    return np.stack(out).astype(np.float32)


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def _float_image(rng, b, h, w, c):
    x = np.round(rng.standard_normal((b, h, w, c)) * 3).astype(np.float32)  # many ties
    x[rng.random(x.shape) < 0.05] = np.inf
    x[rng.random(x.shape) < 0.05] = -np.inf
    return x


@pytest.mark.parametrize("ksize", [1, 3, 5])
def test_float32_equals_opencv(ksize, rng):
    for (h, w), c in zip(SIZES, (1, 3, 4, 1, 3, 4), strict=True):
        x = _float_image(rng, 2, h, w, c)
        got = _np(ff.MedianBlur(ksize)(x))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, _cv(x, ksize), err_msg=f"{h}x{w}x{c}")
    x = rng.standard_normal((1, 40, 70, 3)).astype(np.float32) * 100  # distinct values
    np.testing.assert_array_equal(_np(ff.MedianBlur(ksize)(x)), _cv(x, ksize))


# 7, 9, 15, 51: 5, 4, 3 and 2 thresholds packed per int32 (even and odd field counts), the
# shifted-add box sums (<= 9) and the cumulative ones (> 9).
@pytest.mark.parametrize("ksize", [3, 7, 9, 15, 51])
def test_uint8_equals_opencv(ksize, rng):
    layer = ff.MedianBlur(ksize)
    for (h, w), c in [((1, 1), 3), ((1, 7), 1), ((6, 1), 4), ((2, 3), 1), ((33, 29), 3)]:
        x = rng.integers(0, 256, (2, h, w, c)).astype(np.uint8)
        np.testing.assert_array_equal(_np(layer(x)), _cv(x, ksize), err_msg=f"{h}x{w}x{c}")
    # narrow value ranges and the extremes 0 and 255 (counts at the ends of the histogram),
    # one band of each in one image
    x = np.concatenate(
        [rng.integers(0, 2, (1, 12, 21, 1)), rng.integers(253, 256, (1, 12, 21, 1))], axis=1
    ).astype(np.uint8)
    np.testing.assert_array_equal(_np(layer(x)), _cv(x, ksize))


@pytest.mark.parametrize("dtype", [np.uint16, np.int16])
def test_other_opencv_depths_for_3_and_5(dtype, rng):
    lo, hi = (0, 65536) if dtype == np.uint16 else (-32768, 32768)
    x = rng.integers(lo, hi, (2, 21, 19, 3)).astype(dtype)  # >= 1024 values: compiled
    for k in (3, 5):
        np.testing.assert_array_equal(_np(ff.MedianBlur(k)(x)), _cv(x, k))


def test_other_dtypes_are_cast_like_every_layer(rng):
    x = rng.integers(0, 200, (1, 9, 8, 2))
    want = _cv(x.astype(np.float32), 3)
    for dtype in (np.int32, np.int64, np.float16, np.float64, bool):
        got = _np(ff.MedianBlur(3)(x.astype(dtype)))
        np.testing.assert_array_equal(got, _cv(x.astype(dtype).astype(np.float32), 3))
    np.testing.assert_array_equal(_np(ff.MedianBlur(3)(x.astype(np.float64))), want)
    # ksize 1 copies (OpenCV copies any depth, float64 included)
    np.testing.assert_array_equal(_np(ff.MedianBlur(1)(x.astype(np.float64))), x)


def test_salt_and_pepper_photo(rng):
    from skimage import data

    img = data.camera()[128:320, 160:352]  # 192x192 uint8
    noisy = img.copy()
    u = rng.random(img.shape)
    noisy[u < 0.05] = 0
    noisy[u > 0.95] = 255
    x = noisy[None, :, :, None]
    for k in (3, 5, 7):
        got = _np(ff.MedianBlur(k)(x))
        np.testing.assert_array_equal(got, _cv(x, k))
    # the noise is gone: far fewer saturated pixels than in the input
    clean = _np(ff.MedianBlur(3)(x))[0, :, :, 0]
    assert np.mean((clean == 0) | (clean == 255)) < 0.01 < np.mean((noisy == 0) | (noisy == 255))
    # float32 input of the same photo: the same medians
    np.testing.assert_array_equal(_np(ff.MedianBlur(5)(x.astype(np.float32))), _cv(x, 5))


def test_channels_first(rng):
    x = rng.integers(0, 256, (2, 10, 9, 3)).astype(np.uint8)
    for k in (3, 5, 9):
        got = _np(ff.MedianBlur(k, data_format="channels_first")(x.transpose(0, 3, 1, 2)))
        np.testing.assert_array_equal(got.transpose(0, 2, 3, 1), _cv(x, k))


@needs_tf
def test_dynamic_shapes_in_tf_function_and_tf_data(rng):
    import tensorflow as tf

    for k, dtype in ((3, tf.float32), (5, tf.float32), (9, tf.uint8)):
        layer = ff.MedianBlur(k)
        fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3), dtype)])
        for h, w in [(1, 1), (2, 7), (12, 5), (19, 23)]:
            x = rng.integers(0, 256, (1, h, w, 3)).astype(dtype.as_numpy_dtype)
            np.testing.assert_array_equal(fn(x).numpy(), _cv(x, k), err_msg=f"k{k} {h}x{w}")
    images = [rng.integers(0, 256, (h, w, 1)).astype(np.uint8) for h, w in [(5, 3), (16, 20)]]
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec((None, None, 1), tf.uint8)
    ).batch(1)
    layer = ff.MedianBlur(7)
    for im, got in zip(images, ds.map(layer), strict=True):
        np.testing.assert_array_equal(got.numpy(), _cv(im[None], 7))


@needs_tf
def test_savedmodel_with_dynamic_size(tmp_path, rng):
    import tensorflow as tf

    module = tf.Module()
    module.f3 = tf.function(
        ff.MedianBlur(3), input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)]
    )
    module.f15 = tf.function(
        ff.MedianBlur(15), input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)]
    )
    tf.saved_model.save(module, str(tmp_path / "m"))
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    x = _float_image(rng, 1, 11, 17, 1)
    np.testing.assert_array_equal(loaded.f3(x).numpy(), _cv(x, 3))
    u = rng.integers(0, 256, (1, 20, 9, 3)).astype(np.uint8)
    np.testing.assert_array_equal(loaded.f15(u).numpy(), _cv(u, 15))


def test_nan_rule(rng):
    x = rng.standard_normal((1, 16, 40, 1)).astype(np.float32)
    x[0, 3, 5, 0] = x[0, 10, 30, 0] = x[0, 0, 39, 0] = np.nan
    for k in (3, 5):
        got = _np(ff.MedianBlur(k)(x))[0, :, :, 0]
        # the window (replicate border) holds a NaN <=> the output is NaN
        r = k // 2
        nan = np.pad(np.isnan(x[0, :, :, 0]), r, mode="edge")
        window_nan = np.zeros_like(got, bool)
        for i in range(k):
            for j in range(k):
                window_nan |= nan[i : i + got.shape[0], j : j + got.shape[1]]
        np.testing.assert_array_equal(np.isnan(got), window_nan)
        # every other pixel equals OpenCV
        want = _cv(x, k)[0, :, :, 0]
        np.testing.assert_array_equal(got[~window_nan], want[~window_nan])


def _argmedian_gradient(x, k, upstream):
    """The subgradient we promise: each output's upstream value lands on the input pixel
    holding the median of its window (values distinct, so that pixel is unique)."""
    h, w = x.shape
    r = k // 2
    grad = np.zeros_like(x, np.float64)
    for i in range(h):
        for j in range(w):
            rows = np.clip(np.arange(i - r, i + r + 1), 0, h - 1)
            cols = np.clip(np.arange(j - r, j + r + 1), 0, w - 1)
            win = x[np.ix_(rows, cols)]
            a, b = np.unravel_index(np.argsort(win, axis=None)[k * k // 2], win.shape)
            grad[rows[a], cols[b]] += upstream[i, j]
    return grad


@needs_tf
@pytest.mark.parametrize("ksize", [3, 5])
def test_gradient_is_one_hot_at_the_median(ksize, rng):
    import tensorflow as tf

    layer = ff.MedianBlur(ksize)
    for h, w in [(6, 7), (2, 3)] if ksize == 5 else [(6, 7), (40, 36), (2, 3)]:
        x = rng.permutation(h * w).reshape(1, h, w, 1).astype(np.float32)  # distinct
        up = rng.standard_normal((1, h, w, 1)).astype(np.float32)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt) * up)
        got = tape.gradient(loss, xt).numpy()[0, :, :, 0]
        want = _argmedian_gradient(x[0, :, :, 0], ksize, up[0, :, :, 0])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
    # ties: the whole upstream gradient still lands on pixels holding the median
    x = rng.integers(0, 3, (1, 9, 8, 1)).astype(np.float32)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt))
    g = tape.gradient(loss, xt).numpy()
    assert g.sum() == pytest.approx(x.size) and g.min() >= 0


def test_errors():
    for bad in (0, -1, 2, 4, 3.0, True, "3", None):
        with pytest.raises(ValueError, match="ksize") as info:
            ff.MedianBlur(bad)
        assert f"ksize={bad!r}" in str(info.value)
    for border in ("reflect_101", "constant", "wrap", "reflect"):
        with pytest.raises(ValueError, match="replicate") as info:
            ff.MedianBlur(3, border=border)
        assert f"border={border!r}" in str(info.value)
    assert ff.MedianBlur(3, border="BORDER_REPLICATE").border == "replicate"
    with pytest.raises(ValueError, match="channels_last"):
        ff.MedianBlur(3, data_format="nhwc")
    for dtype in (np.float32, np.uint16, np.int16):
        with pytest.raises(ValueError) as info:
            ff.MedianBlur(7)(np.zeros((1, 8, 8, 1), dtype))
        msg = str(info.value)
        assert "ksize=7" in msg and np.dtype(dtype).name in msg and "uint8" in msg, msg
    with pytest.raises(ValueError, match="4-D"):
        ff.MedianBlur(3)(np.zeros((8, 8, 1), np.float32))


@needs_tf
def test_dtype_rule_holds_in_a_traced_graph():
    import tensorflow as tf

    fn = tf.function(ff.MedianBlur(9), input_signature=[tf.TensorSpec((None, None, None, 1))])
    with pytest.raises(ValueError, match="ksize=9"):
        fn.get_concrete_function()


def test_config_round_trip_and_keras_file(tmp_path, rng):
    layer = ff.MedianBlur(7, data_format="channels_last", name="med")
    config = layer.get_config()
    assert config["ksize"] == 7 and config["border"] == "replicate"
    clone = ff.MedianBlur.from_config(config)
    assert clone.get_config() == config
    model = keras.Sequential([keras.Input((12, 10, 3), dtype="uint8"), layer])
    x = rng.integers(0, 256, (2, 12, 10, 3)).astype(np.uint8)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(_np(loaded(x)), _cv(x, 7))
    assert layer.trainable is False and layer.weights == []


_JAX_SCRIPT = """
import numpy as np, cv2, jax, keras, fixedfilters as ff
assert keras.backend.backend() == "jax"
rng = np.random.default_rng(0)
x = np.round(rng.standard_normal((2, 19, 23, 3)) * 3).astype(np.float32)
u = rng.integers(0, 256, (2, 19, 23, 3)).astype(np.uint8)
cv = lambda a, k: np.stack([cv2.medianBlur(i, k) for i in a]).astype(np.float32)
for k in (3, 5):
    np.testing.assert_array_equal(np.asarray(ff.MedianBlur(k)(x)), cv(x, k))
for k in (5, 9, 31):
    np.testing.assert_array_equal(np.asarray(ff.MedianBlur(k)(u)), cv(u, k))
d = rng.permutation(6 * 7).reshape(1, 6, 7, 1).astype(np.float32)
g = jax.grad(lambda a: ff.MedianBlur(3)(a).sum())(d)
assert float(g.sum()) == 42.0 and set(np.unique(np.asarray(g))) <= set(range(10))
print("JAX OK")
"""


@pytest.mark.skipif(not TF, reason="this run already is the JAX run")
def test_jax_backend_equals_opencv():
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    repo = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(repo), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", _JAX_SCRIPT],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and "JAX OK" in proc.stdout, proc.stderr[-3000:]


def test_output_dtype_is_the_input_depth_like_cv2():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, (2, 13, 10, 3)).astype(np.uint8)
    for k in (3, 7):
        got = np.asarray(ff.MedianBlur(k, output_dtype="uint8")(x))
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, np.stack([cv2.medianBlur(im, k) for im in x]))
    with pytest.raises(ValueError, match="output_dtype"):
        ff.MedianBlur(3, output_dtype="int16")(x)
