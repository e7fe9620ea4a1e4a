"""Box filters: ``BoxFilter`` (``cv2.boxFilter``) and ``Blur`` (``cv2.blur``), plus
:func:`box_uint8`, OpenCV's own uint8 result.

Weights: ``kernel_x`` ``(1, kw)`` and ``kernel_y`` ``(1, kh)``, all ones (the row and column sums
of OpenCV's box filter); ``normalize`` is the configuration ``scale = 1 / (kw * kh)``, applied
after the sums, as OpenCV does.

How it runs. With a static height and width (TensorFlow or JAX) and at least
:data:`fixedfilters.ops.STENCIL_MIN_ELEMENTS` values per image, the layer runs two XLA
computations: the height pass (on the ``(B, H, W * C)`` view, long contiguous rows), then the
width pass (which also applies the scale). They are separate computations on purpose: fused into
one, XLA recomputes each height sum for every width tap, so the cost was ``kh * kw`` a pixel
(the previous version, sums by doubling in one computation: 70 ms at 3x3 and 900 ms at 61x61 on
8x512x512x3, where ``cv2.boxFilter`` takes 6-14 ms). Along each axis a window of ``k <=
DIRECT_MAX`` (16) is ``k`` shifted slices summed in one fused pass; a longer one takes two
passes: sums of ``g = ceil(sqrt(k))`` neighbours (and of the ``r = k mod g`` left over), then
``out[i] = G[i] + G[i + g] + ... + G[i + (q - 1) g] + R[i + q g]`` (``k = q g + r``). Borders
come from thin strips gathered through the index map and concatenated around the interior (no
padded copy). So the cost is ``kw + kh`` additions a pixel up to 16x16 and about ``2 (sqrt(kw) +
sqrt(kh))`` beyond, never ``kw * kh``; it is not constant in ``k`` (see the README's speed
section for what that costs against OpenCV, and for running sums as XLA loops, measured about as
slow as the two-level pass: 11.5 against 12.1 ms for a 31-row pass where a 3-row one takes 3.4
ms). There is no running sum: no cancellation error, and
a NaN or inf stays inside the windows that contain it. The float32 sums differ from OpenCV's
double-precision ones by float32 rounding (a few ulps of the window sum). Inputs of unknown
height or width (a graph with ``None`` sizes), and small images, run
:func:`fixedfilters.ops.sep_filter`'s depthwise path with the weights (``kw + kh`` per pixel).
The paths differ by float rounding only (within the registry tolerance); a layer picks its path
once, from the shape it was built with.

OpenCV's float box filter sums in double with running sums, so a NaN or inf pixel spreads down
the rest of its columns (and, for widths other than 3 and 5, along the rest of its row) in
``cv2.boxFilter``'s output; here it reaches exactly the windows that contain it.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.borders import border_index, normalize_border
from fixedfilters.exact import row_tail
from fixedfilters.layers.base import FixedFilter, check_data_format, follow_taps, taps_equal
from fixedfilters.layers.filters import SeparableFilter
from fixedfilters.ops import _slice, _strip, filter_method, sep_filter, xla_jit
from fixedfilters.structuring import check_anchor

__all__ = ["BoxFilter", "Blur", "box_uint8"]


DIRECT_MAX = 16
"""Longest window summed directly (``k`` shifted slices in one fused pass); longer windows take
two passes (sums of ``g = ceil(sqrt(k))`` neighbours, then ``k // g`` of those, strided)."""


def _valid_sums(z, axis: int, k: int):
    """``out[i] = z[i] + ... + z[i + k - 1]`` along ``axis`` (``k - 1`` shorter than ``z``)."""
    m = int(z.shape[axis]) - k + 1
    out = None
    for j in range(k):
        term = _slice(z, axis, j, j + m)
        out = term if out is None else out + term
    return out


def _line_sums(z, axis: int, g: int, before: int, after: int, border: str, value: float):
    """Sums of ``g`` neighbours at every start of the bordered axis (``before``/``after``
    border entries around ``z``): length ``n + before + after - g + 1``.

    No padded copy: the interior reads ``z``, the ends read thin strips gathered through the
    index map (:func:`fixedfilters.ops._strip`), concatenated along ``axis`` (fused by XLA).
    """
    n = int(z.shape[axis])
    total = n + before + after
    if before == 0 and after == 0:
        return _valid_sums(z, axis, g)
    idx = border_index(n, before, after, border).astype("int32")

    def strip(p0, p1):
        piece = _strip(z, axis, idx, p0, p1, n, before, after, border, value)
        return _valid_sums(piece, axis, g)

    if n < g:
        return strip(0, total)
    parts = [strip(0, before + g - 1)] if before else []
    parts.append(_valid_sums(z, axis, g))
    if after:
        parts.append(strip(before + n - g + 1, total))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]


def _finish(s, factor, finish):
    """The box sums ``s`` to the output: ``* factor`` (float), or OpenCV's uint8 rounding."""
    if finish is None:
        return s * ops.cast(factor, s.dtype)
    _, normalize, area = finish
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
        out = ops.round(s * np.float32(1.0 / area))  # ties to even, like v_round
    return ops.cast(ops.clip(out, 0, 255), "uint8")


def _direct_pass(z, factor, spec):
    """One axis in one fused pass: window sums of ``k <= DIRECT_MAX`` shifted slices."""
    axis, k, before, border, value, finish = spec
    s = _line_sums(z, axis, k, before, k - 1 - before, border, value)
    return s if finish == "none" else _finish(s, factor, finish)


def _block_pass(z, spec):
    """First pass of a long window: sums of ``g`` and of ``r`` neighbours (``k = q g + r``)."""
    axis, k, before, border, value, _ = spec
    g = _block(k)
    q, r = divmod(k, g)
    after = k - 1 - before
    sums_g = _line_sums(z, axis, g, before, after, border, value)
    sums_r = _line_sums(z, axis, r, before, after, border, value) if r else sums_g
    return sums_g, sums_r


def _combine_pass(sums_g, sums_r, factor, spec):
    """Second pass: ``out[i] = sum_m G[i + m g] + R[i + q g]`` (``q + 1`` reads a pixel)."""
    axis, k, _, _, _, finish = spec
    g = _block(k)
    q, r = divmod(k, g)
    n = int(sums_g.shape[axis]) - k + g
    s = None
    for m in range(q):
        term = _slice(sums_g, axis, m * g, m * g + n)
        s = term if s is None else s + term
    if r:
        s = s + _slice(sums_r, axis, q * g, q * g + n)
    return s if finish == "none" else _finish(s, factor, finish)


def _block(k: int) -> int:
    return int(np.ceil(np.sqrt(k)))


@functools.cache
def _compiled(backend: str, name: str, spec: tuple):
    """One pass (``name``) for ``spec``, as its own XLA computation (traced per input shape).

    The passes are separate computations on purpose: XLA would fuse the height pass into the
    width pass and recompute each height sum for every width tap (cost ``kh * kw``).
    """
    fn = functools.partial(
        {"direct": _direct_pass, "block": _block_pass, "combine": _combine_pass}[name], spec=spec
    )
    return xla_jit(fn, backend)


def _axis_pass(z, factor, spec):
    backend = keras.backend.backend()
    if spec[1] <= DIRECT_MAX:
        return _compiled(backend, "direct", spec)(z, factor)
    sums_g, sums_r = _compiled(backend, "block", spec)(z)
    return _compiled(backend, "combine", spec)(sums_g, sums_r, factor)


def _box_stencil(x, factor, ksize, anchor, border, border_value, data_format, finish=None):
    """The box filter of ``x`` (static height and width): the height pass, then the width pass
    (``finish``: ``None`` to scale by ``factor``, or ``("uint8", normalize, area)``)."""
    (kw, kh), (ax, ay) = ksize, anchor
    # an unknown batch (a Keras model, tf.function, tf.data) stays -1 in every reshape
    shape = tuple(-1 if d is None else int(d) for d in x.shape)
    # channels innermost: channels-first input is viewed as (B * C, H, W, 1) planes
    z = x if data_format == "channels_last" else ops.reshape(x, (-1, shape[2], shape[3], 1))
    factor = ops.cast(factor, "float32")
    n, h, w, c = (-1 if d is None else int(d) for d in z.shape)
    # the height pass on (B, H, W * C): long contiguous rows, so XLA vectorizes it
    y = _axis_pass(
        ops.reshape(z, (n, h, w * c)), factor, (1, kh, ay, border, float(border_value), "none")
    )
    y = ops.reshape(y, (n, h, w, c))
    # a constant border around the column sums is value * kh (the corners)
    w_value = float(border_value) * kh if border == "constant" else 0.0
    out = _axis_pass(y, factor, (2, kw, ax, border, w_value, finish))
    return ops.reshape(out, shape)


@register_keras_serializable(package="fixedfilters")
class BoxFilter(SeparableFilter):
    """Box filter (sum or mean over a ``kw x kh`` window), like ``cv2.boxFilter``.

    OpenCV equivalent: ``cv2.boxFilter(img, cv2.CV_32F, ksize, anchor=anchor,
    normalize=normalize, borderType=...)`` on every (image, channel) plane. ``ksize`` is an int
    or OpenCV's ``(width, height)``; even sizes are allowed. ``anchor`` is ``(x, y)`` in the box,
    default the centre ``(kw // 2, kh // 2)``; -1 in an entry means the centre, as in OpenCV.
    ``normalize=True`` divides by ``kw * kh`` (the mean). Correlation (a box is symmetric up to
    the anchor), border ``"reflect_101"`` by default (any of :data:`fixedfilters.BORDERS`).
    Weights ``kernel_x``/``kernel_y`` of ones; the cost does not grow with the box area: two
    passes, ``kw + kh`` additions a pixel up to 16x16, about ``2 (sqrt(kw) + sqrt(kh))`` beyond
    (see the module docstring). For uint8 images, :func:`box_uint8` gives OpenCV's own bytes.
    ``output_dtype="uint8"`` on uint8 input runs it while the weights are ones; after
    ``set_weights`` with other taps the layer returns its float result from the weights,
    rounded half to even and saturated (the float stencil likewise needs uniform weights, else
    the separable correlation of the weights runs). The choice is made in the graph.

    Input ``(batch, H, W, C)``; output of the same shape (channels first likewise).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(5, dtype="float32").reshape(1, 1, 5, 1)
    >>> ff.BoxFilter((3, 1), normalize=False)(x)[0, 0, :, 0].numpy().tolist()
    [2.0, 3.0, 6.0, 9.0, 10.0]
    """

    _refused_args = {
        "scale": "cv2.boxFilter has no scale; use normalize=True (the mean, 1 / (kw * kh)) or "
        "normalize=False (the sums)",
        "delta": "cv2.boxFilter has no delta (add to the output instead)",
    }

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

        def general():
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

        if self._compute_path(x) != "stencil":
            return general()

        def stencil():
            # a box: one tap value per weight (all ones as built), read from the weights
            factor = ops.cast(self.kernel_x[0, 0] * self.kernel_y[0, 0], x.dtype) * self.scale
            return _box_stencil(
                x, factor, (kw, kh), self.anchor, self.border, self.border_value, self.data_format
            )

        # the box stencil while the weights are uniform; other taps: the separable correlation
        kx, ky = self.kernel_x, self.kernel_y
        uniform = ops.logical_and(ops.all(kx == kx[0, 0]), ops.all(ky == ky[0, 0]))
        return follow_taps(uniform, stencil, general)

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.boxFilter(img, ddepth): uint8 images to uint8 (OpenCV's integer rounding, see
        # box_uint8) or float32; float images to their own depth.
        return {"uint8": ("uint8", "float32"), "float32": ("float32",)}.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        # OpenCV's integer box filter (box_uint8) is the result of taps of ones; while the
        # weights hold them it runs, else the generic result from the weights (the float path,
        # rounded half to even and saturated). The test is in the graph (base.follow_taps).
        kw, kh = self.ksize if isinstance(self.ksize, tuple) else (self.ksize, self.ksize)
        ones = taps_equal([self.kernel_x, self.kernel_y], [np.ones((1, kw)), np.ones((1, kh))])
        return follow_taps(
            ones,
            lambda: box_uint8(
                x,
                self.ksize,
                normalize=self.normalize,
                anchor=self.anchor,
                border=self.border,
                border_value=self.border_value,
                data_format=self.data_format,
            ),
            lambda: FixedFilter._filter_exact(self, x, output_dtype),
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

    _refused_args = {
        "normalize": "cv2.blur always normalizes (the mean); use BoxFilter(ksize, "
        "normalize=False) for the window sums",
    }

    def __init__(
        self,
        ksize: int | tuple[int, int] = 3,
        *,
        anchor: tuple[int, int] | None = None,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
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
    area = kw * kh
    finish = ("uint8", normalize, area)
    ones_x = ops.ones((1, kw), "float32")
    ones_y = ops.ones((1, kh), "float32")

    def box_sums(v):
        return sep_filter(
            v,
            ones_x,
            ones_y,
            border=border,
            border_value=value,
            anchor=anchor,
            data_format=data_format,
            method="conv",
        )

    if None not in tuple(xf.shape) and filter_method(xf, data_format) == "stencil":
        # float32 sums of bytes are exact integers in any order (below 2**24)
        out = _box_stencil(xf, 1.0, (kw, kh), anchor, border, value, data_format, finish)
    else:
        out = _finish(box_sums(xf), 1.0, finish)
    if normalize and area == 2:
        # OpenCV divides a 2-pixel sum as ((s + 2) * 2**22) >> 23: 256 for two 255s. Its vector
        # loop saturates that to 255; its scalar tail (the last (width * channels) % 16 values of
        # each row, x86-64) casts it to uchar: 0. The only area whose quotient can pass 255.
        both = box_sums(ops.cast(ops.equal(xf, 255.0), "float32")) == 2.0
        out = ops.where(ops.logical_and(both, row_tail(xf, data_format, 16)), 0, out)
        out = ops.cast(out, "uint8")
    return out
