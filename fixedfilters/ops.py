"""Functional filtering ops on tensors, written against ``keras.ops`` (any Keras backend).

Everything here is *correlation* (no kernel flip), like ``cv2.filter2D``, ``cv2.sepFilter2D``,
``cv2.Sobel`` and ``cv2.GaussianBlur``. Borders come from index maps (see
:mod:`fixedfilters.borders`), so any image size works (1x1 included). The taps may be tensors (a
layer passes its weights), so what the weights say is what runs, and gradients flow to the input.

Two code paths, one idea each:

``"stencil"`` (TensorFlow and JAX; static height and width, ``H * W * C >= STENCIL_MIN_ELEMENTS``)
    A shift-and-add stencil compiled with XLA (``tf.function(jit_compile=True)`` / ``jax.jit``):
    one pass down the height, then one across the width, each a sum of ``k`` shifted slices
    times a tap. No padded copy is built: a pass computes the interior from its input directly
    and the few border rows (columns) from thin strips gathered through the index map, and
    concatenates the three pieces along a non-minor axis, which XLA fuses into the same loop.
    All terms of a layer (Laplacian, SobelMagnitude), their combination and ``scale``/``delta``
    share one width pass. The tensor stays 4-D with the channels innermost; channels-first
    input is viewed as ``(B * C, H, W, 1)`` planes (a free reshape). Temporaries: one
    input-sized intermediate per term (Sobel 1), plus the output.

    A filter of two or more terms with at most ``DIRECT_2D_MAX_TAPS`` (9) taps per term
    (Laplacian ksize 1 and 3, SobelMagnitude 3x3, ksize 1 and Scharr) runs instead as one
    direct 2-D pass: the terms' 2-D kernels (``outer(ky[t], kx[t])``, summed for a sum), each
    output pixel a sum of ``kh * kw`` shifted slices, the border rows and columns from thin
    strips gathered through the index maps (corners included) and concatenated around the
    interior. No intermediate image: peak memory is the output. Measured in one process
    (8x512x512x3, 2 busy cores, stencil / direct 2-D time): Laplacian ksize 1 3.4x, ksize 3
    4.3x, SobelMagnitude 3x3 1.3x faster direct; peak RSS 3.0x -> 1.0x the input. For one
    term (Sobel, Gaussian 3x3) the separable passes stay: direct 2-D was 2.0x slower there
    (9 multiply-adds a pixel against 6).
``"conv"`` (any backend; dynamic height or width; small images)
    Pad both axes once (the border rows gathered through the index map and concatenated around
    the image; a full in-graph gather only for dynamic sizes), then two ``valid`` depthwise
    convolutions per term.

A layer picks its path once, from the shape it was built with (:func:`filter_method`), so eager
calls, ``tf.function``, ``fit``/``predict`` and an export with dynamic sizes run the same
arithmetic. XLA compiles once per input shape (0.1-1 s, see the benchmark's first-call column);
below ``STENCIL_MIN_ELEMENTS`` values per image (32x32 single-channel) the conv path runs,
since so few pixels rarely repay a compile, and a graph with dynamic height/width uses the conv
path (no compile per image size, e.g. in ``tf.data`` over images of mixed sizes).

Measured (2-core Xeon, TensorFlow 2.21, inside ``tf.function``, 8x512x512x3 float32; median
time / median time of OpenCV's per-plane loop, interleaved in one process):

=======================  ===========  ==========  ==========  ==========  ========
op                       gather+conv  pad+conv    stencil,    stencil,    stencil
                         (before)     (kept)      2-D direct  per term    (kept)
=======================  ===========  ==========  ==========  ==========  ========
Sobel 3x3                0.87         0.54        0.66        0.40        0.33
Laplacian ksize 1        1.71         1.34        0.79        0.93        0.80
Gaussian 3x3             0.87         0.55        0.67        0.41        0.33
Gaussian 7x7             0.83         0.58        2.19        0.30        0.29
Gaussian 15x15           1.03         0.85        13.9        0.52        0.45
SobelMagnitude 3x3       1.06         0.81        0.87        0.62        0.48
=======================  ===========  ==========  ==========  ==========  ========

"per term": each term with its own width pass, combined afterwards. Also measured and
dropped: the stencil in a merged ``(B, H, W * C)`` layout (XLA does not fuse a concatenate on
the minor axis: +2-4 ms a pass; 3x3 and 15x15 about 1.3x slower than kept); an
explicit-padding depthwise convolution with the border rows/columns then replaced by
``tensor_scatter_nd_update`` (the scatter copies: 11.5-11.8 ms vs 10.7 ms for pad+conv,
Sobel); a planes layout ``(B * C, H, W, 1)`` with ``conv2d`` or depthwise (13-16 ms for one
3-tap pass vs 5-7 ms NHWC, before two ~9 ms transposes); ``tf.pad`` REFLECT (8.7 ms vs 7.8 ms
for two concatenates); a full gather of the padded axes (15.5 ms vs 8.2 ms); XLA compiling
the depthwise convolutions (0.29 s a call: XLA's CPU convolution is slow for depthwise);
shift-and-add without XLA (each tap a full-size op: 2-12x slower).

A plain ``DepthwiseConv2D(padding="same")`` with a 3x3 kernel is one TensorFlow op (zero
borders, no pass structure) that costs about 3.5-4 NumPy copies of the batch here; a third of
it would be about 1.25 copies, i.e. one read and one write of the batch, which two fused passes
cannot reach (each XLA pass alone is about 1.5 copies). For 7x7 and up the stencil is 2.4-8x
faster than it (see ``benchmarks/``).
"""

from __future__ import annotations

import functools

import keras
from keras import ops

from fixedfilters.borders import border_index, constant_mask, normalize_border

__all__ = [
    "STENCIL_MIN_ELEMENTS",
    "DIRECT_2D_MAX_TAPS",
    "CORRELATE2D_STENCIL_MAX_TAPS",
    "pad_axis",
    "sep_filter",
    "sep_filter_bank",
    "sep_correlate",
    "correlate2d",
    "spatial_axes",
    "filter_method",
]

STENCIL_MIN_ELEMENTS = 1024
"""Height * width * channels per image from which separable filters run the compiled stencil."""

_METHODS = ("stencil", "conv")


def spatial_axes(data_format: str, ndim: int = 4) -> tuple[int, int]:
    """(height axis, width axis) of an ``ndim``-rank image batch in ``data_format``."""
    if data_format == "channels_last":
        return ndim - 3, ndim - 2
    return ndim - 2, ndim - 1


def _index_map(n, before: int, after: int, border: str):
    """Index map for an axis of dynamic (tensor) length ``n``: the formulas of
    :func:`fixedfilters.borders.border_index`, in-graph."""
    n = ops.cast(n, "int32")
    i = ops.arange(-before, n + after, dtype="int32")
    if border == "wrap":
        return ops.mod(i, n)
    if border in ("replicate", "constant"):
        return ops.clip(i, 0, n - 1)
    if border == "reflect":
        j = ops.mod(i, 2 * n)
        return ops.where(j >= n, 2 * n - 1 - j, j)
    period = ops.maximum(2 * n - 2, 1)
    j = ops.mod(i, period)
    j = ops.where(j >= n, period - j, j)
    return ops.where(n == 1, ops.zeros_like(j), j)


def pad_axis(x, axis: int, before: int, after: int, border: str, border_value: float = 0.0):
    """Pad one axis of ``x`` with ``border`` (``before``/``after`` elements on each side).

    With a static length the border rows are gathered through the index map and concatenated
    around ``x`` (no gather of the whole tensor); any length works, 1 included, however large
    the padding. A dynamic length gathers the whole padded axis in-graph.
    """
    if before == 0 and after == 0:
        return x
    border = normalize_border(border)
    if border == "constant":
        widths = [(0, 0)] * len(x.shape)
        widths[axis] = (before, after)
        return ops.pad(x, widths, mode="constant", constant_values=border_value)
    n = x.shape[axis]
    if n is None:
        return ops.take(x, _index_map(ops.shape(x)[axis], before, after, border), axis=axis)
    n = int(n)
    idx = border_index(n, before, after, border).astype("int32")
    parts = [ops.take(x, idx[:before], axis=axis)] if before else []
    parts.append(x)
    if after:
        parts.append(ops.take(x, idx[before + n :], axis=axis))
    return ops.concatenate(parts, axis=axis)


def _channels(x, data_format: str) -> int:
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if c is None:
        raise ValueError(
            "the channel dimension of the input must be known. "
            f"Received: input shape={tuple(x.shape)} with data_format={data_format!r}"
        )
    return int(c)


@ops.custom_gradient
def _magnitude(gx, gy):
    """``sqrt(gx**2 + gy**2)`` (NaN and inf propagate), with gradient 0 where it is 0.

    A plain ``sqrt`` has an infinite slope at 0, so flat regions would give NaN gradients
    (``inf * 0``); a ``where`` in the forward pass would cost three full-size ops on the conv
    path, so only the gradient takes care of it.
    """
    m = ops.sqrt(gx * gx + gy * gy)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        flat = m == 0
        scale = ops.where(flat, ops.zeros_like(m), upstream / ops.where(flat, ops.ones_like(m), m))
        return scale * gx, scale * gy

    return m, grad


def _combine(outs, combine: str, scale: float, delta: float):
    """Sum the terms (or take the magnitude of two), then ``* scale + delta``."""
    if combine == "magnitude":
        out = _magnitude(*outs)
    else:
        out = outs[0]
        for extra in outs[1:]:
            out = out + extra
    if scale != 1.0:
        out = out * ops.cast(scale, out.dtype)
    if delta != 0.0:
        out = out + ops.cast(delta, out.dtype)
    return out


# -- conv path: pad once, then valid depthwise passes --------------------------------------
def _depthwise_kernel(taps, channels: int, shape: tuple[int, int]):
    """Tile 1-D or 2-D ``taps`` (reshaped to ``shape``) into a depthwise kernel."""
    k = ops.reshape(taps, (shape[0], shape[1], 1, 1))
    return ops.tile(k, (1, 1, channels, 1))


def _valid_pass(xp, taps, axis: str, channels: int, data_format: str):
    """Valid depthwise correlation of an already padded ``xp`` along one axis."""
    k = int(taps.shape[0])
    if k == 1:
        return xp * taps[0]
    shape = (k, 1) if axis == "height" else (1, k)
    kernel = _depthwise_kernel(taps, channels, shape)
    return ops.depthwise_conv(xp, kernel, strides=1, padding="valid", data_format=data_format)


def _conv_filter(x, kx, ky, spec):
    combine, border, value, (ax, ay), data_format, scale, delta = spec
    h_axis, w_axis = spatial_axes(data_format)
    kh, kw = int(ky.shape[1]), int(kx.shape[1])
    c = _channels(x, data_format)
    xp = pad_axis(x, h_axis, ay, kh - 1 - ay, border, value)
    xp = pad_axis(xp, w_axis, ax, kw - 1 - ax, border, value)
    outs = []
    for t in range(int(kx.shape[0])):
        y = _valid_pass(xp, ky[t], "height", c, data_format)
        outs.append(_valid_pass(y, kx[t], "width", c, data_format))
    return _combine(outs, combine, scale, delta)


# -- stencil path: fused shift-and-add, borders from thin strips -----------------------------
def _slice(z, axis: int, start: int, stop: int):
    index = [slice(None)] * len(z.shape)
    index[axis] = slice(start, stop)
    return z[tuple(index)]


def _strip(z, axis, idx, p0, p1, n, before, after, border, value):
    """Padded positions ``[p0, p1)`` of ``z`` along ``axis``, through the index map ``idx``."""
    s = ops.take(z, idx[p0:p1], axis=axis)
    if border == "constant":
        shape = [1] * len(z.shape)
        shape[axis] = -1
        inside = constant_mask(n, before, after)[p0:p1].reshape(shape)
        s = ops.where(inside, s, ops.cast(value, s.dtype))
    return s


def _stencil_pass(zs, taps, axis: int, before: int, border: str, values, finish):
    """Correlate each ``zs[t]`` with ``taps[t]`` along ``axis`` (a border around it), then
    ``finish(list of results)``; ``values[t]`` is the constant border value for ``zs[t]``.

    The output is ``[left strip | interior | right strip]`` along ``axis``: the interior reads
    ``zs`` directly, the strips read ``before + k - 1`` (``after + k - 1``) positions gathered
    through the index map. Axes shorter than the kernel are one strip.
    """
    k = int(taps[0].shape[0])
    after = k - 1 - before

    def region(ss):
        outs = []
        for s, t in zip(ss, taps, strict=True):
            m = int(s.shape[axis]) - k + 1
            out = None
            for j in range(k):
                term = _slice(s, axis, j, j + m) * t[j]
                out = term if out is None else out + term
            outs.append(out)
        return finish(outs)

    if k == 1:
        return region(zs)
    n = int(zs[0].shape[axis])
    idx = border_index(n, before, after, border).astype("int32")

    def strip(p0, p1):
        return region(
            [
                _strip(z, axis, idx, p0, p1, n, before, after, border, v)
                for z, v in zip(zs, values, strict=True)
            ]
        )

    if n < k:
        return strip(0, n + k - 1)
    parts = [strip(0, before + k - 1)] if before else []
    parts.append(region(zs))
    if after:
        parts.append(strip(n - after, n + k - 1))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]


def _split(z, axis: int, k: int, before: int, border: str, value, fn):
    """``fn`` on ``[left strip | z | right strip]`` along ``axis``, concatenated.

    ``fn(piece)`` returns a result ``k - 1`` shorter than ``piece`` along ``axis`` (a valid
    correlation); the interior reads ``z`` directly, the strips read ``before + k - 1`` (``after
    + k - 1``) positions gathered through the index map (``value`` outside for a constant
    border). An axis shorter than the kernel is one strip.
    """
    if k == 1:
        return fn(z)
    after = k - 1 - before
    n = int(z.shape[axis])
    idx = border_index(n, before, after, border).astype("int32")

    def strip(p0, p1):
        return fn(_strip(z, axis, idx, p0, p1, n, before, after, border, value))

    if n < k:
        return strip(0, n + k - 1)
    parts = [strip(0, before + k - 1)] if before else []
    parts.append(fn(z))
    if after:
        parts.append(strip(n - after, n + k - 1))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]


def _direct_2d(z, k2s, anchor, border: str, value: float, finish):
    """One pass: each 2-D kernel of ``k2s`` (``(kh, kw)`` tensors) correlated with ``z``
    (``(N, H, W, C)``) as a sum of ``kh * kw`` shifted slices, then ``finish(list)``.

    No intermediate image: the output is ``[top | middle | bottom]`` rows, the middle band
    ``[left | interior | right]`` columns; the interior reads ``z``, the border pieces read thin
    strips gathered through the index maps (corners see the 2-D border).
    """
    kh, kw = int(k2s[0].shape[0]), int(k2s[0].shape[1])
    ax, ay = anchor

    def valid(piece):
        m = int(piece.shape[1]) - kh + 1
        w = int(piece.shape[2]) - kw + 1
        outs = []
        for k2 in k2s:
            acc = None
            for i in range(kh):
                for j in range(kw):
                    term = piece[:, i : i + m, j : j + w, :] * k2[i, j]
                    acc = term if acc is None else acc + term
            outs.append(acc)
        return finish(outs)

    def band(rows):
        return _split(rows, 2, kw, ax, border, value, valid)

    return _split(z, 1, kh, ay, border, value, band)


DIRECT_2D_MAX_TAPS = 9
"""Largest ``kh * kw`` for which a filter of two or more terms runs as one direct 2-D pass."""


def _use_direct_2d(kh: int, kw: int, terms: int) -> bool:
    """Direct 2-D pass or separable passes (measured: see the module docstring)."""
    return terms >= 2 and kh * kw <= DIRECT_2D_MAX_TAPS


def _stencil_filter(x, kx, ky, spec):
    combine, border, value, (ax, ay), data_format, scale, delta = spec
    shape = tuple(x.shape)
    # Channels innermost: channels-first input is viewed as (B * C, H, W, 1) planes.
    z = x if data_format == "channels_last" else ops.reshape(x, (-1, shape[2], shape[3], 1))
    kx = ops.cast(kx, x.dtype)
    ky = ops.cast(ky, x.dtype)
    terms = range(int(kx.shape[0]))
    kh, kw = int(ky.shape[1]), int(kx.shape[1])

    def finish(o):
        return _combine(o, combine, scale, delta)

    if _use_direct_2d(kh, kw, len(terms)):
        k2s = [ops.expand_dims(ky[t], 1) * ops.expand_dims(kx[t], 0) for t in terms]
        if combine == "sum":
            k2 = k2s[0]
            for extra in k2s[1:]:
                k2 = k2 + extra
            k2s = [k2]
        out = _direct_2d(z, k2s, (ax, ay), border, value, finish)
        return ops.reshape(out, (-1,) + shape[1:])
    ys = [_stencil_pass([z], [ky[t]], 1, ay, border, [value], lambda o: o[0]) for t in terms]
    # A constant border around the image is `value * sum(ky)` after the height pass.
    if border == "constant" and value != 0.0:
        wvalues = [value * ops.sum(ky[t]) for t in terms]
    else:
        wvalues = [value for _ in terms]
    out = _stencil_pass(ys, [kx[t] for t in terms], 2, ax, border, wvalues, finish)
    return ops.reshape(out, (-1,) + shape[1:])


def _stencil_bank(x, kxs, kys, specs):
    """Each spec's stencil on ``x``; several are concatenated filter-major on the channels."""
    outs = [_stencil_filter(x, kx, ky, spec) for kx, ky, spec in zip(kxs, kys, specs, strict=True)]
    if len(outs) == 1:
        return outs[0]
    return ops.concatenate(outs, axis=-1 if specs[0][4] == "channels_last" else 1)


def xla_jit(fn, backend: str):
    """``fn`` as one XLA computation: ``tf.function(jit_compile=True)`` on TensorFlow,
    ``jax.jit`` on JAX (traced again for each input shape); ``fn`` itself on other backends."""
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(fn, jit_compile=True, autograph=False)

        @functools.wraps(fn)
        def call(*args):
            # A Keras variable (a layer's taps) as an argument: tf.function would read it as a
            # NumPy value to build its trace key, which fails inside another graph (predict,
            # tf.data, export). Its current value is an ordinary tensor argument.
            return compiled(*(a.value if isinstance(a, keras.Variable) else a for a in args))

        return call
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


@functools.cache
def _compiled_stencil(backend: str, specs: tuple):
    """The stencils for ``specs`` in one XLA computation (traced again for each input shape)."""
    fn = functools.partial(_stencil_bank, specs=specs)
    return xla_jit(fn, backend)


def filter_method(x, data_format: str = "channels_last") -> str:
    """``"stencil"`` or ``"conv"``: the path :func:`sep_filter` takes for ``x``.

    ``x`` is a tensor or a shape. The stencil needs TensorFlow or JAX, a static height and
    width, and ``H * W * C >= STENCIL_MIN_ELEMENTS``. A layer decides once, from the shape it
    was built with, so a model exported with dynamic height/width and the same model called on
    concrete images take the same path and give the same bits.
    """
    shape = tuple(getattr(x, "shape", x))
    if keras.backend.backend() not in ("tensorflow", "jax") or len(shape) != 4:
        return "conv"
    h_axis, w_axis = spatial_axes(data_format)
    c_axis = 3 if data_format == "channels_last" else 1
    h, w, c = shape[h_axis], shape[w_axis], shape[c_axis]
    if h is None or w is None or c is None:
        return "conv"
    return "stencil" if int(h) * int(w) * int(c) >= STENCIL_MIN_ELEMENTS else "conv"


def _prepare(
    x,
    kx,
    ky,
    *,
    combine: str = "sum",
    scale: float = 1.0,
    delta: float = 0.0,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
):
    """Taps as tensors of ``x``'s dtype, and the hashable spec of one separable filter."""
    border = normalize_border(border)
    if combine not in ("sum", "magnitude"):
        raise ValueError(f"combine must be 'sum' or 'magnitude'. Received: combine={combine!r}")
    # a tensor read of the taps (a Keras variable passed on as-is breaks tf.data tracing)
    kx = ops.cast(kx, x.dtype)
    ky = ops.cast(ky, x.dtype)
    kh, kw = int(ky.shape[-1]), int(kx.shape[-1])
    ax, ay = (kw // 2, kh // 2) if anchor is None else (int(anchor[0]), int(anchor[1]))
    spec = (combine, border, float(border_value), (ax, ay), data_format, float(scale), float(delta))
    return kx, ky, spec


def _resolve_method(x, method, data_format):
    h_axis, w_axis = spatial_axes(data_format)
    if method is None:
        return filter_method(x, data_format)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS} or None. Received: method={method!r}")
    if method == "stencil" and None in (x.shape[h_axis], x.shape[w_axis]):
        return "conv"  # the stencil is traced for static sizes; a dynamic graph cannot
    return method


def sep_filter(
    x,
    kx,
    ky,
    *,
    combine: str = "sum",
    scale: float = 1.0,
    delta: float = 0.0,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
    method: str | None = None,
):
    """A sum (or magnitude) of separable correlations: ``combine_t(outer(ky[t], kx[t]) * x)``.

    ``kx`` is ``(terms, kw)`` and ``ky`` ``(terms, kh)`` (a layer's ``kernel_x``/``kernel_y``);
    term ``t`` is ``cv2.sepFilter2D(plane, -1, kx[t], ky[t], anchor=anchor, borderType=...)`` on
    every plane. ``combine="sum"`` adds the terms, ``"magnitude"`` returns
    ``sqrt(t0**2 + t1**2)`` (two terms; gradient 0 where both are 0). Then
    ``out * scale + delta``. Border corners see the 2-D border (``border_value`` included).
    ``anchor`` is ``(x, y)``, default the centre of each kernel. ``method`` forces a path
    (``"stencil"`` or ``"conv"``, see the module docstring; ``"stencil"`` falls back to
    ``"conv"`` when the height or width is dynamic); ``None`` picks :func:`filter_method`.
    Input and output ``(B, H, W, C)`` (``(B, C, H, W)`` channels first).
    """
    kx, ky, spec = _prepare(
        x,
        kx,
        ky,
        combine=combine,
        scale=scale,
        delta=delta,
        border=border,
        border_value=border_value,
        anchor=anchor,
        data_format=data_format,
    )
    if _resolve_method(x, method, data_format) == "stencil":
        return _compiled_stencil(keras.backend.backend(), (spec,))(x, [kx], [ky])
    return _conv_filter(x, kx, ky, spec)


def sep_filter_bank(x, filters, *, data_format: str = "channels_last", method: str | None = None):
    """Several :func:`sep_filter` on the same ``x``, concatenated filter-major on the channels.

    ``filters`` is a sequence of ``(kx, ky, options)``, ``options`` a dict of
    :func:`sep_filter`'s keywords (``combine``, ``scale``, ``delta``, ``border``,
    ``border_value``, ``anchor``). With ``C`` input channels, output channel ``i * C + c`` is
    filter ``i`` on channel ``c`` (``FilterBank``'s order). On the stencil path all filters run
    in one compiled computation (one call, one output buffer); on the conv path one after the
    other.
    """
    prepared = [_prepare(x, kx, ky, data_format=data_format, **opts) for kx, ky, opts in filters]
    kxs, kys, specs = (list(t) for t in zip(*prepared, strict=True))
    if _resolve_method(x, method, data_format) == "stencil":
        return _compiled_stencil(keras.backend.backend(), tuple(specs))(x, kxs, kys)
    outs = [_conv_filter(x, kx, ky, spec) for kx, ky, spec in prepared]
    return ops.concatenate(outs, axis=-1 if data_format == "channels_last" else 1)


def sep_correlate(
    x,
    kx,
    ky,
    *,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
    method: str | None = None,
):
    """Separable correlation with ``outer(ky, kx)``: ``ky`` down the height, ``kx`` across.

    Equivalent to ``cv2.sepFilter2D(img, -1, kx, ky, anchor=anchor, borderType=...)`` on each
    plane; the corners see exactly the 2-D border (this matters for ``"constant"`` with a
    non-zero ``border_value``). ``anchor`` is ``(x, y)``; default the centre of each kernel.
    One term of :func:`sep_filter`.
    """
    kx = ops.reshape(ops.convert_to_tensor(kx), (1, -1))
    ky = ops.reshape(ops.convert_to_tensor(ky), (1, -1))
    return sep_filter(
        x,
        kx,
        ky,
        border=border,
        border_value=border_value,
        anchor=anchor,
        data_format=data_format,
        method=method,
    )


CORRELATE2D_STENCIL_MAX_TAPS = 49
"""Largest ``kh * kw`` :func:`correlate2d` runs as a direct 2-D stencil (``method="stencil"``)."""


def _direct_bank(x, kernel, spec):
    border, value, anchor, data_format = spec
    shape = tuple(x.shape)
    z = x if data_format == "channels_last" else ops.reshape(x, (-1, shape[2], shape[3], 1))
    k = ops.cast(kernel, x.dtype)
    out = _direct_2d(z, [k], anchor, border, value, lambda o: o[0])
    return ops.reshape(out, (-1,) + shape[1:])


@functools.cache
def _compiled_direct(backend: str, spec: tuple):
    """:func:`_direct_bank` for ``spec`` as one XLA computation (traced per input shape)."""
    fn = functools.partial(_direct_bank, spec=spec)
    return xla_jit(fn, backend)


def correlate2d(
    x,
    kernel,
    *,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
    method: str | None = None,
):
    """Correlate every plane of ``x`` with the 2-D ``kernel`` (``cv2.filter2D`` semantics).

    ``anchor`` is ``(x, y)`` in the kernel, OpenCV's order; default the centre
    ``(kw // 2, kh // 2)``. ``method=None`` or ``"conv"``: pad both axes once, then one
    ``valid`` depthwise convolution. ``method="stencil"`` (TensorFlow or JAX, static height
    and width, at most ``CORRELATE2D_STENCIL_MAX_TAPS`` taps; else ``"conv"``): one direct 2-D
    XLA pass, no padded copy (see the module docstring). The caller picks once per layer (as
    :func:`filter_method` does for the separable layers), so that eager calls and an export
    with dynamic sizes run the same arithmetic.
    """
    border = normalize_border(border)
    kernel = ops.convert_to_tensor(kernel)
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    ax, ay = (kw // 2, kh // 2) if anchor is None else (int(anchor[0]), int(anchor[1]))
    if method is not None and method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS} or None. Received: method={method!r}")
    h_axis, w_axis = spatial_axes(data_format)
    if (
        method == "stencil"
        and kh * kw <= CORRELATE2D_STENCIL_MAX_TAPS
        and keras.backend.backend() in ("tensorflow", "jax")
        and None not in (x.shape[h_axis], x.shape[w_axis])
    ):
        spec = (border, float(border_value), (ax, ay), data_format)
        return _compiled_direct(keras.backend.backend(), spec)(x, ops.cast(kernel, x.dtype))
    xp = pad_axis(x, h_axis, ay, kh - 1 - ay, border, border_value)
    xp = pad_axis(xp, w_axis, ax, kw - 1 - ax, border, border_value)
    dk = _depthwise_kernel(kernel, _channels(x, data_format), (kh, kw))
    return ops.depthwise_conv(xp, dk, strides=1, padding="valid", data_format=data_format)
