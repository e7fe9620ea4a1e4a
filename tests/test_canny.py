"""``fixedfilters.Canny``: byte for byte with ``cv2.Canny`` (the installed OpenCV is the judge)."""

from __future__ import annotations

import itertools
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
from fixedfilters.layers.canny import canny, canny_thresholds, hysteresis

skdata = pytest.importorskip("skimage.data")
ndimage = pytest.importorskip("scipy.ndimage")

REPO = Path(__file__).resolve().parent.parent


def _cv(images, t1, t2, ap=3, l2=False):
    """cv2.Canny on each (H, W, C) image of a batch -> (B, H, W)."""
    return np.stack(
        [cv2.Canny(im[..., 0] if im.shape[-1] == 1 else im, t1, t2, None, ap, l2) for im in images]
    )


def _ours(images, t1, t2, ap=3, l2=False, **kwargs):
    return keras.ops.convert_to_numpy(ff.Canny(t1, t2, ap, l2, **kwargs)(images))[..., 0]


def _gray(name, size=None):
    im = getattr(skdata, name)()
    if im.ndim == 3:
        im = cv2.cvtColor(np.ascontiguousarray(im[..., :3]), cv2.COLOR_RGB2GRAY)
    if size:
        im = cv2.resize(im, size, interpolation=cv2.INTER_AREA)
    return im[..., None]


def _colour(name, size=None):
    im = np.ascontiguousarray(getattr(skdata, name)()[..., :3])
    if size:
        im = cv2.resize(im, size, interpolation=cv2.INTER_AREA)
    return im


def _spiral(size=256, step=12, dim=60, bright=120, seed=30):
    """A band along an Archimedean spiral, dim except its last ``seed`` points: one long chain
    of weak edge pixels (thousands) that only its outer end makes strong."""
    c = (size - 1) / 2
    turns = (size / 2 - step) / step
    t = np.linspace(0, turns * 2 * np.pi, int(40 * turns * size))
    r = step * t / (2 * np.pi)
    pts = np.stack([c + r * np.cos(t), c + r * np.sin(t)], 1).round().astype(np.int32)
    img = np.zeros((size, size), np.uint8)
    cv2.polylines(img, [pts], False, dim, step // 2)
    cv2.polylines(img, [pts[-seed:]], False, bright, step // 2)
    return img[..., None]


def _shapes(h=96, w=120):
    img = np.full((h, w, 3), 30, np.uint8)
    cv2.circle(img, (40, 50), 25, (200, 90, 10), -1)
    cv2.rectangle(img, (70, 10), (110, 40), (10, 220, 120), -1)
    cv2.line(img, (5, 90), (115, 60), (255, 255, 255), 2)
    cv2.ellipse(img, (90, 70), (20, 10), 30, 0, 360, (120, 120, 240), -1)
    return img


RNG = np.random.default_rng(0)


# -- parity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ap", [3, 5, 7])
@pytest.mark.parametrize("l2", [False, True])
def test_photographs_gray_and_colour_batch(ap, l2):
    gray = np.stack([_gray("camera", (128, 96)), _gray("coins", (128, 96))])
    colour = np.stack([_colour("astronaut", (128, 96)), _colour("coffee", (128, 96))])
    for batch, (t1, t2) in [(gray, (50, 150)), (colour, (180.5, 60.25))]:
        np.testing.assert_array_equal(_ours(batch, t1, t2, ap, l2), _cv(batch, t1, t2, ap, l2))


def test_full_size_photographs():
    batch = np.stack([_colour("astronaut"), _colour("chelsea", (512, 512))])
    np.testing.assert_array_equal(_ours(batch, 100, 200), _cv(batch, 100, 200))
    gray = _gray("camera")[None]
    np.testing.assert_array_equal(_ours(gray, 30, 90, 5, True), _cv(gray, 30, 90, 5, True))


@pytest.mark.parametrize(
    ("t1", "t2"), [(0, 0), (-20, 40), (40, 10), (10.9, 30.99), (1e9, 5e9), (200, 0.5)]
)
def test_thresholds_any_order_and_non_integer(t1, t2):
    batch = np.stack([_shapes(), RNG.integers(0, 256, (96, 120, 3), dtype=np.uint8)])
    for ap, l2 in [(3, False), (7, False), (5, True), (7, True)]:
        np.testing.assert_array_equal(_ours(batch, t1, t2, ap, l2), _cv(batch, t1, t2, ap, l2))


def test_noise_and_shapes_all_options():
    batch = np.stack([RNG.integers(0, 256, (40, 56, 3), dtype=np.uint8), _shapes(40, 56)])
    binary = ((RNG.random((2, 40, 56, 1)) > 0.5) * 255).astype(np.uint8)  # saturating gradients
    for (ap, l2), (t1, t2) in itertools.product(
        [(3, False), (5, True), (7, False), (7, True)], [(20, 80), (300, 1000)]
    ):
        np.testing.assert_array_equal(_ours(batch, t1, t2, ap, l2), _cv(batch, t1, t2, ap, l2))
        np.testing.assert_array_equal(_ours(binary, t1, t2, ap, l2), _cv(binary, t1, t2, ap, l2))


@pytest.mark.parametrize("hw", [(1, 1), (1, 5), (5, 1), (2, 2), (3, 3), (4, 4), (2, 9)])
def test_tiny_images(hw):
    for channels in (1, 3):
        batch = RNG.integers(0, 256, (3, *hw, channels), dtype=np.uint8)
        batch[0] = (batch[0] > 127) * 255
        ap, l2 = [(3, False), (5, True), (7, False)][(hw[0] + hw[1] + channels) % 3]
        np.testing.assert_array_equal(_ours(batch, 10, 50, ap, l2), _cv(batch, 10, 50, ap, l2))


def test_colour_tie_takes_the_first_channel():
    # equal magnitudes, different directions: the first channel's direction decides the NMS
    img = np.zeros((12, 12, 3), np.uint8)
    img[:, 6:, 0] = 100  # vertical edge in channel 0
    img[6:, :, 1] = 100  # horizontal edge in channel 1, same magnitude
    img[:, :, 2] = np.triu(np.full((12, 12), 100, np.uint8))  # diagonal, also 400 in L1
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        x = np.ascontiguousarray(img[..., order])[None]
        np.testing.assert_array_equal(_ours(x, 50, 100), _cv(x, 50, 100))


def test_long_weak_spiral_is_followed_to_its_end():
    img = _spiral()[None]
    ref = _cv(img, 100, 400)
    assert (ref > 0).sum() > 5000  # one chain of thousands of weak pixels, seeded at one end
    np.testing.assert_array_equal(_ours(img, 100, 400), ref)


def test_hysteresis_is_reachability_on_a_long_path():
    # a one-pixel 8-connected spiral path with one seed at its inner end, next to other shapes
    size = 200
    cand = np.zeros((size, size), bool)
    c = size // 2
    t = np.linspace(0, 58 * np.pi, 400000)
    r = 3 * t / (2 * np.pi)
    cand[(c + r * np.sin(t)).astype(int), (c + r * np.cos(t)).astype(int)] = True
    cand[::7, :20] = True  # unseeded runs, and one row of them seeded below
    strong = np.zeros_like(cand)
    strong[c, c] = True
    strong[7, 3] = True
    labels, _ = ndimage.label(cand, np.ones((3, 3)))
    expected = np.isin(labels, np.unique(labels[strong])) & cand
    assert expected.sum() > 5000
    batch_c = np.stack([cand, cand.T, np.zeros_like(cand)])
    batch_s = np.stack([strong, strong.T, np.zeros_like(cand)])
    edges, iterations = hysteresis(batch_c, batch_s, return_iterations=True)
    edges = keras.ops.convert_to_numpy(edges)
    np.testing.assert_array_equal(edges[0], expected)
    np.testing.assert_array_equal(edges[1], expected.T)
    assert not edges[2].any()
    assert int(iterations) > 1


def test_hysteresis_long_vertical_chain_takes_few_iterations():
    """A serpentine of long vertical runs (the chain is the whole image): the vertical run fill
    (one iteration in 16) marks a whole run; 3x3 steps alone took one iteration per two rows
    (about 1,900 here). The result is the seed's 8-connected component (cv2's labelling)."""
    n = 128
    cand = np.zeros((n, n), bool)
    for j, x in enumerate(range(2, n - 2, 4)):
        cand[2 : n - 2, x] = True
        if x + 4 < n - 2:
            y = 2 if j % 2 else n - 3
            cand[y, x : x + 5] = True
    strong = np.zeros_like(cand)
    strong[2, 2] = True
    _, labels = cv2.connectedComponents(cand.astype(np.uint8), connectivity=8)
    expected = labels == labels[2, 2]
    assert expected.sum() == cand.sum() > 3500  # one chain
    edges, iterations = hysteresis(cand[None], strong[None], return_iterations=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(edges)[0], expected)
    runs = len(range(2, n - 2, 4))
    assert int(iterations) <= 32 + 20 * runs, int(iterations)


# -- layer behaviour ------------------------------------------------------------------------------


def test_channels_first_and_output_shape():
    batch = np.stack([_shapes(33, 47), RNG.integers(0, 256, (33, 47, 3), dtype=np.uint8)])
    layer = ff.Canny(40, 120, data_format="channels_first")
    out = keras.ops.convert_to_numpy(layer(np.transpose(batch, (0, 3, 1, 2))))
    assert out.shape == (2, 1, 33, 47) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, 0], _cv(batch, 40, 120))
    assert layer.compute_output_shape((None, 3, None, None)) == (None, 1, None, None)


def test_canny_function_matches_cv2_for_single_images_and_batches():
    img = _colour("astronaut", (64, 48))
    expected = cv2.Canny(img, 60, 20.5, None, 5, True)
    np.testing.assert_array_equal(canny(img, 60, 20.5, 5, True), expected)
    gray = _gray("camera", (64, 48))
    assert canny(gray[..., 0], 50, 100).shape == (48, 64)
    np.testing.assert_array_equal(canny(gray[None], 50, 100)[0], cv2.Canny(gray, 50, 100))
    with pytest.raises(TypeError, match="uint8"):
        canny(gray.astype("float32"), 50, 100)


def test_fixed_weights_config_and_keras_file(tmp_path):
    layer = ff.Canny(150, 50.5, 5, True, name="edges")
    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, layer(inputs))
    assert [w.name for w in layer.weights] == ["smooth", "deriv"]
    assert not layer.trainable_weights and not layer.trainable
    assert ff.weight_report(model).totals["fixed"] == 10
    config = layer.get_config()
    assert config["threshold1"] == 150 and config["aperture_size"] == 5 and config["l2_gradient"]
    assert ff.Canny.from_config(config).get_config() == config
    path = tmp_path / "canny.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = _colour("coffee", (80, 60))[None]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0)[..., 0], _cv(x, 150, 50.5, 5, True))


def test_tf_function_dynamic_shapes_and_tf_data():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow graphs")
    import tensorflow as tf

    layer = ff.Canny(30, 90)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)])
    for hw in [(1, 1), (37, 53), (64, 20)]:
        x = RNG.integers(0, 256, (2, *hw, 3), dtype=np.uint8)
        x[1] = _shapes(*hw)
        np.testing.assert_array_equal(fn(x).numpy()[..., 0], _cv(x, 30, 90))
    images = [_gray("camera", (50, 40)), _gray("coins", (31, 77))]
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec((None, None, 1), tf.uint8)
    )
    ds = ds.map(lambda im: layer(im[None])[0])
    for out, im in zip(ds, images, strict=True):
        np.testing.assert_array_equal(out.numpy()[..., 0], cv2.Canny(im, 30, 90))


def test_savedmodel_with_dynamic_size_reloads_in_a_fresh_process(tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export")
    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, ff.Canny(120, 40.5, 7, True)(inputs))
    model.export(str(tmp_path / "sm"), verbose=False)
    images = [_colour("astronaut", (70, 50)), RNG.integers(0, 256, (9, 130, 3), dtype=np.uint8)]
    for i, im in enumerate(images):
        np.save(tmp_path / f"in{i}.npy", im[None])
    script = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({str(tmp_path / "sm")!r})  # owns the variables
        serve = loaded.serve
        for i in range({len(images)}):
            x = np.load({str(tmp_path)!r} + f"/in{{i}}.npy")
            np.save({str(tmp_path)!r} + f"/out{{i}}.npy", serve(tf.constant(x)).numpy())
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for i, im in enumerate(images):
        out = np.load(tmp_path / f"out{i}.npy")
        np.testing.assert_array_equal(out[0, ..., 0], cv2.Canny(im, 120, 40.5, None, 7, True))


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "uint16", "int8", "int32"])
def test_non_uint8_input_is_a_type_error(dtype):
    with pytest.raises(TypeError, match=r"8-bit.*Received: input dtype=.*astype\('uint8'\)"):
        ff.Canny(10, 20)(np.zeros((1, 8, 8, 1), dtype))


@pytest.mark.parametrize("channels", [2, 4])
def test_channel_count(channels):
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ff.Canny(10, 20)(np.zeros((1, 8, 8, channels), "uint8"))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(threshold1=float("nan"), threshold2=10), ValueError, "threshold1"),
        (dict(threshold1=1, threshold2=float("inf")), ValueError, "threshold2"),
        (dict(threshold1="5", threshold2=10), TypeError, "threshold1"),
        (dict(threshold1=1, threshold2=2, aperture_size=1), ValueError, "aperture_size"),
        (dict(threshold1=1, threshold2=2, aperture_size=9), ValueError, "aperture_size"),
        (dict(threshold1=1, threshold2=2, aperture_size=-1), ValueError, "aperture_size"),
        (dict(threshold1=1, threshold2=2, aperture_size=3.0), ValueError, "aperture_size"),
        (dict(threshold1=1, threshold2=2, l2_gradient=1), TypeError, "l2_gradient"),
        (dict(threshold1=1, threshold2=2, data_format="nhwc"), ValueError, "data_format"),
    ],
)
def test_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=f"Received: {name}="):
        ff.Canny(**kwargs)


def test_docstring_examples_and_opencv_equivalent():
    import doctest

    import fixedfilters.layers.canny as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
    doc = ff.Canny.__doc__
    assert "cv2.Canny" in doc and "Correlation" in doc and "border" in doc
    assert "SobelMagnitude" in doc and "no gradient" in doc


def test_cv2_refuses_the_apertures_we_refuse():
    img = np.zeros((8, 8), np.uint8)
    for ap in (1, 9, -1):
        with pytest.raises(cv2.error):
            cv2.Canny(img, 1, 2, apertureSize=ap)


def test_thresholds_follow_opencv_rules():
    assert canny_thresholds(150, 50.5) == (50, 150)
    assert canny_thresholds(20.9, 10, 7) == (0, 1)  # /16, then floor
    assert canny_thresholds(40000, 3.5, 3, True) == (12, 32767**2)  # clamp to 32767, square
    assert canny_thresholds(-5, 10, 3, True) == (-5, 100)  # negatives are not squared
