"""Gaussian pyramid steps: ``PyrDown`` and ``PyrUp``, like ``cv2.pyrDown`` / ``cv2.pyrUp``.

Both hold the two 1-D factors of OpenCV's 5x5 pyramid kernel as fixed weights, ``kernel_x`` and
``kernel_y`` of shape ``(1, 5)``, ``[1, 4, 6, 4, 1] / 16`` (the layout of the separable layers).

``cv2.pyrDown`` (any ``ddepth``-preserving depth) correlates with ``outer(k, k)`` and keeps every
second row and column, starting at 0; the border is applied in the source image. ``cv2.pyrUp``
doubles the size: it inserts zeros between the pixels and correlates with ``4 * outer(k, k)``,
the border being ``reflect_101`` *of the doubled image* -- in source terms, reflect_101 at the
start and replicate at the end of each axis (OpenCV's code, reproduced here). What each does with
``dstsize`` other than the default, checked against the installed ``cv2`` for every accepted size
up to 9x9 (and :func:`pyrdown_uint8`/:func:`pyrup_uint8`, OpenCV's integer rounding for uint8):

* ``pyrDown``: ``dstsize=(w, h)`` needs ``|2 w - W| <= 2`` and ``|2 h - H| <= 2``; output pixel
  ``(y, x)`` is centred on source ``(2 y, 2 x)`` through the border, except one quirk of
  OpenCV's right-border table: with an even ``W`` and ``w = W // 2 + 1`` the last column is
  centred on source column ``W - 1`` (not ``W``). Reproduced.
* ``pyrUp``: ``dstsize=(w, h)`` needs ``|w - 2 W| == w % 2`` and ``|h - 2 H| == h % 2``, i.e.
  ``2 W - 1``, ``2 W`` or ``2 W + 1`` (likewise for the height). ``2 W - 1`` crops the last
  column of the ``2 W`` result; ``2 W + 1`` repeats output column ``2 W - 1``, and ``2 H + 1``
  repeats output row ``2 H - 2`` (OpenCV's asymmetry, reproduced). One case differs on purpose:
  a 1-pixel-wide input with ``w = 3`` -- OpenCV leaves that third column uninitialized (its
  values change from run to run); here it repeats column 1, by the same rule.
* ``dstsize=None``, ``(0, 0)`` or any pair with a 0 entry (OpenCV's "empty size") selects the
  default size.
"""

from __future__ import annotations

import numpy as np
from keras import backend, ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.borders import normalize_border
from fixedfilters.layers.base import FixedFilter, check_data_format
from fixedfilters.ops import pad_axis, spatial_axes

__all__ = ["PyrDown", "PyrUp", "pyrdown_uint8", "pyrup_uint8", "PYRDOWN_BORDERS", "PYRUP_BORDERS"]

#: The borders ``cv2.pyrDown`` accepts (OpenCV 5.1 accepts BORDER_WRAP too), default first.
PYRDOWN_BORDERS = ("reflect_101", "reflect", "replicate", "wrap")
#: ``cv2.pyrUp`` accepts only its default border.
PYRUP_BORDERS = ("reflect_101",)

_TAPS = kernels.PYRAMID_TAPS


# -- sizes ---------------------------------------------------------------------------------------
def _check_dstsize(dstsize: object) -> tuple[int, int] | None:
    """``None`` or OpenCV's ``(width, height)``; any pair with a 0 entry means the default."""
    if dstsize is None:
        return None
    text = "None or a (width, height) pair of non-negative integers"
    if isinstance(dstsize, np.ndarray) and dstsize.ndim == 1:
        dstsize = tuple(dstsize.tolist())
    if not isinstance(dstsize, (tuple, list)) or len(dstsize) != 2:
        raise TypeError(f"dstsize must be {text}. Received: dstsize={dstsize!r}")
    if not all(kernels._is_int(v) for v in dstsize):
        raise TypeError(f"dstsize must be {text}. Received: dstsize={dstsize!r}")
    w, h = (int(v) for v in dstsize)
    if w < 0 or h < 0:
        raise ValueError(f"dstsize must be {text}. Received: dstsize={dstsize!r}")
    if w * h == 0:
        return None  # OpenCV: an empty dstsize selects the default size
    return w, h


def pyrdown_size(n: int, d: int | None) -> int:
    """Output length of ``cv2.pyrDown`` along an axis of length ``n`` (``d``: the requested
    length or ``None``); ValueError unless ``|2 d - n| <= 2``."""
    if d is None:
        return (n + 1) // 2
    if abs(2 * d - n) > 2:
        raise ValueError(f"|2 * {d} - {n}| > 2")
    return d


def pyrup_size(n: int, d: int | None) -> int:
    """Output length of ``cv2.pyrUp`` along an axis of length ``n``; ValueError unless
    ``|d - 2 n| == d % 2``."""
    if d is None:
        return 2 * n
    if abs(d - 2 * n) != d % 2:
        raise ValueError(f"|{d} - 2 * {n}| != {d} % 2")
    return d


def _check_border(border: object, allowed: tuple[str, ...], owner: str) -> str:
    name = normalize_border(border)
    if name not in allowed:
        raise ValueError(
            f"{owner} accepts the borders OpenCV allows for it: "
            f"{', '.join(map(repr, allowed))}. Received: border={border!r}"
        )
    return name


# -- index maps (static: NumPy; dynamic: in-graph) -------------------------------------------
def _map_dynamic(i, n, border: str):
    """``cv2.borderInterpolate(i, n, border)`` in-graph (``n`` a scalar tensor)."""
    n = ops.cast(n, "int32")
    if border == "wrap":
        return ops.mod(i, n)
    if border == "replicate":
        return ops.clip(i, 0, n - 1)
    if border == "reflect":
        j = ops.mod(i, 2 * n)
        return ops.where(j >= n, 2 * n - 1 - j, j)
    period = ops.maximum(2 * n - 2, 1)
    j = ops.mod(i, period)
    j = ops.where(j >= n, period - j, j)
    return ops.where(n == 1, ops.zeros_like(j), j)


def _slice(x, axis: int, start, stop):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _gather_axis(x, axis: int, lo: int, length, border: str):
    """Positions ``lo, lo + 1, ..., lo + length - 1`` of ``x`` along ``axis``, through the
    border (``cv2.borderInterpolate``); ``length`` may be a tensor (dynamic sizes)."""
    n = x.shape[axis]
    if n is not None and not hasattr(length, "shape"):
        n, length = int(n), int(length)
        before, after = max(0, -lo), max(0, lo + length - n)
        xp = pad_axis(x, axis, before, after, border)
        if before + lo == 0 and length == before + n + after:
            return xp
        return _slice(xp, axis, before + lo, before + lo + length)
    nn = ops.shape(x)[axis]
    i = ops.arange(lo, lo + length, dtype="int32")
    return ops.take(x, _map_dynamic(i, nn, border), axis=axis)


def _depthwise(x, taps_h, taps_w, data_format: str, stride: int = 1):
    """Valid depthwise correlation with ``outer(taps_h, taps_w)`` (one op: the same bits in an
    eager call and in any graph, where TensorFlow's optimizer would reorder a chain of adds)."""
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    k = ops.reshape(taps_h, (-1, 1)) * ops.reshape(taps_w, (1, -1))
    k = ops.tile(ops.reshape(k, (k.shape[0], k.shape[1], 1, 1)), (1, 1, int(c), 1))
    return ops.depthwise_conv(x, k, strides=stride, padding="valid", data_format=data_format)


def _pyr_down(x, kx, ky, dstsize, border: str, data_format: str):
    """``cv2.pyrDown``: pad to the ``2 d + 3`` positions ``-2 .. 2 d`` of each axis, then one
    5x5 depthwise correlation with stride 2 (the quirk column, if any, from its own window)."""
    h_axis, w_axis = spatial_axes(data_format)
    nh, nw = x.shape[h_axis], x.shape[w_axis]
    dw, dh = dstsize if dstsize is not None else (None, None)
    if dh is None:
        dh = (int(nh) + 1) // 2 if nh is not None else (ops.shape(x)[h_axis] + 1) // 2
    if dw is None:
        dw = (int(nw) + 1) // 2 if nw is not None else (ops.shape(x)[w_axis] + 1) // 2
    xp = _gather_axis(x, h_axis, -2, 2 * dh + 3, border)
    xp = _gather_axis(xp, w_axis, -2, 2 * dw + 3, border)
    out = _depthwise(xp, ky, kx, data_format, stride=2)
    if dstsize is None:
        return out  # default size: never the quirk (checked against cv2)
    # OpenCV's right-border table: with an even width W >= 4 and w = W // 2 + 1, the last
    # column is centred on W - 1 (not W).
    if nw is not None:
        nw = int(nw)
        if nw % 2 or nw < 4 or dw != nw // 2 + 1:
            return out
        window = _gather_axis(x, w_axis, nw - 3, 5, border)
        window = _gather_axis(window, h_axis, -2, 2 * dh + 3, border)
        last = _depthwise(window, ky, kx, data_format, stride=2)
        return ops.concatenate([_slice(out, w_axis, 0, dw - 1), last], axis=w_axis)
    nn = ops.shape(x)[w_axis]
    i = nn - 3 + ops.arange(0, 5, dtype="int32")
    window = ops.take(x, _map_dynamic(i, nn, border), axis=w_axis)
    window = _gather_axis(window, h_axis, -2, 2 * dh + 3, border)
    last = _depthwise(window, ky, kx, data_format, stride=2)
    quirk = ops.logical_and(ops.logical_and(nn % 2 == 0, nn >= 4), dw == nn // 2 + 1)
    last = ops.where(quirk, last, _slice(out, w_axis, dw - 1, dw))
    return ops.concatenate([_slice(out, w_axis, 0, dw - 1), last], axis=w_axis)


def _interleave(even, odd, axis: int):
    """``[e0, o0, e1, o1, ...]`` along ``axis``."""
    z = ops.stack([even, odd], axis=axis + 1)
    static = list(even.shape)
    if all(s is not None for s in static):
        static[axis] = 2 * static[axis]
        return ops.reshape(z, static)
    dyn = ops.shape(even)
    shape = [static[k] if static[k] is not None else dyn[k] for k in range(len(static))]
    shape[axis] = 2 * dyn[axis]
    return ops.reshape(z, shape)


def _up_axis(x, axis: int, d, extra_from: int, taps, data_format: str):
    """One axis of ``cv2.pyrUp``: ``d`` outputs from ``n`` inputs (``d`` in 2n-1, 2n, 2n+1).

    Even outputs ``2 * (t0 x[i-1] + t2 x[i] + t4 x[i+1])``, odd ``2 * (t1 x[i] + t3 x[i+1])``,
    with ``x[-1] = x[1]`` (reflect_101) and ``x[n] = x[n-1]`` (replicate): the reflect_101
    border of the zero-stuffed image. A ``2n + 1``-th output repeats output
    ``2n + extra_from`` (-1: the last column; -2: the row before last).
    """
    n = x.shape[axis]
    one = ops.ones((1,), x.dtype)
    even_taps = 2.0 * ops.stack([taps[0], taps[2], taps[4]])
    odd_taps = 2.0 * ops.stack([taps[1], taps[3]])
    h_axis, _ = spatial_axes(data_format)

    def conv(z, t):
        return (
            _depthwise(z, t, one, data_format)
            if axis == h_axis
            else _depthwise(z, one, t, data_format)
        )

    if n is not None:
        n = int(n)
        first = _slice(x, axis, 1, 2) if n > 1 else x
        xp = ops.concatenate([first, x, _slice(x, axis, n - 1, n)], axis=axis)
    else:
        nn = ops.shape(x)[axis]
        i = ops.arange(-1, nn + 1, dtype="int32")
        i = ops.where(i < 0, ops.minimum(nn - 1, 1), ops.minimum(i, nn - 1))
        xp = ops.take(x, i, axis=axis)
    even = conv(xp, even_taps)
    odd = conv(_slice(xp, axis, 1, None), odd_taps)
    out = _interleave(even, odd, axis)
    if d is None:
        return out
    if n is not None:
        if d < 2 * n:
            return _slice(out, axis, 0, d)
        if d > 2 * n:
            k = 2 * n + extra_from
            return ops.concatenate([out, _slice(out, axis, k, k + 1)], axis=axis)
        return out
    nn2 = ops.shape(out)[axis]
    j = ops.arange(0, d, dtype="int32")
    # position 2n (only when d == 2n + 1) repeats 2n + extra_from
    return ops.take(out, ops.where(j >= nn2, nn2 + extra_from, j), axis=axis)


def _pyr_up(x, kx, ky, dstsize, data_format: str):
    h_axis, w_axis = spatial_axes(data_format)
    dw, dh = dstsize if dstsize is not None else (None, None)
    y = _up_axis(x, w_axis, dw, -1, [kx[j] for j in range(5)], data_format)
    return _up_axis(y, h_axis, dh, -2, [ky[j] for j in range(5)], data_format)


def _assert_sizes_tf(x, dstsize, data_format: str, up: bool):
    """A graph with unknown height/width and a fixed ``dstsize``: check OpenCV's rule at run
    time (a clear message instead of a wrong-shaped result)."""
    import tensorflow as tf

    h_axis, w_axis = spatial_axes(data_format)
    shape = tf.shape(x)
    checks = []
    for axis, d, what in ((w_axis, dstsize[0], "width"), (h_axis, dstsize[1], "height")):
        n = shape[axis]
        if up:
            ok = tf.equal(tf.abs(d - 2 * n), d % 2)
            rule = f"|dstsize {what} - 2 * input {what}| == dstsize {what} % 2"
        else:
            ok = tf.abs(2 * d - n) <= 2
            rule = f"|2 * dstsize {what} - input {what}| <= 2"
        checks.append(
            tf.debugging.Assert(ok, [f"dstsize={tuple(dstsize)} needs {rule}; input {what}:", n])
        )
    with tf.control_dependencies(checks):
        return tf.identity(x)


class _Pyramid(FixedFilter):
    _borders: tuple[str, ...] = ()
    _up = False

    def __init__(
        self,
        dstsize: tuple[int, int] | None = None,
        *,
        border: str = "reflect_101",
        data_format: str | None = None,
        **kwargs,
    ):
        border = _check_border(border, self._borders, type(self).__name__)
        kwargs.pop("border_value", None)  # no constant border: nothing to configure
        super().__init__(border=border, data_format=data_format, **kwargs)
        self.dstsize = _check_dstsize(dstsize)

    def _initial_taps(self) -> dict[str, np.ndarray]:
        return {"kernel_x": _TAPS[None, :].copy(), "kernel_y": _TAPS[None, :].copy()}

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.pyrDown/pyrUp keep the depth; uint8 through OpenCV's integer rounding
        # ((sum + 128) >> 8, (sum + 32) >> 6: pyrdown_uint8 / pyrup_uint8, the standard taps).
        return {"uint8": ("uint8",), "float32": ("float32",), "float64": ("float64",)}.get(
            input_dtype, ()
        )

    @property
    def kernel_x(self):
        """The ``(1, 5)`` horizontal taps (after ``build``)."""
        return self._taps["kernel_x"]

    @property
    def kernel_y(self):
        """The ``(1, 5)`` vertical taps (after ``build``)."""
        return self._taps["kernel_y"]

    def _sizes(self, height, width):
        """Output (height, width) for an input size (``None`` entries stay unknown unless
        ``dstsize`` fixes them); ValueError naming ``dstsize`` if OpenCV would refuse it."""
        rule = pyrup_size if self._up else pyrdown_size
        dw, dh = self.dstsize if self.dstsize is not None else (None, None)
        out = []
        for n, d, what in ((height, dh, "height"), (width, dw, "width")):
            if n is None:
                out.append(d)
                continue
            try:
                out.append(rule(int(n), d))
            except ValueError as err:
                need = (
                    "|w - 2 W| == w % 2 and |h - 2 H| == h % 2"
                    if self._up
                    else "|2 w - W| <= 2 and |2 h - H| <= 2"
                )
                raise ValueError(
                    f"{type(self).__name__}: dstsize=(w, h)={self.dstsize} does not fit an input "
                    f"of height x width {height}x{width} ({what}: {err}); OpenCV requires "
                    f"{need}. Received: dstsize={self.dstsize}"
                ) from None
        return tuple(out)

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        h_axis, w_axis = spatial_axes(self.data_format)
        self._sizes(input_shape[h_axis], input_shape[w_axis])

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = spatial_axes(self.data_format)
        shape[h_axis], shape[w_axis] = self._sizes(shape[h_axis], shape[w_axis])
        return tuple(shape)

    def call(self, inputs):
        if inputs.shape[0] == 0:
            shape = self.compute_output_shape(tuple(inputs.shape))
            if None not in shape:
                return ops.zeros(shape, dtype=self.compute_dtype)
        h_axis, w_axis = spatial_axes(self.data_format)
        if None in (inputs.shape[h_axis], inputs.shape[w_axis]):
            if self.dstsize is not None and backend.backend() == "tensorflow":
                inputs = _assert_sizes_tf(inputs, self.dstsize, self.data_format, self._up)
        else:
            self._sizes(inputs.shape[h_axis], inputs.shape[w_axis])
        return super().call(inputs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("border_value", None)
        config["dstsize"] = list(self.dstsize) if self.dstsize is not None else None
        return config


@register_keras_serializable(package="fixedfilters")
class PyrDown(_Pyramid):
    """Blur with the 5x5 Gaussian and drop every second row and column, like ``cv2.pyrDown``.

    OpenCV equivalent: ``cv2.pyrDown(img, dstsize=dstsize, borderType=...)`` on float32 images
    (each channel independently). Output ``((H + 1) // 2, (W + 1) // 2)`` by default;
    ``dstsize`` is OpenCV's ``(width, height)``, allowed when ``|2 w - W| <= 2`` and
    ``|2 h - H| <= 2`` (a ValueError naming ``dstsize`` otherwise; a graph with unknown height
    or width checks it at run time). Border ``"reflect_101"`` by default; also ``"reflect"``,
    ``"replicate"`` and ``"wrap"``, the borders ``cv2.pyrDown`` accepts (not ``"constant"``).
    Correlation with ``outer(k, k)``, ``k = [1, 4, 6, 4, 1] / 16`` (symmetric: no flip
    question); the taps are the fixed weights ``kernel_x``/``kernel_y`` ``(1, 5)``. See the
    module docstring for OpenCV's exact rules (reproduced). uint8 input is filtered as float32;
    :func:`pyrdown_uint8` gives ``cv2.pyrDown``'s own uint8 bytes.

    Input ``(batch, H, W, C)``; output ``(batch, h, w, C)`` (channels first likewise), 1x1 -> 1x1.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> ff.PyrDown()(x)[0, :, :, 0].numpy().tolist()
    [[3.75, 4.875], [8.25, 9.375]]
    """

    _borders = PYRDOWN_BORDERS

    def _filter_exact(self, x, output_dtype: str):
        return pyrdown_uint8(x, self.dstsize, border=self.border, data_format=self.data_format)

    def _filter(self, x):
        kx = ops.cast(self.kernel_x, x.dtype)[0]
        ky = ops.cast(self.kernel_y, x.dtype)[0]
        return _pyr_down(x, kx, ky, self.dstsize, self.border, self.data_format)


@register_keras_serializable(package="fixedfilters")
class PyrUp(_Pyramid):
    """Double the size (zeros inserted) and blur with 4x the 5x5 Gaussian, like ``cv2.pyrUp``.

    OpenCV equivalent: ``cv2.pyrUp(img, dstsize=dstsize)`` on float32 images (each channel
    independently). Output ``(2 H, 2 W)`` by default; ``dstsize=(w, h)`` (OpenCV's order) is
    allowed when ``|w - 2 W| == w % 2`` and ``|h - 2 H| == h % 2`` (a ValueError naming
    ``dstsize`` otherwise). Border: only ``"reflect_101"`` (``cv2.BORDER_DEFAULT``), the one
    ``cv2.pyrUp`` accepts, applied to the zero-stuffed image as OpenCV does (so the last row and
    column see a replicated pixel). Correlation, taps the fixed weights ``kernel_x``/``kernel_y``
    ``(1, 5)`` = ``[1, 4, 6, 4, 1] / 16``, used polyphase (no multiplication by the inserted
    zeros). :func:`pyrup_uint8` gives ``cv2.pyrUp``'s own uint8 bytes.

    Input ``(batch, H, W, C)``; output ``(batch, h, w, C)`` (channels first likewise).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.array([[0.0, 8.0]], "float32").reshape(1, 1, 2, 1)
    >>> ff.PyrUp()(x)[0, :, :, 0].numpy().tolist()
    [[2.0, 4.0, 7.0, 8.0], [2.0, 4.0, 7.0, 8.0]]
    """

    _borders = PYRUP_BORDERS
    _up = True

    def _filter_exact(self, x, output_dtype: str):
        return pyrup_uint8(x, self.dstsize, data_format=self.data_format)

    def _filter(self, x):
        kx = ops.cast(self.kernel_x, x.dtype)[0]
        ky = ops.cast(self.kernel_y, x.dtype)[0]
        return _pyr_up(x, kx, ky, self.dstsize, self.data_format)


# -- OpenCV's integer results for uint8 ----------------------------------------------------------
def _uint8_input(x, name: str):
    x = ops.convert_to_tensor(x)
    if backend.standardize_dtype(x.dtype) != "uint8":
        raise TypeError(f"{name} takes a uint8 image. Received: input dtype={x.dtype}")
    return ops.cast(x, "float32")


def _integer_taps():
    return [float(t) for t in (_TAPS * 16)]  # 1, 4, 6, 4, 1


def pyrdown_uint8(
    x,
    dstsize: tuple[int, int] | None = None,
    *,
    border: str = "reflect_101",
    data_format: str | None = None,
):
    """``cv2.pyrDown(x, dstsize=dstsize, borderType=...)`` on uint8 images, byte for byte.

    OpenCV sums ``outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) * x`` in integers and returns
    ``(sum + 128) >> 8``; here the sum runs in float32, where every partial sum is an integer
    below 2**24 (exact), then the same rounding. ``x``: a uint8 ``(batch, H, W, C)`` tensor
    (``(batch, C, H, W)`` channels first); returns uint8 of :class:`PyrDown`'s output shape.

    >>> import numpy as np
    >>> x = np.array([[[[1], [2]], [[2], [2]]]], "uint8")
    >>> pyrdown_uint8(x).numpy().ravel().tolist()  # cv2.pyrDown gives 2 (1.9375 -> 2)
    [2]
    """
    border = _check_border(border, PYRDOWN_BORDERS, "pyrdown_uint8")
    data_format = check_data_format(data_format)
    dstsize = _check_dstsize(dstsize)
    xf = _uint8_input(x, "pyrdown_uint8")
    _validate_static(xf, dstsize, data_format, up=False)
    t = ops.convert_to_tensor(_integer_taps(), "float32")
    s = _pyr_down(xf, t, t, dstsize, border, data_format)
    return ops.cast(ops.floor((s + 128.0) / 256.0), "uint8")


def pyrup_uint8(x, dstsize: tuple[int, int] | None = None, *, data_format: str | None = None):
    """``cv2.pyrUp(x, dstsize=dstsize)`` on uint8 images, byte for byte.

    OpenCV sums the polyphase taps (``[1, 6, 1]`` and ``[4, 4]`` per axis) in integers and
    returns ``(sum + 32) >> 6``; here the sum runs in float32 (integers below 2**24: exact),
    then the same rounding. Shapes as :class:`PyrUp`.

    >>> import numpy as np
    >>> pyrup_uint8(np.array([[[[0], [3]]]], "uint8")).numpy()[0, 0, :, 0].tolist()
    [1, 2, 3, 3]
    """
    data_format = check_data_format(data_format)
    dstsize = _check_dstsize(dstsize)
    xf = _uint8_input(x, "pyrup_uint8")
    _validate_static(xf, dstsize, data_format, up=True)
    t = ops.convert_to_tensor([v / 2.0 for v in _integer_taps()], "float32")
    s = _pyr_up(xf, t, t, dstsize, data_format)  # taps doubled there: 1, 6, 1 and 4, 4
    return ops.cast(ops.floor((s + 32.0) / 64.0), "uint8")


def _validate_static(x, dstsize, data_format: str, up: bool) -> None:
    layer = (PyrUp if up else PyrDown)(dstsize, data_format=data_format)
    layer._check_input_shape(tuple(x.shape))
