"""Box filters: ``BoxFilter`` (``cv2.boxFilter``) and ``Blur`` (``cv2.blur``), plus
:func:`box_uint8`, OpenCV's own uint8 result.

Weights: ``kernel_x`` ``(1, kw)`` and ``kernel_y`` ``(1, kh)``, all ones (the row and column sums
of OpenCV's box filter); ``normalize`` is the configuration ``scale = 1 / (kw * kh)``, applied
after the sums, as OpenCV does.

Cost does not grow with the kernel area. With a static height and width (TensorFlow or JAX) the
layer runs one XLA-compiled computation: the border strips, then along each axis a window sum
by doubling (sums of 2, 4, 8, ... neighbours, combined by the binary digits of the size):
``floor(log2 k) + popcount(k) - 1`` additions per pixel and axis (3x3: 2, 31x31: 8) and no
running sum, so no cancellation error and a NaN or inf stays inside the windows that contain it.
Inputs of unknown height or width (a graph with ``None`` sizes), and small images, run
:func:`fixedfilters.ops.sep_filter`'s depthwise path with the weights (there the cost is
``kw + kh`` per pixel). The two paths differ by float rounding only (within the registry
tolerance); a layer picks its path once, from the shape it was built with.

OpenCV's float box filter sums in double with running sums, so a NaN or inf pixel spreads down
the rest of its columns (and, for sizes >= 7, along its rows) in ``cv2.boxFilter``'s output;
here it reaches exactly the windows that contain it.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.borders import normalize_border
from fixedfilters.layers.base import check_data_format
from fixedfilters.layers.filters import SeparableFilter
from fixedfilters.ops import filter_method, pad_axis, sep_filter, spatial_axes
from fixedfilters.structuring import check_anchor

__all__ = ["BoxFilter", "Blur", "box_uint8"]


def _window_sum(x, axis: int, k: int, n: int):
    """``out[i] = x[i] + ... + x[i + k - 1]`` for ``i < n`` (``x`` has ``n + k - 1`` entries
    along ``axis``), by doubling: ``s_2m[i] = s_m[i] + s_m[i + m]``."""

    def cut(z, start, stop):
        index = [slice(None)] * len(z.shape)
        index[axis] = slice(start, stop)
        return z[tuple(index)]

    out, offset, s, m, bits = None, 0, x, 1, k
    while True:
        if bits & 1:
            piece = cut(s, offset, offset + n)
            out = piece if out is None else out + piece
            offset += m
        bits >>= 1
        if not bits:
            return out
        length = int(s.shape[axis])
        s = cut(s, 0, length - m) + cut(s, m, length)
        m *= 2


def _box_sums(x, ksize, anchor, border, border_value, data_format):
    """The un-normalized box sums of ``x`` (static height and width), any border."""
    h_axis, w_axis = spatial_axes(data_format)
    (kw, kh), (ax, ay) = ksize, anchor
    n_h, n_w = int(x.shape[h_axis]), int(x.shape[w_axis])
    xp = pad_axis(x, h_axis, ay, kh - 1 - ay, border, border_value)
    y = _window_sum(xp, h_axis, kh, n_h)
    if border == "constant" and border_value != 0.0:
        # the corners: the column sums of a constant border are value * kh
        yp = pad_axis(y, w_axis, ax, kw - 1 - ax, border, border_value * kh)
    else:
        yp = pad_axis(y, w_axis, ax, kw - 1 - ax, border, border_value)
    return _window_sum(yp, w_axis, kw, n_w)


def _box_scaled(x, factor, spec):
    return _box_sums(x, *spec) * ops.cast(factor, x.dtype)


@functools.cache
def _compiled_box(backend: str, spec: tuple):
    fn = functools.partial(_box_scaled, spec=spec)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True, autograph=False)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


@register_keras_serializable(package="fixedfilters")
class BoxFilter(SeparableFilter):
    """Box filter (sum or mean over a ``kw x kh`` window), like ``cv2.boxFilter``.

    OpenCV equivalent: ``cv2.boxFilter(img, cv2.CV_32F, ksize, anchor=anchor,
    normalize=normalize, borderType=...)`` on every (image, channel) plane. ``ksize`` is an int
    or OpenCV's ``(width, height)``; even sizes are allowed. ``anchor`` is ``(x, y)`` in the box,
    default the centre ``(kw // 2, kh // 2)``; -1 in an entry means the centre, as in OpenCV.
    ``normalize=True`` divides by ``kw * kh`` (the mean). Correlation (a box is symmetric up to
    the anchor), border ``"reflect_101"`` by default (any of :data:`fixedfilters.BORDERS`).
    Weights ``kernel_x``/``kernel_y`` of ones; the cost does not grow with the box area (see the
    module docstring). For uint8 images, :func:`box_uint8` gives OpenCV's own bytes.

    Input ``(batch, H, W, C)``; output of the same shape (channels first likewise).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(5, dtype="float32").reshape(1, 1, 5, 1)
    >>> ff.BoxFilter((3, 1), normalize=False)(x)[0, 0, :, 0].numpy().tolist()
    [2.0, 3.0, 6.0, 9.0, 10.0]
    """

    def __init__(
        self,
        ksize: int | tuple[int, int] = 3,
        *,
        normalize: bool = True,
        anchor: tuple[int, int] | None = None,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        for key in ("scale", "delta"):
            kwargs.pop(key, None)
        if isinstance(ksize, list) or (isinstance(ksize, np.ndarray) and ksize.ndim == 1):
            ksize = tuple(ksize)
        kw, kh = kernels.box_ksize(ksize)
        self.normalize = kernels._check_bool("normalize", normalize)
        anchor_xy = check_anchor(anchor, (kh, kw))
        scale = 1.0 / (kw * kh) if self.normalize else 1.0
        super().__init__(scale=scale, border=border, border_value=border_value, **kwargs)
        self.ksize = (kw, kh) if isinstance(ksize, tuple) else kw
        self.anchor = anchor_xy
        self._terms = [(np.ones(kw), np.ones(kh))]

    def _filter(self, x):
        kw, kh = self.ksize if isinstance(self.ksize, tuple) else (self.ksize, self.ksize)
        if self._ff_method(x) == "stencil":
            # the uniform tap value comes from the weights (all ones as built)
            factor = self.kernel_x[0, 0] * self.kernel_y[0, 0] * self.scale
            spec = ((kw, kh), self.anchor, self.border, self.border_value, self.data_format)
            return _compiled_box(keras.backend.backend(), spec)(x, factor)
        return sep_filter(
            x,
            self.kernel_x,
            self.kernel_y,
            scale=self.scale,
            border=self.border,
            border_value=self.border_value,
            anchor=self.anchor,
            data_format=self.data_format,
            method="conv",
        )

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.boxFilter(img, ddepth): uint8 images to uint8 (OpenCV's integer rounding, see
        # box_uint8) or float32; float images to their own depth.
        return {"uint8": ("uint8", "float32"), "float32": ("float32",)}.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        return box_uint8(
            x,
            self.ksize,
            normalize=self.normalize,
            anchor=self.anchor,
            border=self.border,
            border_value=self.border_value,
            data_format=self.data_format,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("scale", "delta"):
            config.pop(key)
        config.update(
            ksize=list(self.ksize) if isinstance(self.ksize, tuple) else self.ksize,
            normalize=self.normalize,
            anchor=list(self.anchor),
        )
        return config


@register_keras_serializable(package="fixedfilters")
class Blur(BoxFilter):
    """Mean over a ``kw x kh`` window, like ``cv2.blur``.

    OpenCV equivalent: ``cv2.blur(img, ksize, anchor=anchor, borderType=...)`` (=
    ``cv2.boxFilter(img, -1, ksize, anchor=anchor, normalize=True, borderType=...)``) on float32
    planes. ``ksize`` an int or OpenCV's ``(width, height)``; anchor, border, weights and shapes
    as in :class:`BoxFilter` (correlation; border ``"reflect_101"`` by default).

    >>> import fixedfilters as ff
    >>> ff.Blur((2, 1)).kernel2d().tolist()
    [[0.5, 0.5]]
    """

    def __init__(
        self,
        ksize: int | tuple[int, int] = 3,
        *,
        anchor: tuple[int, int] | None = None,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        kwargs.pop("normalize", None)
        super().__init__(
            ksize, normalize=True, anchor=anchor, border=border, border_value=border_value, **kwargs
        )

    def kernel2d(self) -> np.ndarray:
        """The 2-D kernel (the mean's taps) from the current weights."""
        return np.asarray(super().kernel2d(), np.float64) * self.scale

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("normalize")
        return config


def _divisor_constants(area: int) -> tuple[int, int]:
    """``ColumnSum<ushort, uchar>``'s fixed-point divide by ``area`` (SHIFT 23)."""
    shift = 23
    scalef = float(1 << shift) / area
    div_scale = int(np.floor(scalef))
    frac = scalef - div_scale
    div_delta = area // 2
    if frac < 0.5:
        div_delta += 1
    else:
        div_scale += 1
    return div_scale, div_delta


def box_uint8(
    x,
    ksize: int | tuple[int, int] = 3,
    *,
    normalize: bool = True,
    anchor: tuple[int, int] | None = None,
    border: str = "reflect_101",
    border_value: int = 0,
    data_format: str | None = None,
):
    """``cv2.boxFilter(x, -1, ksize, anchor=anchor, normalize=normalize, borderType=...)`` on
    uint8 images (also ``cv2.blur``), byte for byte.

    OpenCV sums the window in integers, then: ``normalize=False`` saturates the sum to 255;
    ``normalize=True`` with ``kw * kh <= 256`` divides in fixed point,
    ``((sum + delta) * mul) >> 23`` with OpenCV's ``mul``/``delta`` for that area; larger boxes
    round ``float32(sum) * float32(1 / area)`` to the nearest integer (ties to even), OpenCV's
    vector path. (OpenCV's scalar tail, the last few pixels of a row that do not fill a vector
    register, rounds ``sum * (1 / area)`` in double instead; the two agree except at exact ties
    of the float32 product.) The integer sums run in float32 (exact below 2**24: sizes up to
    256x256). ``x``: uint8 ``(batch, H, W, C)`` (``(batch, C, H, W)`` channels first); returns
    uint8 of the same shape. ``border_value`` (``"constant"``) is a uint8 value.

    >>> import numpy as np
    >>> box_uint8(np.array([[[[1], [2], [2]]]], "uint8"), (3, 1)).numpy().ravel().tolist()
    [2, 2, 2]
    """
    from fixedfilters.layers.pyramid import _uint8_input

    data_format = check_data_format(data_format)
    kw, kh = kernels.box_ksize(ksize)
    normalize = kernels._check_bool("normalize", normalize)
    anchor = check_anchor(anchor, (kh, kw))
    border = normalize_border(border)
    value = kernels._check_finite("border_value", border_value)
    if kw * kh * 255 >= 1 << 24:
        raise ValueError(
            f"box_uint8 computes exact sums for kw * kh * 255 < 2**24 (up to 256x256). "
            f"Received: ksize={ksize!r}"
        )
    xf = _uint8_input(x, "box_uint8")
    ones_x = ops.ones((1, kw), "float32")
    ones_y = ops.ones((1, kh), "float32")
    s = sep_filter(
        xf,
        ones_x,
        ones_y,
        border=border,
        border_value=value,
        anchor=anchor,
        data_format=data_format,
        method="conv" if None in tuple(xf.shape) else filter_method(xf, data_format),
    )
    area = kw * kh
    if not normalize or area == 1:  # OpenCV: no scale for a 1x1 box
        out = ops.minimum(s, 255.0)
    elif area <= 256:
        mul, delta = _divisor_constants(area)
        a = ops.cast(s, "int32") + delta  # < 2**17
        # ((a * mul) >> 23) without int32 overflow: mul = hi * 2**12 + lo
        hi = a * (mul >> 12)
        lo = a * (mul & 0xFFF)
        out = ops.right_shift(hi + ops.right_shift(lo, 12), 11)
    else:
        scale = np.float32(1.0 / area)
        out = ops.round(s * ops.cast(scale, "float32"))  # ties to even, like v_round
    return ops.cast(ops.clip(out, 0, 255), "uint8")
