"""Morphology layers: Erode, Dilate and MorphologyEx, equal to cv2.erode/dilate/morphologyEx.

Weight layout
-------------
Each layer holds one non-trainable weight, ``kernel`` of shape ``(kh, kw)``: the structuring
element as float 0/1 (OpenCV reads any non-zero entry as 1; so does the layer). The anchor
``(x, y)``, ``iterations``, the operation and the border are configuration.

How it runs (and how it follows the weight)
-------------------------------------------
A min (max) over an element is the min (max) over a few axis-aligned rectangles that cover it
(:func:`fixedfilters.structuring.rectangles`: a full rectangle is one, a 3x3 cross two bars, a
5x5 ellipse two rectangles, a 15x15 ellipse five), and a min over a rectangle is separable: a
running min across the width, then down the height. A running min of width ``L`` costs
``floor(log2(L)) + 1`` elementwise minima, from the doubling tables ``m_1 = x``,
``m_2p[i] = min(m_p[i], m_p[i + p])``, ``window_L[i] = min(m_p[i], m_p[i + L - p])`` with ``p``
the largest power of two <= ``L``; rectangles share the tables. So a 15x15 rectangle costs 8
minima, not 225 or 30. The image is padded once per pass (the border rows and columns gathered
through :mod:`fixedfilters.borders` index maps, or a constant), and every rectangle is then a
valid computation on the padded image. With TensorFlow or JAX and a static height and width
(``H * W * C >= fixedfilters.ops.STENCIL_MIN_ELEMENTS``), a pass runs as one XLA computation
(``tf.function(jit_compile=True)`` / ``jax.jit``); otherwise as plain ops (dynamic sizes, small
images). The path is chosen once from the shape the layer was built with.

The rectangle cover needs the element as a NumPy array when the computation is traced, but the
output must follow the ``kernel`` weight (``set_weights`` must change it). So the computation is
``cond(kernel != 0 equals the element the layer was built with, fast path, general path)``: the
test reads the weight (a few bytes) every call; the fast path is the rectangle cover of the
construction-time element; the general path reads the element from the weight, one masked
shifted min per element entry (``kh * kw`` minima: correct for any weight, slower). Both are
exact, so they agree bit for bit. Only the branch taken runs.

OpenCV's semantics reproduced (``modules/imgproc/src/morph.dispatch.cpp``)
-----------------------------------------------------------------------------
* The default border is ``cv2.BORDER_CONSTANT`` with ``cv2.morphologyDefaultBorderValue()``,
  which OpenCV turns into a value that never wins: the largest finite value of the image depth
  for an erosion (255 for uint8, ``FLT_MAX`` for float32 -- not infinity: an all-``+inf``
  window next to the border erodes to ``FLT_MAX``) and the smallest for a dilation (0 for
  uint8, ``-FLT_MAX`` for float32). Here: ``border="constant", border_value=None``.
* A constant ``border_value`` on an integer image is first rounded (half to even) and
  saturated to its depth, as OpenCV's ``saturate_cast`` does.
* ``iterations > 1`` with a full rectangular element is **not** repeated: OpenCV applies one
  rectangle of size ``(k - 1) * iterations + 1`` with anchor ``anchor * iterations``. This is
  the same as repeating in the interior and with constant or replicate borders, but not near
  the image edges with the reflect borders and an off-centre anchor (even sizes included).
  Any other element is applied ``iterations`` times, the border taken again around each
  intermediate result.
* ``open`` is ``erode`` x n then ``dilate`` x n (``close`` the reverse), ``gradient`` is
  ``dilate - erode`` of the input, ``tophat`` ``x - open``, ``blackhat`` ``close - x``; each
  erosion and dilation takes its own default border value.
* A 1x1 element and ``iterations=0`` return the input unchanged.
* The anchor ``(x, y)``: -1 in an entry (or ``None``) is the centre ``(kw // 2, kh // 2)``.

NaN
---
OpenCV's float min/max with a NaN are SIMD instructions whose result depends on the order of
the operands: a NaN usually vanishes and appears in one neighbouring output pixel (measured in
``tests/test_morphology.py``). Here a NaN is not reproduced either: eager TensorFlow and JAX
propagate it to every window that contains it, XLA-compiled TensorFlow (the fast path for
static shapes) may drop it like OpenCV. Do not rely on NaN results; clean NaNs first.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters.borders import border_index, normalize_border
from fixedfilters.kernels import _check_nonnegative_int, _received
from fixedfilters.layers.base import SAME_DEPTH, FixedFilter, check_real
from fixedfilters.ops import filter_method, pad_axis, spatial_axes, xla_jit
from fixedfilters.structuring import (
    check_anchor,
    check_element,
    check_ksize,
    check_shape,
    rectangles,
    structuring_element,
)

__all__ = ["Erode", "Dilate", "MorphologyEx", "MORPH_OPS", "morphology"]

#: Operations, with OpenCV's ``cv2.MORPH_*`` constant for each.
MORPH_OPS: dict[str, int] = {
    "erode": 0,
    "dilate": 1,
    "open": 2,
    "close": 3,
    "gradient": 4,
    "tophat": 5,
    "blackhat": 6,
}


def _check_op(op: object) -> str:
    if isinstance(op, (int, np.integer)) and not isinstance(op, bool):
        for name, code in MORPH_OPS.items():
            if code == int(op):
                return name
    elif isinstance(op, str):
        key = op.strip().lower()
        key = key[len("morph_") :] if key.startswith("morph_") else key
        if key in MORPH_OPS:
            return key
        if key == "hitmiss":
            raise ValueError(
                "op='hitmiss' is not supported (OpenCV restricts it to single-channel uint8 "
                "images and a -1/0/1 kernel). Received: op='hitmiss'"
            )
    raise ValueError(
        f"op must be one of {', '.join(map(repr, MORPH_OPS))} (or cv2.MORPH_ERODE .. "
        f"cv2.MORPH_BLACKHAT). Received: op={op!r}"
    )


# -- the computation -----------------------------------------------------------------------------
def _slice(z, axis: int, start: int, drop_end: int):
    """``z`` along ``axis`` without its first ``start`` and last ``drop_end`` entries (static
    offsets, so dynamic lengths work)."""
    if start == 0 and drop_end == 0:
        return z
    index = [slice(None)] * len(z.shape)
    index[axis] = slice(start, -drop_end if drop_end else None)
    return z[tuple(index)]


class _Running:
    """Running min (max) of any width along one axis of ``z``, from shared doubling tables."""

    def __init__(self, z, axis: int, reduce):
        self.axis, self.reduce = axis, reduce
        self.tables = {1: z}

    def table(self, p: int):
        if p not in self.tables:
            half = self.table(p // 2)
            h = p // 2
            self.tables[p] = self.reduce(
                _slice(half, self.axis, 0, h), _slice(half, self.axis, h, 0)
            )
        return self.tables[p]

    def window(self, length: int):
        """``out[i] = reduce(z[i : i + length])``; ``length - 1`` shorter than ``z``."""
        p = 1 << (length.bit_length() - 1)
        t = self.table(p)
        if p == length:
            return t
        return self.reduce(_slice(t, self.axis, 0, length - p), _slice(t, self.axis, length - p, 0))


def _pad2d(x, shape, anchor, border, value, data_format):
    (kh, kw), (ax, ay) = shape, anchor
    h_axis, w_axis = spatial_axes(data_format)
    x = pad_axis(x, h_axis, ay, kh - 1 - ay, border, value)
    return pad_axis(x, w_axis, ax, kw - 1 - ax, border, value)


def _strip(z, axis: int, n: int, p0: int, p1: int, border: str, value: float):
    """Positions ``[p0, p1)`` of ``z`` (length ``n``) along ``axis`` extended by the border:
    runs of the index map as slices (reversed where the map runs backwards) and constant
    blocks, concatenated (XLA fuses slices; a gather in the loop costs more)."""
    before, after = max(0, -p0), max(0, p1 - n)
    idx = border_index(n, before, after, border)[p0 + before : p1 + before]
    pos = np.arange(p0, p1)
    inside = (pos >= 0) & (pos < n)
    parts, i = [], 0
    while i < len(idx):
        if border == "constant" and not inside[i]:
            j = i
            while j < len(idx) and not inside[j]:
                j += 1
            shape = list(z.shape)
            shape[axis] = j - i
            if None in shape:
                block = ops.take(z, np.zeros(j - i, "int32"), axis=axis)
                parts.append(ops.full_like(block, value))
            else:
                parts.append(ops.full(shape, value, dtype=z.dtype))
            i = j
            continue
        step = 1 if i + 1 < len(idx) and idx[i + 1] == idx[i] + 1 else -1
        j = i + 1
        while j < len(idx) and idx[j] == idx[j - 1] + step and (border != "constant" or inside[j]):
            j += 1
        lo, hi = (
            (int(idx[i]), int(idx[j - 1]) + 1) if step == 1 else (int(idx[j - 1]), int(idx[i]) + 1)
        )
        piece = _slice(z, axis, lo, n - hi)
        parts.append(piece if step == 1 else ops.flip(piece, axis=axis))
        i = j
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]


def _window_pass(z, axis: int, windows, reduce, border: str, value: float):
    """``out[i] = reduce(z[i + start : i + start + length])`` along ``axis`` for each
    ``(start, length)`` in ``windows``, positions outside ``z`` read through the border.

    Static length: the interior of each output is a window of the doubling tables of ``z``
    itself, the few positions near the ends come from thin strips gathered through the index
    map, and the pieces are concatenated (no padded copy of ``z``: XLA fuses this into one loop,
    while a padded copy costs several times a plain copy). Dynamic length: pad once by the
    widest reach (an in-graph gather), then windows of the padded tables.
    """
    n = z.shape[axis]
    if n is None:
        before = max(0, *(-a for a, _ in windows))
        after = max(0, *(a + k - 1 for a, k in windows))
        zp = pad_axis(z, axis, before, after, border, value)
        tables = _Running(zp, axis, reduce)
        outs = []
        for a, k in windows:
            w = tables.window(k)  # length n + before + after - k + 1
            outs.append(_slice(w, axis, before + a, after - a - k + 1))
        return outs
    n = int(n)
    tables = _Running(z, axis, reduce)
    outs = []
    for a, k in windows:
        lo, hi = max(0, -a), min(n, n - (a + k - 1))
        if hi <= lo:  # every output reaches past an end: one strip
            outs.append(
                _Running(_strip(z, axis, n, a, n + a + k - 1, border, value), axis, reduce).window(
                    k
                )
            )
            continue
        parts = []
        if lo:
            parts.append(
                _Running(_strip(z, axis, n, a, a + lo + k - 1, border, value), axis, reduce).window(
                    k
                )
            )
        w = tables.window(k)  # w[j] = reduce(z[j : j + k]), length n - k + 1
        parts.append(_slice(w, axis, lo + a, (n - k + 1) - (hi + a)))
        if hi < n:
            parts.append(
                _Running(
                    _strip(z, axis, n, hi + a, n + a + k - 1, border, value), axis, reduce
                ).window(k)
            )
        outs.append(ops.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0])
    return outs


def _rect_pass(x, rects, anchor, reduce, border, value, data_format):
    """One min (max) over the union of ``rects`` (``(r0, r1, c0, c1)``, half-open, in element
    coordinates; the element's ``anchor`` ``(x, y)`` sits on the output pixel)."""
    ax, ay = anchor
    h_axis, w_axis = spatial_axes(data_format)
    cols = sorted({(c0, c1) for _, _, c0, c1 in rects})
    across = _window_pass(x, w_axis, [(c0 - ax, c1 - c0) for c0, c1 in cols], reduce, border, value)
    out = None
    for (c0, c1), y in zip(cols, across, strict=True):
        rows = [(r0, r1) for r0, r1, d0, d1 in rects if (d0, d1) == (c0, c1)]
        downs = _window_pass(
            y, h_axis, [(r0 - ay, r1 - r0) for r0, r1 in rows], reduce, border, value
        )
        for part in downs:
            out = part if out is None else reduce(out, part)
    return out


def _masked_pass(x, mask, shape, anchor, reduce, neutral, border, value, data_format):
    """One min (max) over the entries of a 0/1 ``mask`` tensor ``(kh, kw)``: a loop over the
    ``kh * kw`` entries (one masked shifted min each; compiles in constant time)."""
    kh, kw = shape
    h_axis, w_axis = spatial_axes(data_format)
    xp = _pad2d(x, shape, anchor, border, value, data_format)
    flat = ops.reshape(mask, (-1,))
    size = list(ops.shape(x))
    fill = ops.cast(neutral, x.dtype)

    def body(i, out):
        start = [0] * len(size)
        start[h_axis], start[w_axis] = i // kw, i % kw
        part = ops.slice(xp, start, size)
        return reduce(out, ops.where(flat[i], part, fill))

    return ops.fori_loop(0, kh * kw, body, ops.full_like(x, neutral))


def _plan(element: np.ndarray, anchor, iterations: int):
    """(rects, shape, anchor, repeats) for ``iterations`` passes of ``element``; a full
    rectangle is enlarged to one pass, as OpenCV does."""
    kh, kw = element.shape
    ax, ay = anchor
    if iterations > 1 and element.all():
        kh, kw = (kh - 1) * iterations + 1, (kw - 1) * iterations + 1
        return ((0, kh, 0, kw),), (kh, kw), (ax * iterations, ay * iterations), 1
    return tuple(rectangles(element)), (kh, kw), (ax, ay), iterations


def _spec_key(element: np.ndarray) -> tuple:
    return tuple(map(tuple, np.asarray(element, np.uint8).tolist()))


def _one_pass(x, pass_spec):
    rects, anchor, kind, border, value, data_format = pass_spec
    reduce = ops.minimum if kind == "min" else ops.maximum
    return _rect_pass(x, rects, anchor, reduce, border, value, data_format)


@functools.cache
def _compiled_pass(backend: str, pass_spec: tuple):
    """One erosion/dilation pass as an XLA computation (traced again per input shape). Passes
    are compiled one by one: ``open`` or ``iterations`` reuse them, and XLA's compile time grows
    faster than linearly with the size of a computation."""
    fn = functools.partial(_one_pass, pass_spec=pass_spec)
    return xla_jit(fn, backend)


def _fast(x, spec, compiled: bool):
    """The operation from the rectangle cover of the spec's (static) element."""
    op, element_key, anchor, iterations, border, (v_min, v_max), data_format = spec
    element = np.array(element_key, np.uint8)
    if iterations == 0 or element.size == 1:
        return _combine(op, x, lambda y, kind: y)
    rects, _, anchor_n, repeats = _plan(element, anchor, iterations)

    def run(y, kind):
        value = v_min if kind == "min" else v_max
        pass_spec = (rects, anchor_n, kind, border, value, data_format)
        if compiled:
            fn = _compiled_pass(keras.backend.backend(), pass_spec)
        else:
            fn = functools.partial(_one_pass, pass_spec=pass_spec)
        for _ in range(repeats):
            y = fn(y)
        return y

    return _combine(op, x, run)


def _general(x, mask, spec):
    """The operation with the element read from ``mask`` (a bool tensor) at run time."""
    op, element_key, anchor, iterations, border, (v_min, v_max), data_format = spec
    element = np.array(element_key, np.uint8)
    kh, kw = element.shape
    # what OpenCV does when the weight is a full rectangle: one enlarged rectangle
    rect_rects, rect_shape, rect_anchor, _ = _plan(np.ones((kh, kw), bool), anchor, iterations)

    def general(y, kind):
        reduce, value = (ops.minimum, v_min) if kind == "min" else (ops.maximum, v_max)
        neutral = np.inf if kind == "min" else -np.inf

        def as_rect():
            return _rect_pass(y, rect_rects, rect_anchor, reduce, border, value, data_format)

        def masked():
            z = y
            for _ in range(iterations):
                z = _masked_pass(
                    z, mask, (kh, kw), anchor, reduce, neutral, border, value, data_format
                )
            return z

        if iterations == 1:
            return masked()
        return ops.cond(ops.all(mask), as_rect, masked)

    return _combine(op, x, general)


def _combine(op: str, x, run):
    """``op`` from erosions ``run(y, "min")`` and dilations ``run(y, "max")``."""
    if op == "erode":
        return run(x, "min")
    if op == "dilate":
        return run(x, "max")
    if op == "open":
        return run(run(x, "min"), "max")
    if op == "close":
        return run(run(x, "max"), "min")
    if op == "gradient":
        return run(x, "max") - run(x, "min")
    if op == "tophat":
        return x - run(run(x, "min"), "max")
    return run(run(x, "max"), "min") - x  # blackhat


def _border_values(border: str, border_value, in_dtype: str, compute_dtype: str):
    """(value for erosions, value for dilations) for the border, as OpenCV picks them."""
    if "int" in in_dtype:
        info = np.iinfo(in_dtype)
        lo, hi = float(info.min), float(info.max)
    else:
        hi = float(np.finfo(compute_dtype).max)
        lo = -hi
    if border != "constant":
        return 0.0, 0.0
    if border_value is None:
        return hi, lo
    v = float(border_value)
    if "int" in in_dtype:
        v = float(min(max(np.rint(v), lo), hi))
    return v, v


def morphology(
    x,
    op: str = "erode",
    element=None,
    *,
    anchor: tuple[int, int] | None = None,
    iterations: int = 1,
    border: str = "constant",
    border_value: float | None = None,
    data_format: str = "channels_last",
    method: str | None = None,
    input_dtype: str | None = None,
    kernel=None,
):
    """``cv2.morphologyEx(img, op, element, anchor=anchor, iterations=iterations, ...)`` on
    every plane of a 4-D batch ``x`` (a tensor; computed in ``x``'s float dtype).

    ``element``: a 0/1 NumPy array (default: 3x3 rectangle), the static element the fast path
    is built from. ``kernel``: optionally a tensor (a layer's weight) that decides at run time:
    if its non-zero pattern differs from ``element``, the general path reads it instead.
    ``border``/``border_value`` as in :class:`MorphologyEx`; ``input_dtype`` the dtype the image
    had before a cast to float (its range gives the default border values, e.g. 255 for
    uint8). ``method``: ``"stencil"`` (XLA-compiled), ``"conv"`` (plain ops) or ``None`` (from
    ``x``'s shape, :func:`fixedfilters.ops.filter_method`).

    >>> import numpy as np
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> morphology(x, "erode")[0, :, :, 0].numpy().tolist()[1]
    [0.0, 0.0, 1.0, 2.0]
    """
    op = _check_op(op)
    element = check_element(np.ones((3, 3)) if element is None else element, "element")
    anchor = check_anchor(anchor, element.shape)
    iterations = _check_nonnegative_int("iterations", iterations)
    border = normalize_border(border)
    x = ops.convert_to_tensor(x)
    dtype = standardize_dtype(x.dtype)
    values = _border_values(border, border_value, input_dtype or dtype, dtype)
    spec = (op, _spec_key(element), anchor, iterations, border, values, data_format)
    if method is None:
        method = filter_method(x, data_format)
    h_axis, w_axis = spatial_axes(data_format)
    compiled = method == "stencil" and None not in (x.shape[h_axis], x.shape[w_axis])
    if kernel is None or iterations == 0 or element.size == 1:
        return _fast(x, spec, compiled)
    # Follow the weight: the fast path while its non-zero pattern is the element traced from,
    # else the general path (plain ops, never compiled unless taken).
    mask = ops.not_equal(ops.convert_to_tensor(kernel), 0)
    same = ops.all(ops.equal(mask, ops.convert_to_tensor(element.astype(bool))))
    concrete = _concrete_bool(same)
    if concrete is not None:  # eager: decide here, no cond
        return _fast(x, spec, compiled) if concrete else _general(x, mask, spec)
    return ops.cond(same, lambda: _fast(x, spec, compiled), lambda: _general(x, mask, spec))


def _concrete_bool(t):
    """``bool(t)`` when ``t`` holds a value now (eager TensorFlow, JAX outside a trace), else
    None (a graph or a trace: decided in it)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(t.numpy()) if tf.executing_eagerly() else None
    if backend == "jax":
        import jax

        return None if isinstance(t, jax.core.Tracer) else bool(t)
    return None


# -- the layers -----------------------------------------------------------------------------------
def _resolve_element(ksize, shape, kernel, anchor):
    """(element uint8 array, anchor (x, y), ksize or None, shape or None) from the arguments."""
    if kernel is not None:
        if ksize is not None or shape is not None:
            raise ValueError(
                "give either kernel= (a 0/1 array) or ksize=/shape=, not both. "
                + _received(ksize=ksize, shape=shape, kernel="<array>")
            )
        element = check_element(kernel)
        return element, check_anchor(anchor, element.shape), None, None
    ksize = 3 if ksize is None else ksize
    shape = "rect" if shape is None else shape
    width, height = check_ksize(ksize)
    name = check_shape(shape)
    ax, ay = check_anchor(anchor, (height, width))
    element = structuring_element(name, (width, height), (ax, ay))
    size = int(ksize) if isinstance(ksize, (int, np.integer)) else (width, height)
    return element, (ax, ay), size, name


@register_keras_serializable(package="fixedfilters")
class MorphologyEx(FixedFilter):
    """Morphology with a fixed structuring element, like ``cv2.morphologyEx``.

    OpenCV equivalent: ``cv2.morphologyEx(img, op, element, anchor=anchor,
    iterations=iterations, borderType=..., borderValue=...)`` on every (image, channel) plane,
    where ``element = cv2.getStructuringElement(shape, ksize, anchor)`` or the given ``kernel``.
    ``op``: ``"erode"``, ``"dilate"``, ``"open"``, ``"close"``, ``"gradient"``, ``"tophat"``,
    ``"blackhat"`` (or ``cv2.MORPH_*``; ``"hitmiss"`` is not offered). ``ksize``: an int or
    OpenCV's ``(width, height)``; ``shape``: ``"rect"``, ``"cross"`` or ``"ellipse"``; or
    ``kernel``: a 0/1 array ``(kh, kw)`` (then neither ``ksize`` nor ``shape``). ``anchor``:
    ``(x, y)`` in the element (default the centre), also where the cross is drawn.
    ``iterations``: as OpenCV (a full rectangle is enlarged rather than repeated; see the module
    docstring).

    Border: by default OpenCV's, ``border="constant"`` with ``border_value=None``: a value that
    never wins the min/max (the dtype's largest value for an erosion, smallest for a dilation:
    255/0 for uint8 input, +-FLT_MAX for float32). ``border_value=v`` pads with ``v`` (rounded
    and saturated for integer input, like OpenCV); ``"reflect_101"``, ``"reflect"``,
    ``"replicate"`` as OpenCV; ``"wrap"`` (OpenCV refuses it) pads with ``numpy.pad(mode=
    "wrap")`` before each erosion/dilation. Min/max are exact: outputs equal OpenCV's bit for bit
    for float32 and uint8 input (and 16U/16S; OpenCV takes 8U, 16U, 16S, 32F, 64F). The element
    is applied as OpenCV does: output ``(y, x)`` is the min over ``src[y + i - ay, x + j - ax]``
    for the element's ones ``(i, j)`` -- a correlation, the element is not flipped (also for the
    dilation).

    Input ``(batch, height, width, channels)`` (or channels first); output the same shape, float32
    by default; ``output_dtype`` = the input dtype (``"uint8"`` on uint8 input, ...) returns
    OpenCV's own result in that depth (the float result saturated, which is OpenCV's saturating
    subtraction in ``tophat``/``blackhat``). The gradient with respect to the input
    is the subgradient of min/max (the arg-min pixel of each window receives it).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.zeros((1, 5, 5, 1), "float32"); x[0, 2, 2, 0] = 1
    >>> ff.MorphologyEx("dilate", shape="cross")(x)[0, :, :, 0].numpy().astype(int).tolist()
    [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    """

    def __init__(
        self,
        op: str = "erode",
        ksize: int | tuple[int, int] | None = None,
        *,
        shape: str | None = None,
        kernel=None,
        anchor: tuple[int, int] | None = None,
        iterations: int = 1,
        border: str = "constant",
        border_value: float | None = None,
        **kwargs,
    ):
        self.op = _check_op(op)
        element, self.anchor, self.ksize, self.shape = _resolve_element(
            ksize, shape, kernel, anchor
        )
        self.iterations = _check_nonnegative_int("iterations", iterations)
        value = None if border_value is None else check_real("border_value", border_value)
        super().__init__(border=border, border_value=0.0, **kwargs)
        self.border_value = value
        self._element = element
        self._custom = kernel is not None

    def _initial_taps(self) -> dict[str, np.ndarray]:
        return {"kernel": self._element.astype(np.float64)}

    @property
    def kernel(self):
        """The ``(kh, kw)`` element weight, 0/1 (after ``build``)."""
        return self._taps["kernel"]

    def element(self) -> np.ndarray:
        """The structuring element from the current weights (uint8 0/1)."""
        if not self.built:
            return self._element.copy()
        return (np.asarray(ops.convert_to_numpy(self.kernel)) != 0).astype(np.uint8)

    def call(self, inputs):
        self._input_dtype = standardize_dtype(inputs.dtype)
        return super().call(inputs)

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.erode/dilate/morphologyEx return the input's depth. Min/max are exact, so the
        # integer result is the float result saturated (tophat/blackhat's saturating subtract).
        return SAME_DEPTH.get(input_dtype, ())

    def _filter(self, x):
        return morphology(
            x,
            self.op,
            self._element,
            anchor=self.anchor,
            iterations=self.iterations,
            border=self.border,
            border_value=self.border_value,
            data_format=self.data_format,
            method=self._compute_path(x),
            input_dtype=getattr(self, "_input_dtype", None),
            kernel=self.kernel,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            op=self.op,
            ksize=list(self.ksize) if isinstance(self.ksize, tuple) else self.ksize,
            shape=self.shape,
            kernel=self._element.tolist() if self._custom else None,
            anchor=list(self.anchor),
            iterations=self.iterations,
        )
        return config


@register_keras_serializable(package="fixedfilters")
class Erode(MorphologyEx):
    """Erosion (minimum over the structuring element), like ``cv2.erode``.

    OpenCV equivalent: ``cv2.erode(img, element, anchor=anchor, iterations=iterations,
    borderType=..., borderValue=...)`` with ``element = cv2.getStructuringElement(shape, ksize,
    anchor)`` or ``kernel``. Correlation (the element is not flipped); the default border is
    OpenCV's (``border="constant"``, ``border_value=None``: the border never wins). All
    arguments, shapes and dtypes as in :class:`MorphologyEx`.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> ff.Erode(3)(x)[0, :, :, 0].numpy().astype(int).tolist()
    [[0, 0, 1, 2], [0, 0, 1, 2], [4, 4, 5, 6], [8, 8, 9, 10]]
    """

    _op = "erode"
    _fixed_args = {
        "op": (
            ("erode",),
            "Erode is MorphologyEx('erode'); use MorphologyEx(op, ...) for another operation",
        ),
    }

    def __init__(self, ksize: int | tuple[int, int] | None = None, **kwargs):
        super().__init__(self._op, ksize, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("op")
        return config


@register_keras_serializable(package="fixedfilters")
class Dilate(Erode):
    """Dilation (maximum over the structuring element), like ``cv2.dilate``.

    OpenCV equivalent: ``cv2.dilate(img, element, anchor=anchor, iterations=iterations,
    borderType=..., borderValue=...)``. Correlation: output ``(y, x)`` is the max over
    ``src[y + i - ay, x + j - ax]`` for the element's ones, as OpenCV computes it (no flip, so
    for an asymmetric element this is not the textbook reflected-element dilation). Default
    border OpenCV's (never wins). All arguments, shapes and dtypes as in :class:`MorphologyEx`.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> ff.Dilate(kernel=[[1, 1]], anchor=(0, 0))(x)[0, 0, :, 0].numpy().astype(int).tolist()
    [1, 2, 3, 3]
    """

    _op = "dilate"
    _fixed_args = {
        "op": (
            ("dilate",),
            "Dilate is MorphologyEx('dilate'); use MorphologyEx(op, ...) for another operation",
        ),
    }
