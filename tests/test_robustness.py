"""Bad values everywhere: every public layer, kernel function and initializer refuses them with
a clear ValueError/TypeError that names the argument and shows what it received -- never a
TensorFlow internal error, never a hang. NaN/inf *pixels* are data, not errors: they propagate,
and how that compares with OpenCV is pinned down below.

Each test runs under a SIGALRM watchdog, so a call that would hang fails instead.
"""

from __future__ import annotations

import json
import math
import re
import signal

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import CASES, cases_with, reference, tolerance
from fixedfilters import initializers as ffi
from fixedfilters import kernels as K

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------
# Watchdog: a hang becomes a TimeoutError (pure-Python loops are interrupted by the signal).
# ---------------------------------------------------------------------------------------------


class Hang(Exception):
    pass


def _alarm(seconds: float):
    def handler(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return old


@pytest.fixture(autouse=True)
def _watchdog():
    old = _alarm(60)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------------
# The sweep table: (call, argument name, bad value). Every public callable appears.
# ---------------------------------------------------------------------------------------------

BAD_TYPES_INT = ["3", None, [3], 3.0, True, NAN, 1j]
BAD_TYPES_REAL = ["1", None, [1.0], True, 1j, b"1"]
BAD_FLOATS = [NAN, INF, -INF]
BAD_BORDERS = ["bogus", None, 3, 7, -1, 1.5, True, ["reflect"], cv2.BORDER_WRAP]
BAD_FORMATS = ["nchw", "channels_middle", 3, True, ["channels_last"], b"channels_last"]
BAD_FLAGS = ["yes", 1, 0, None, 1.0]

# callable(value) for each argument, grouped by what the argument is
SIZE_ARGS = {  # odd aperture sizes of the derivative filters (1..31, -1 = Scharr)
    "Sobel(ksize)": ("ksize", lambda v: ff.Sobel(1, 0, v)),
    "SobelMagnitude(ksize)": ("ksize", lambda v: ff.SobelMagnitude(v)),
    "Laplacian(ksize)": ("ksize", lambda v: ff.Laplacian(v)),
    "edge_stem(ksize)": ("ksize", lambda v: ff.edge_stem(v)),
    "kernels.sobel(ksize)": ("ksize", lambda v: K.sobel(1, 0, v)),
    "kernels.laplacian(ksize)": ("ksize", lambda v: K.laplacian(v)),
    "kernels.laplacian_terms(ksize)": ("ksize", lambda v: K.laplacian_terms(v)),
    "initializers.Sobel(ksize)": ("ksize", lambda v: ffi.Sobel(1, 0, v)),
    "initializers.Laplacian(ksize)": ("ksize", lambda v: ffi.Laplacian(v)),
    "Canny(aperture_size)": ("aperture_size", lambda v: ff.Canny(10, 20, v)),
}
GAUSS_SIZE_ARGS = {  # 0 (derive from sigma) or odd positive, or a (width, height) pair
    "GaussianBlur(ksize)": ("ksize", lambda v: ff.GaussianBlur(v, 1.0)),
    "GaussianBlur(ksize pair)": ("ksize", lambda v: ff.GaussianBlur((3, v), 1.0)),
    "edge_stem(blur_ksize)": ("blur_ksize", lambda v: ff.edge_stem(3, blur_ksize=v, sigma=1.0)),
    "kernels.gaussian(ksize)": ("ksize", lambda v: K.gaussian(v, 1.0)),
    "kernels.gaussian_blur_kernels(ksize)": ("ksize", lambda v: K.gaussian_blur_kernels(v, 1)),
    "initializers.Gaussian(ksize)": ("ksize", lambda v: ffi.Gaussian(v, 1.0)),
}
ORDER_ARGS = {
    "Sobel(dx)": ("dx", lambda v: ff.Sobel(v, 1, 3)),
    "Sobel(dy)": ("dy", lambda v: ff.Sobel(1, v, 3)),
    "Scharr(dx)": ("dx", lambda v: ff.Scharr(v, 0)),
    "Scharr(dy)": ("dy", lambda v: ff.Scharr(0, v)),
    "kernels.sobel(dx)": ("dx", lambda v: K.sobel(v, 1, 3)),
    "kernels.scharr(dy)": ("dy", lambda v: K.scharr(0, v)),
    "initializers.Sobel(dy)": ("dy", lambda v: ffi.Sobel(1, v)),
    "initializers.Scharr(dx)": ("dx", lambda v: ffi.Scharr(v, 0)),
}
REAL_ARGS = {
    "Sobel(scale)": ("scale", lambda v: ff.Sobel(scale=v)),
    "Sobel(delta)": ("delta", lambda v: ff.Sobel(delta=v)),
    "Scharr(scale)": ("scale", lambda v: ff.Scharr(scale=v)),
    "Laplacian(delta)": ("delta", lambda v: ff.Laplacian(delta=v)),
    "Filter2D(delta)": ("delta", lambda v: ff.Filter2D([[1.0]], delta=v)),
    "ConvertScaleAbs(alpha)": ("alpha", lambda v: ff.ConvertScaleAbs(alpha=v)),
    "ConvertScaleAbs(beta)": ("beta", lambda v: ff.ConvertScaleAbs(beta=v)),
    "Sobel(border_value)": ("border_value", lambda v: ff.Sobel(border_value=v)),
    "GaussianBlur(border_value)": (
        "border_value",
        lambda v: ff.GaussianBlur(3, border="constant", border_value=v),
    ),
    "SobelMagnitude(border_value)": ("border_value", lambda v: ff.SobelMagnitude(border_value=v)),
    "Filter2D(border_value)": ("border_value", lambda v: ff.Filter2D([[1.0]], border_value=v)),
    "edge_stem(border_value)": ("border_value", lambda v: ff.edge_stem(border_value=v)),
    "GaussianBlur(sigma_x)": ("sigma_x", lambda v: ff.GaussianBlur(3, v)),
    "GaussianBlur(sigma_y)": ("sigma_y", lambda v: ff.GaussianBlur(3, 1.0, v)),
    "edge_stem(sigma)": ("sigma", lambda v: ff.edge_stem(sigma=v)),
    "kernels.gaussian(sigma)": ("sigma", lambda v: K.gaussian(5, v)),
    "kernels.gaussian_ksize(sigma)": ("sigma", lambda v: K.gaussian_ksize(v)),
    "kernels.gaussian_blur_kernels(sigma_x)": ("sigma_x", lambda v: K.gaussian_blur_kernels(0, v)),
    "kernels.gaussian_blur_kernels(sigma_y)": (
        "sigma_y",
        lambda v: K.gaussian_blur_kernels(3, 1, v),
    ),
    "initializers.Gaussian(sigma_x)": ("sigma_x", lambda v: ffi.Gaussian(3, v)),
    "initializers.Gaussian(sigma_y)": ("sigma_y", lambda v: ffi.Gaussian(3, 1.0, v)),
    "Canny(threshold1)": ("threshold1", lambda v: ff.Canny(v, 20)),
    "Canny(threshold2)": ("threshold2", lambda v: ff.Canny(10, v)),
}
BORDER_ARGS = {
    name: ("border", fn)
    for name, fn in {
        "Sobel(border)": lambda v: ff.Sobel(border=v),
        "Scharr(border)": lambda v: ff.Scharr(border=v),
        "Laplacian(border)": lambda v: ff.Laplacian(border=v),
        "GaussianBlur(border)": lambda v: ff.GaussianBlur(3, border=v),
        "Filter2D(border)": lambda v: ff.Filter2D([[1.0]], border=v),
        "SobelMagnitude(border)": lambda v: ff.SobelMagnitude(border=v),
        "edge_stem(border)": lambda v: ff.edge_stem(border=v),
        "Erode(border)": lambda v: ff.Erode(border=v),
        "Dilate(border)": lambda v: ff.Dilate(3, border=v),
        "MorphologyEx(border)": lambda v: ff.MorphologyEx("open", border=v),
        "BoxFilter(border)": lambda v: ff.BoxFilter(3, border=v),
        "Blur(border)": lambda v: ff.Blur(3, border=v),
        "Gabor(border)": lambda v: ff.Gabor(5, 1.0, 0.0, 4.0, 0.5, border=v),
        "PyrDown(border)": lambda v: ff.PyrDown(border=v),
        "PyrUp(border)": lambda v: ff.PyrUp(border=v),
        "MedianBlur(border)": lambda v: ff.MedianBlur(3, border=v),
    }.items()
}
FORMAT_ARGS = {
    name: ("data_format", fn)
    for name, fn in {
        "Sobel(data_format)": lambda v: ff.Sobel(data_format=v),
        "GaussianBlur(data_format)": lambda v: ff.GaussianBlur(3, data_format=v),
        "Filter2D(data_format)": lambda v: ff.Filter2D([[1.0]], data_format=v),
        "SobelMagnitude(data_format)": lambda v: ff.SobelMagnitude(data_format=v),
        "Laplacian(data_format)": lambda v: ff.Laplacian(data_format=v),
        "edge_stem(data_format)": lambda v: ff.edge_stem(data_format=v),
        "Canny(data_format)": lambda v: ff.Canny(10, 20, data_format=v),
    }.items()
}
FLAG_ARGS = {
    "kernels.sobel(normalize)": ("normalize", lambda v: K.sobel(1, 0, 3, v)),
    "kernels.scharr(normalize)": ("normalize", lambda v: K.scharr(1, 0, v)),
    "kernels.gaussian_ksize(uint8)": ("uint8", lambda v: K.gaussian_ksize(1.0, uint8=v)),
    "initializers.Sobel(depthwise)": ("depthwise", lambda v: ffi.Sobel(depthwise=v)),
    "initializers.Kernel(depthwise)": ("depthwise", lambda v: ffi.Kernel([[1]], depthwise=v)),
    "Canny(l2_gradient)": ("l2_gradient", lambda v: ff.Canny(10, 20, l2_gradient=v)),
}
KERNEL_ARGS = {
    "Filter2D(kernel)": ("kernel", lambda v: ff.Filter2D(v)),
    "initializers.Kernel(kernel)": ("kernel", lambda v: ffi.Kernel(v)),
}
BAD_KERNELS = [
    "abc",
    None,
    5,
    [],
    [[]],
    [1.0, 2.0, 3.0],
    np.ones((2, 2, 2)),
    [[1.0, 2.0], [3.0]],
    [["a", "b"]],
    [[1.0, NAN]],
    [[INF, 0.0]],
    np.zeros((0, 3)),
]
BAD_ANCHORS = [
    (3, 0),
    (0, 3),
    (-2, 0),
    (0, -2),
    (-1, 3),  # -1 is that axis's centre (as cv2.filter2D); the other entry is outside
    (10**9, 0),
    (1.0, 0),
    (1, None),
    (True, 0),
    "c",
    (0,),
    (0, 0, 0),
    5,
]


def _cases():
    """(id, argument, value, call) for the whole sweep."""
    out = []

    def add(table, values):
        for name, (arg, fn) in table.items():
            for v in values:
                out.append(pytest.param(arg, v, fn, id=f"{name}={v!r}"[:80]))

    add(SIZE_ARGS, BAD_TYPES_INT + [0, 2, 4, -3, -2, 33, 35, 10**9, 10**9 + 1, -(10**9)])
    add(GAUSS_SIZE_ARGS, BAD_TYPES_INT + [2, 4, -1, -3, 10**9, -(10**9)])
    add(ORDER_ARGS, BAD_TYPES_INT + [-1, 10**9])
    add(REAL_ARGS, BAD_TYPES_REAL + BAD_FLOATS)
    add(BORDER_ARGS, BAD_BORDERS)
    add(FORMAT_ARGS, BAD_FORMATS)
    add(FLAG_ARGS, BAD_FLAGS)
    add(KERNEL_ARGS, BAD_KERNELS)
    add(
        {"Filter2D(anchor)": ("anchor", lambda v: ff.Filter2D(np.ones((3, 3)), anchor=v))},
        BAD_ANCHORS,
    )
    return out


def _shown(value) -> list[str]:
    """Ways a message may show the value it received."""
    shown = [repr(value), str(value)]
    if isinstance(value, (tuple, list)):
        shown.append(repr(tuple(value)))
    if isinstance(value, np.ndarray) or isinstance(value, list):
        try:
            shown.append(str(np.array(value, dtype=object).shape))
            shown.append(str(np.asarray(value, dtype=float).shape))
        except (ValueError, TypeError):
            pass
    return shown


def _names(arg: str, message: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(arg)}(?![\w])", message) is not None


SWEEP = [pytest.param(*p.values, id=p.id) for p in _cases()]


@pytest.mark.parametrize("arg, value, make", SWEEP)
def test_bad_argument_is_refused_clearly(arg, value, make):
    with pytest.raises((ValueError, TypeError)) as info:
        make(value)
    message = str(info.value)
    assert _names(arg, message), f"message does not name {arg!r}: {message}"
    assert any(s in message for s in _shown(value)), f"value {value!r} not shown: {message}"


def test_sweep_covers_every_public_callable():
    """A new public layer / kernel function / initializer must join the sweep above."""
    covered = set()
    for table in (
        SIZE_ARGS,
        GAUSS_SIZE_ARGS,
        ORDER_ARGS,
        REAL_ARGS,
        BORDER_ARGS,
        FORMAT_ARGS,
        FLAG_ARGS,
        KERNEL_ARGS,
    ):
        covered |= {name.split("(")[0] for name in table}
    covered |= {"Filter2D", "FilterBank"}  # anchor sweep; FilterBank below
    layers = {
        n
        for n in ff.__all__
        if isinstance(getattr(ff, n), type) and issubclass(getattr(ff, n), keras.layers.Layer)
    }
    layers = (layers - {"FixedLayer", "FixedFilter"}) | {"edge_stem"}
    public = (
        layers
        | {f"kernels.{n}" for n in K.__all__ if callable(getattr(K, n))}
        | {f"initializers.{n}" for n in ffi.__all__ if n != "FilterInitializer"}
    )
    # Scharr/SobelMagnitude take no size/format of their own beyond what is listed;
    # initializers.Laplacian/Gaussian/Kernel are in the size/real/kernel tables.
    missing = sorted(public - covered)
    assert not missing, f"not in the robustness sweep: {missing}"


# Huge Gaussian sizes: OpenCV has no upper limit for GaussianBlur; the library caps a size at
# kernels.MAX_GAUSSIAN_KSIZE so that 10**9 + 1 (or a huge sigma with ksize 0) is a clear
# ValueError instead of a billion taps built in Python.


@pytest.mark.parametrize(
    "make",
    [
        lambda: ff.GaussianBlur(10**9 + 1),
        lambda: ff.GaussianBlur((3, 10**9 + 1), 1.0),
        lambda: ff.GaussianBlur(0, 1e8),
        lambda: ff.edge_stem(blur_ksize=10**9 + 1),
        lambda: K.gaussian(10**9 + 1, 0.0),
        lambda: K.gaussian_blur_kernels(0, 1e8),
        lambda: ffi.Gaussian(10**9 + 1),
    ],
    ids=["layer", "layer-pair", "layer-sigma", "edge_stem", "gaussian", "blur_kernels", "init"],
)
def test_huge_gaussian_is_refused_quickly(make):
    old = _alarm(1.0)
    try:
        with pytest.raises(ValueError, match="ksize|sigma"):
            make()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 60)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    "filters",
    [None, "sobel", 3, ff.Sobel(), [], [1], [keras.layers.Dense(2)], [ff.Sobel(), "x"]],
    ids=repr,
)
def test_filter_bank_refuses_bad_filters(filters):
    with pytest.raises((ValueError, TypeError), match=r"filters"):
        ff.FilterBank(filters)


def test_filter_bank_refuses_mixed_data_formats():
    with pytest.raises(ValueError, match="data_format"):
        ff.FilterBank([ff.Sobel(), ff.Sobel(data_format="channels_first")])


def test_valid_edge_values_are_accepted():
    """The other side of the sweep: unusual but valid values work (no over-eager refusal)."""
    x = np.arange(30, dtype=np.float32).reshape(1, 5, 6, 1)
    for layer in [
        ff.Sobel(1, 0, 31),
        ff.Sobel(np.int64(2), np.int32(0), np.int8(5), scale=np.float32(0.5)),
        ff.Sobel(border=cv2.BORDER_REPLICATE),
        ff.Sobel(border="BORDER_DEFAULT", data_format="CHANNELS_LAST"),
        ff.Laplacian(31, delta=-1e30),
        ff.GaussianBlur(33, 0.0),  # OpenCV has no size limit for Gaussians; 33 is fine
        ff.GaussianBlur([5, 3], -1.0, 0.0),  # sigma <= 0: from the size, as OpenCV
        ff.Filter2D([[1, 2], [3, 4]], anchor=[1, 0]),
        ff.Filter2D(np.ones((1, 1), np.int64), anchor=(-1, -1)),
        ff.Filter2D([[0.0]]),
        ff.Sobel(border="constant", border_value=-5.0),
        ff.Sobel(border="constant", border_value=-1e30),
    ]:
        out = keras.ops.convert_to_numpy(layer(x))
        assert out.shape == x.shape


def test_gaussian_ksize_as_numpy_pair():
    layer = ff.GaussianBlur(np.array([3, 5]), 0.0)
    assert layer.get_config()["ksize"] == [3, 5]
    init = ffi.Gaussian(np.array([3, 5]))
    json.dumps(keras.saving.serialize_keras_object(init))


def test_negative_border_value_matches_numpy_pad(rng):
    """border_value=-5 is a pixel value like any other: numpy.pad(constant_values=-5) + cv2."""
    x = rng.uniform(0, 255, (2, 9, 7, 2)).astype(np.float32)
    for case in cases_with("constant")[::3]:
        layer = case.make(border="constant", border_value=-5.0)
        got = keras.ops.convert_to_numpy(layer(x))
        want = reference(case, x, "constant", -5.0)
        assert np.max(np.abs(got - want)) <= tolerance(case, x), case.id
    stem = ff.edge_stem(border="constant", border_value=-5.0)
    got = keras.ops.convert_to_numpy(stem(x[:, :, :, :1]))
    plane = np.pad(x[0, :, :, 0], 8, constant_values=-5.0)
    blur = cv2.GaussianBlur(plane, (3, 3), 0, borderType=cv2.BORDER_REPLICATE)
    # edge_stem re-pads the blurred image with -5, so rebuild the second stage the same way
    blur = np.pad(blur[8:-8, 8:-8], 8, constant_values=-5.0)
    gx = cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)[8:-8, 8:-8]
    assert np.max(np.abs(got[0, :, :, 0] - gx)) <= 1e-5 * 8 * 255


# ---------------------------------------------------------------------------------------------
# Bad inputs at call time
# ---------------------------------------------------------------------------------------------


def _layers():
    return {
        "Sobel": ff.Sobel(),
        "Scharr": ff.Scharr(),
        "Laplacian": ff.Laplacian(3),
        "GaussianBlur": ff.GaussianBlur(5),
        "Filter2D": ff.Filter2D([[1, 2], [3, 4]]),
        "SobelMagnitude": ff.SobelMagnitude(),
        "FilterBank": ff.FilterBank([ff.Sobel(), ff.GaussianBlur(3)]),
        "edge_stem": ff.edge_stem(),
    }


LAYER_NAMES = list(_layers())

BAD_SHAPES = {
    "0xN": ((1, 0, 5, 1), "non-empty"),
    "Nx0": ((1, 5, 0, 1), "non-empty"),
    "0x0": ((2, 0, 0, 3), "non-empty"),
    "no-channels": ((1, 5, 5, 0), "non-empty"),
    "rank2": ((5, 5), "4-D"),
    "rank3": ((5, 5, 1), "4-D"),
    "rank5": ((1, 2, 5, 5, 1), "4-D"),
}


@pytest.mark.parametrize("shape_id", list(BAD_SHAPES))
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_bad_input_shape_is_a_clear_value_error(name, shape_id):
    shape, words = BAD_SHAPES[shape_id]
    layer = _layers()[name]
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, np.float32))
    message = str(info.value)
    assert words in message and "shape" in message and str(shape) in message, message


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_non_tensor_inputs_are_refused(name):
    for bad in (None, "image", 3, [[[[1.0]]]]):
        with pytest.raises((ValueError, TypeError)):
            _layers()[name](bad)


# (edge_stem is a keras.Sequential: Keras casts its input to float32 before any fixed layer
# sees it, so a string image fails in Keras's own cast and a complex one loses its imaginary
# part there -- outside this library's reach.)
@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n != "edge_stem"])
def test_string_and_complex_images_are_a_type_error(name):
    for bad in (np.full((1, 4, 4, 1), "a"), np.ones((1, 4, 4, 1), np.complex64)):
        with pytest.raises(TypeError, match="dtype"):
            _layers()[name](bad)


def test_other_numeric_dtypes_are_cast(rng):
    x = rng.integers(0, 200, (1, 6, 5, 1))
    want = keras.ops.convert_to_numpy(ff.Sobel()(x.astype(np.float32)))
    for dtype in (np.uint8, np.int16, np.int32, np.int64, np.float16, np.float64, np.uint16):
        out = keras.ops.convert_to_numpy(ff.Sobel()(x.astype(dtype)))
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_empty_batch_gives_an_empty_batch(name):
    """Nothing to filter: (0, H, W, C) in, (0, H, W, C') out (OpenCV is never called at all)."""
    layer = _layers()[name]
    x = np.zeros((0, 7, 6, 2), np.float32)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.shape == tuple(layer.compute_output_shape(x.shape))
    assert out.dtype == np.float32


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a TensorFlow graph")
@pytest.mark.parametrize("border", ["reflect_101", "wrap", "constant"])
def test_empty_image_in_a_dynamic_graph_names_the_problem(border):
    import tensorflow as tf

    layer = ff.Sobel(border=border)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)])
    for shape in [(1, 0, 5, 1), (1, 5, 0, 1)]:
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-empty image"):
            fn(np.zeros(shape, np.float32))


# ---------------------------------------------------------------------------------------------
# NaN / inf pixels
# ---------------------------------------------------------------------------------------------


def _classes(a):
    """0 finite, 1 NaN, 2 +inf, 3 -inf."""
    return np.select([np.isnan(a), np.isposinf(a), np.isneginf(a)], [1, 2, 3], 0)


def _nonfinite_image(rng, h=24, w=26):
    img = rng.uniform(-50, 255, (1, h, w, 1)).astype(np.float32)
    img[0, 5, 6, 0] = np.nan
    img[0, 16, 17, 0] = np.inf
    img[0, 18, 8, 0] = -np.inf
    return img


def _zero_free(layer) -> bool:
    """A single term with no zero tap: OpenCV and a convolution then touch the same pixels."""
    if isinstance(layer, ff.SobelMagnitude):
        return False
    taps = layer.get_weights()  # Filter2D: (kh, kw); separable: (terms, kw), (terms, kh)
    single = isinstance(layer, ff.Filter2D) or taps[0].shape[0] == 1
    return single and all(np.all(t != 0) for t in taps)


_NAN_CASES = [
    (c, b)
    for c in cases_with(linear=True)
    if c.opencv_nan_local
    for b in ("reflect_101", "replicate", "constant", "wrap")
    if b in c.borders
]


@pytest.mark.parametrize("case,border", _NAN_CASES, ids=[f"{c.id}-{b}" for c, b in _NAN_CASES])
def test_nan_and_inf_pixels_propagate_like_opencv(case, border, rng):
    """What OpenCV does with a NaN, a +inf and a -inf pixel, and what we do.

    * Every pixel OpenCV makes non-finite is non-finite here too, and (linear filters) every
      NaN of OpenCV's is a NaN here.
    * Every pixel both make finite agrees within the parity tolerance: non-finite inputs do not
      leak into pixels whose window does not contain them.
    * Kernels without zero taps (Gaussians, most Filter2D, Sobel with ksize >= 5 in the smoothed
      direction...): NaN, +inf and -inf land on exactly the same pixels as in OpenCV.
    * Kernels with zero taps differ, by design of the two implementations: OpenCV drops zero
      coefficients before filtering (and pairs symmetric taps), so a NaN/inf under a zero tap
      never reaches the sum; a convolution computes 0 * NaN = NaN and 0 * inf = NaN. So here
      those pixels are NaN where OpenCV is finite (e.g. the centre column of a 3x3 Sobel-x), and
      a Laplacian/magnitude pixel OpenCV makes +-inf may be NaN here. (cv2.magnitude itself
      returns NaN for (inf, inf) on its vector path, where sqrt(inf**2 + inf**2) = inf here.)
    """
    img = _nonfinite_image(rng)
    layer = case.make(border=border, border_value=0.0)
    got = keras.ops.convert_to_numpy(layer(img))
    want = reference(case, img, border)
    g, w = _classes(got), _classes(want)
    assert np.all(g[w != 0] != 0), "OpenCV non-finite, ours finite"
    if not case.id.startswith("magnitude"):
        assert np.all(g[w == 1] == 1), "OpenCV NaN, ours not NaN"
    both = (g == 0) & (w == 0)
    if both.any():
        err = np.max(np.abs(got[both] - want[both]))
        assert err <= tolerance(case, img[np.isfinite(img)])
    if _zero_free(layer):
        np.testing.assert_array_equal(g, w)
    # locality: far from the three bad pixels everything is finite
    r = case.radius
    if r <= 4 and border != "wrap" and case.same_shape:
        near = np.zeros(img.shape, bool)
        for y, x in [(5, 6), (16, 17), (18, 8)]:
            near[0, max(0, y - 2 * r) : y + 2 * r + 1, max(0, x - 2 * r) : x + 2 * r + 1, 0] = 1
        assert np.all(g[~near] == 0)


def test_nan_sigma_scale_border_value_never_reach_the_taps():
    """NaN/inf in the *configuration* are refused at construction (see the sweep), so a layer
    that exists always has finite taps."""
    for case in CASES:
        layer = case.make(border=case.pick_border("constant"), border_value=-5.0)
        layer.build((None, 8, 8, 1))
        assert all(np.all(np.isfinite(keras.ops.convert_to_numpy(w))) for w in layer.weights)
        assert math.isfinite(layer.border_value)
