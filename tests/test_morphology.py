"""Erode, Dilate, MorphologyEx and structuring elements against cv2 itself (exact equality)."""

from __future__ import annotations

import doctest
import itertools

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
import fixedfilters.layers.morphology as morph_module
import fixedfilters.structuring as structuring_module
from fixedfilters.layers.morphology import MORPH_OPS
from fixedfilters.structuring import rectangles, structuring_element

CV_BORDER = {"constant": 0, "replicate": 1, "reflect": 2, "reflect_101": 4}
FLT_MAX = float(np.finfo(np.float32).max)


def _image(rng, shape, dtype):
    if dtype == "uint8":
        return rng.integers(0, 256, size=shape).astype(np.uint8)
    return (rng.standard_normal(shape) * 50).astype(np.float32)


def _cv_plane(p, op, element, anchor, iterations, border, border_value):
    """cv2 on one plane; "wrap" (refused by OpenCV) as numpy.pad(wrap) before each stage."""
    kw = dict(anchor=anchor, iterations=iterations)
    if border != "wrap":
        kw["borderType"] = CV_BORDER[border]
        if border == "constant" and border_value is not None:
            kw["borderValue"] = border_value
        return cv2.morphologyEx(p, MORPH_OPS[op], element, **kw)

    kh0, kw0 = element.shape
    anchor = (
        kw0 // 2 if anchor[0] == -1 else anchor[0],
        kh0 // 2 if anchor[1] == -1 else anchor[1],
    )

    def stage(q, code):
        # a full rectangle with iterations is one enlarged rectangle, like OpenCV's
        k, a, reps = element, anchor, iterations
        if iterations > 1 and element.all():
            kh, kw_ = element.shape
            k = np.ones(((kh - 1) * iterations + 1, (kw_ - 1) * iterations + 1), np.uint8)
            a, reps = (anchor[0] * iterations, anchor[1] * iterations), 1
        for _ in range(reps):
            r = max(k.shape)
            padded = np.pad(q, r, mode="wrap")
            q = cv2.morphologyEx(padded, code, k, anchor=a, borderType=cv2.BORDER_REPLICATE)
            q = q[r:-r, r:-r]
        return q

    e, d = (lambda q: stage(q, 0)), (lambda q: stage(q, 1))
    p32 = p.astype(np.float32)
    out = {
        "erode": lambda: e(p),
        "dilate": lambda: d(p),
        "open": lambda: d(e(p)),
        "close": lambda: e(d(p)),
        "gradient": lambda: d(p32) - e(p32),
        "tophat": lambda: p32 - d(e(p32)),
        "blackhat": lambda: e(d(p32)) - p32,
    }[op]()
    return out if p.dtype != np.uint8 else np.clip(out, 0, 255).astype(np.uint8)


def _reference(img, op, element, anchor=(-1, -1), iterations=1, border="constant", value=None):
    out = np.empty(img.shape, img.dtype)
    for b in range(img.shape[0]):
        for c in range(img.shape[3]):
            p = np.ascontiguousarray(img[b, :, :, c])
            out[b, :, :, c] = _cv_plane(p, op, element, anchor, iterations, border, value)
    return out


def _ours(layer, img):
    got = np.asarray(layer(img))
    assert got.dtype == np.float32 and got.shape == img.shape
    if img.dtype == np.uint8:  # the uint8 result: the exact float result, saturated
        return np.clip(got, 0, 255).astype(np.uint8)
    return got


# -- structuring elements ------------------------------------------------------------------------
def test_structuring_element_equals_cv2():
    for w, h in itertools.product(range(1, 14), range(1, 14)):
        for name, code in [("rect", 0), ("cross", 1), ("ellipse", 2)]:
            for anchor in [None, (0, 0), (w - 1, h // 3)]:
                want = cv2.getStructuringElement(code, (w, h), anchor or (-1, -1))
                got = structuring_element(name, (w, h), anchor)
                assert got.dtype == np.uint8
                np.testing.assert_array_equal(got, want, err_msg=f"{name} {w}x{h} {anchor}")
                cover = np.zeros_like(got)
                for r0, r1, c0, c1 in rectangles(got):
                    assert got[r0:r1, c0:c1].all()
                    cover[r0:r1, c0:c1] = 1
                np.testing.assert_array_equal(cover, got)
    assert (
        structuring_element(cv2.MORPH_ELLIPSE, (31, 31)).sum()
        == cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31)).sum()
    )


def test_docstring_examples():
    for module in (morph_module, structuring_module):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


# -- parity, plain path (small images) -----------------------------------------------------------
ELEMENTS = [
    ("rect", 1, None),
    ("rect", 3, None),
    ("rect", (2, 3), (0, 0)),  # even width, corner anchor
    ("cross", 3, None),
    ("cross", (4, 5), (1, 3)),
    ("ellipse", 5, None),
    ("ellipse", (7, 4), (6, 0)),
]
BORDERS = [
    ("constant", None),
    ("constant", 7.0),
    ("replicate", None),
    ("reflect", None),
    ("reflect_101", None),
    ("wrap", None),
]
SIZES = [(1, 1), (1, 7), (6, 1), (2, 3), (9, 13)]


@pytest.mark.parametrize("op", list(MORPH_OPS))
def test_parity_ops_elements_borders_sizes(op, rng):
    combos = list(itertools.product(ELEMENTS, BORDERS, [1, 2, 3]))
    for i, ((shape, ksize, anchor), (border, value), iterations) in enumerate(combos):
        if (i % 3 != 0 and iterations == 3) or (op not in ("erode", "dilate") and i % 2):
            continue  # a subsample keeps the test cheap; every element/border still appears
        element = structuring_element(shape, ksize, anchor)
        layer = ff.MorphologyEx(
            op,
            ksize,
            shape=shape,
            anchor=anchor,
            iterations=iterations,
            border=border,
            border_value=value,
        )
        cv_anchor = (-1, -1) if anchor is None else anchor
        h, w = SIZES[i % len(SIZES)]
        dtype = "uint8" if i % 2 else "float32"
        img = _image(rng, (2, h, w, 1 + (i % 3 == 1) * 2 + (i % 5 == 4) * 3), dtype)
        want = _reference(img, op, element, cv_anchor, iterations, border, value)
        got = _ours(layer, img)
        np.testing.assert_array_equal(
            got, want, err_msg=f"{op} {shape} {ksize} {anchor} it={iterations} {border} {value}"
        )


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_hwc_images_and_layer_classes(channels, dtype, rng):
    img = _image(rng, (2, 11, 8, channels), dtype)
    el = structuring_element("ellipse", (5, 3))
    for layer, cv in [
        (ff.Erode((5, 3), shape="ellipse"), lambda p: cv2.erode(p, el)),
        (
            ff.Dilate((5, 3), shape="ellipse", iterations=2),
            lambda p: cv2.dilate(p, el, iterations=2),
        ),
        (ff.Erode(kernel=el, border="replicate"), lambda p: cv2.erode(p, el, borderType=1)),
    ]:
        want = np.stack([cv(im).reshape(im.shape) for im in img])  # cv2 on whole HWC images
        np.testing.assert_array_equal(_ours(layer, img), want)


def test_iterations_on_a_rectangle_enlarge_it_like_opencv(rng):
    """OpenCV does not repeat a full rectangle: it erodes once with (k-1)*n+1; near a
    reflect border with an off-centre anchor the two differ, and the layer follows OpenCV."""
    img = _image(rng, (1, 9, 10, 1), "float32")
    p = img[0, :, :, 0]
    k = np.ones((3, 3), np.uint8)
    once = cv2.erode(p, k, anchor=(0, 0), iterations=3, borderType=cv2.BORDER_REFLECT_101)
    repeated = p
    for _ in range(3):
        repeated = cv2.erode(repeated, k, anchor=(0, 0), borderType=cv2.BORDER_REFLECT_101)
    assert not np.array_equal(once, repeated)  # the distinction is real
    layer = ff.Erode(3, anchor=(0, 0), iterations=3, border="reflect_101")
    got = np.asarray(layer(img))[0, :, :, 0]
    np.testing.assert_array_equal(got, once)


# -- OpenCV's default border ---------------------------------------------------------------------
def test_default_border_never_wins_and_is_flt_max_for_float():
    x = np.full((1, 3, 3, 1), np.inf, np.float32)
    got = np.asarray(ff.Erode(3)(x))[0, :, :, 0]
    np.testing.assert_array_equal(got, cv2.erode(x[0, :, :, 0], np.ones((3, 3), np.uint8)))
    assert got[0, 0] == FLT_MAX and got[1, 1] == np.inf
    got = np.asarray(ff.Dilate(3)(-x))[0, :, :, 0]
    assert got[0, 0] == -FLT_MAX


def test_default_and_constant_border_values_follow_the_uint8_depth(rng):
    """An element that misses its anchor reads only border pixels near the edge: 255/0 for
    uint8, and a border_value is rounded and saturated to uint8 first (OpenCV's saturate_cast)."""
    img = _image(rng, (1, 5, 6, 1), "uint8")
    p = img[0, :, :, 0]
    k = np.array([[1, 0, 0]], np.uint8)
    for value in (None, 300.0, -5.0, 3.5, 4.5):
        for op, cls in (("erode", ff.Erode), ("dilate", ff.Dilate)):
            layer = cls(kernel=k, anchor=(2, 0), border_value=value)
            kw = {} if value is None else {"borderValue": value}
            want = cv2.morphologyEx(p, MORPH_OPS[op], k, anchor=(2, 0), **kw)
            np.testing.assert_array_equal(_ours(layer, img)[0, :, :, 0], want, f"{op} {value}")


# -- the XLA path (static shapes above STENCIL_MIN_ELEMENTS), tf.function, weights --------------
@pytest.mark.parametrize(
    "op,shape,ksize,iterations,border",
    [
        ("erode", "rect", 15, 1, "reflect"),
        ("open", "ellipse", 5, 2, "replicate"),
        ("blackhat", "cross", (3, 5), 1, "constant"),
    ],
)
def test_compiled_path_and_set_weights(op, shape, ksize, iterations, border, rng):
    import tensorflow as tf

    img = _image(rng, (2, 40, 37, 3), "float32")
    layer = ff.MorphologyEx(op, ksize, shape=shape, iterations=iterations, border=border)
    want = _reference(img, op, structuring_element(shape, ksize), (-1, -1), iterations, border)
    np.testing.assert_array_equal(np.asarray(layer(img)), want)
    graph = tf.function(layer)
    np.testing.assert_array_equal(graph(tf.constant(img)).numpy(), want)
    # the output follows the weight: another element, then a full rectangle (enlarged)
    (w,) = layer.get_weights()
    other = np.zeros_like(w)
    other[0, :] = 1
    other[w.shape[0] // 2, w.shape[1] // 2] = 1
    for new in (other, np.ones_like(w)):
        layer.set_weights([new])
        el = new.astype(np.uint8)
        want = _reference(img, op, el, (w.shape[1] // 2, w.shape[0] // 2), iterations, border)
        np.testing.assert_array_equal(np.asarray(layer(img)), want)
        np.testing.assert_array_equal(graph(tf.constant(img)).numpy(), want)


def test_keras_file_round_trip_keeps_changed_element(tmp_path, rng):
    model = keras.Sequential(
        [
            keras.Input((12, 10, 2)),
            ff.Erode(kernel=[[0, 1], [1, 1]], anchor=(1, 0), border="reflect"),
            ff.MorphologyEx("tophat", (5, 3), shape="ellipse", iterations=2),
            ff.Dilate(3, shape="cross", border_value=-1.5),
        ]
    )
    model.layers[1].set_weights([np.eye(3, 5, dtype=np.float32)])
    x = _image(rng, (2, 12, 10, 2), "float32")
    want = np.asarray(model(x))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), want)
    assert [type(layer) for layer in loaded.layers] == [ff.Erode, ff.MorphologyEx, ff.Dilate]
    for layer in loaded.layers:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    report = ff.weight_report(loaded)
    assert report is not None and all(not w.trainable for w in loaded.weights)


def test_savedmodel_with_dynamic_size(tmp_path, rng):
    import tensorflow as tf

    layer = ff.MorphologyEx("close", 3, shape="ellipse", border="reflect")
    inp = keras.Input((None, None, 1))
    model = keras.Model(inp, layer(inp))
    path = str(tmp_path / "sm")
    model.export(path, verbose=False)
    served = tf.saved_model.load(path)
    for h, w in [(1, 1), (7, 5), (33, 40)]:
        x = _image(rng, (1, h, w, 1), "float32")
        want = _reference(x, "close", structuring_element("ellipse", 3), border="reflect")
        np.testing.assert_array_equal(served.serve(tf.constant(x)).numpy(), want)


# -- gradients, NaN ------------------------------------------------------------------------------
def test_gradient_is_the_min_max_subgradient(rng):
    import tensorflow as tf

    x = rng.permutation(7 * 8).reshape(1, 7, 8, 1).astype(np.float32)  # distinct values
    upstream = rng.standard_normal((1, 7, 8, 1)).astype(np.float32)
    el = structuring_element("cross", 3)
    for layer, pick in ((ff.Erode(3, shape="cross", border="reflect"), np.argmin),):
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = tf.reduce_sum(layer(xt) * upstream)
        got = tape.gradient(y, xt).numpy()[0, :, :, 0]
        # independent reference: each output's upstream goes to its window's arg-min pixel
        want = np.zeros((7, 8))
        for i, j in itertools.product(range(7), range(8)):
            pos = [
                (min(max(i + r - 1, -(i + r - 1)), 2 * 6 - (i + r - 1)) if True else 0, 0)
                for r in range(0)
            ]
            del pos
            cells = []
            for r, c in zip(*np.nonzero(el), strict=True):
                ii, jj = i + r - 1, j + c - 1
                ii = -ii - 1 if ii < 0 else (2 * 7 - ii - 1 if ii >= 7 else ii)  # reflect
                jj = -jj - 1 if jj < 0 else (2 * 8 - jj - 1 if jj >= 8 else jj)
                cells.append((ii, jj))
            k = pick([x[0, a, b, 0] for a, b in cells])
            want[cells[k]] += upstream[0, i, j, 0]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_nan_behaviour_is_documented():
    """OpenCV's NaN handling depends on operand order (SIMD min/max): the NaN mostly vanishes.
    Ours is not specified either; every window without a NaN agrees with OpenCV exactly."""
    img = np.random.default_rng(3).random((1, 12, 13, 1)).astype(np.float32)
    img[0, 6, 6, 0] = np.nan
    k = np.ones((3, 3), np.uint8)
    want = cv2.erode(img[0, :, :, 0], k)
    assert np.isnan(want).sum() < 9  # OpenCV does not propagate a NaN to its whole window
    got = np.asarray(ff.Erode(3)(img))[0, :, :, 0]
    window = np.zeros((12, 13), bool)
    window[5:8, 5:8] = True
    np.testing.assert_array_equal(got[~window], want[~window])


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,error,text",
    [
        (dict(ksize=3, kernel=np.ones((3, 3))), ValueError, "not both"),
        (dict(shape="cross", kernel=np.ones((3, 3))), ValueError, "not both"),
        (dict(ksize=0), ValueError, "ksize=0"),
        (dict(ksize=(3, 3, 3)), ValueError, "ksize=(3, 3, 3)"),
        (dict(ksize=2.5), TypeError, "ksize=2.5"),
        (dict(shape="disk"), ValueError, "shape='disk'"),
        (dict(kernel=[[0, 2, 0]]), ValueError, "only 0 and 1"),
        (dict(kernel=np.zeros((3, 3))), ValueError, "at least one 1"),
        (dict(kernel=[1, 1]), ValueError, "2-D"),
        (dict(anchor=(3, 0)), ValueError, "anchor=(3, 0)"),
        (dict(anchor=(1.0, 1)), TypeError, "anchor"),
        (dict(iterations=-1), ValueError, "iterations=-1"),
        (dict(border="nope"), ValueError, "border='nope'"),
        (dict(border_value=float("nan")), ValueError, "border_value=nan"),
        (dict(trainable=True), ValueError, "trainable=True"),
    ],
)
def test_bad_arguments_are_refused_clearly(kwargs, error, text):
    with pytest.raises(error, match="Received") as info:
        ff.Erode(**kwargs)
    assert text in str(info.value)


def test_bad_op_and_hitmiss():
    with pytest.raises(ValueError, match="op='median'"):
        ff.MorphologyEx("median")
    with pytest.raises(ValueError, match="hitmiss"):
        ff.MorphologyEx("hitmiss")
    assert ff.MorphologyEx(cv2.MORPH_TOPHAT).op == "tophat"


def test_iterations_zero_and_1x1_are_the_identity(rng):
    img = _image(rng, (1, 6, 5, 2), "float32")
    for layer in (ff.MorphologyEx("open", 5, iterations=0), ff.Dilate(1, border="reflect")):
        np.testing.assert_array_equal(np.asarray(layer(img)), img)
    assert np.all(np.asarray(ff.MorphologyEx("gradient", iterations=0)(img)) == 0)


@pytest.mark.parametrize("op", ["erode", "tophat", "blackhat", "gradient"])
def test_output_dtype_is_opencvs_own_depth(op):
    """output_dtype = the input depth: cv2.morphologyEx's bytes (saturating subtractions)."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (2, 11, 9, 3)).astype(np.uint8)
    layer = ff.MorphologyEx(op, 5, shape="ellipse", output_dtype="uint8")
    got = np.asarray(layer(x))
    assert got.dtype == np.uint8
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    code = getattr(cv2, f"MORPH_{op.upper()}")
    want = np.stack([cv2.morphologyEx(im, code, element) for im in x])
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="output_dtype"):
        ff.Erode(3, output_dtype="int16")(x)
