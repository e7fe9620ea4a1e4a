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

How it is computed (no convolution, no zero-stuffed image): shift-and-add with the taps
``16 * kernel_x``/``16 * kernel_y`` (the integers 1, 4, 6, 4, 1 for the standard weights) and
one final scale, ``1 / 256`` (down) or ``1 / 64`` (up), in OpenCV's order (the width pass, then
the height pass):

* ``PyrDown`` computes only the kept outputs: per axis five stride-2 slices,
  ``6 x[2y] + (4 x[2y-1] + 4 x[2y+1]) + x[2y-2] + x[2y+2]``; the width pass on every source
  row, then the height pass on the kept rows. Work: about 5/2 + 5/4 multiply-adds per input
  value; one intermediate of half the input.
* ``PyrUp`` is polyphase: per axis, even outputs ``x[i-1] + 6 x[i] + x[i+1]`` and odd outputs
  ``4 x[i] + 4 x[i+1]``; the four output phases ``(2i + p, 2j + q)`` are one expression of the
  input, interleaved by two stacks and a (free) reshape. Work: 25 multiply-adds per input
  value (about 6 per output); compiled, no intermediate image (peak memory measured 5.3x the
  input, the output being 4x); uncompiled, the two width phases are computed once and kept.

For static height and width with at least :data:`fixedfilters.ops.STENCIL_MIN_ELEMENTS` values
per image (TensorFlow or JAX) the step is one XLA computation (``tf.function(jit_compile=True)``
/ ``jax.jit``; one compile per input shape), and each axis is split like the separable stencil
of :mod:`fixedfilters.ops`: the interior outputs read the input directly, the first and last
one or two read a few rows gathered through the border's index map, concatenated on the
output. Otherwise (small images, unknown height or width) the same arithmetic runs as plain
ops, the border through a gather of the extended axis. A layer picks once, from the shape it
was built with. The two paths agree to a few float32 ulps (XLA may fuse a multiply-add); both
stay within the registry's tolerance of ``cv2`` (OpenCV 5.1's SIMD order differs from its
scalar one anyway). The integer paths (uint8, uint16, int16) sum in int32 (exact) with the same
code.

Cost, measured against ``cv2`` at its best in one run of ``benchmarks/bench.py --ops pyr
--repeats 5`` (2 busy cores; in-graph time / OpenCV's, 8x512x512x3 and 64x64x64x1 float32):
``PyrDown`` 2.3x and 3.2x (it was 34x and 39x with a strided depthwise convolution; one
compiled elementwise pass over the input cost 1.7x OpenCV's whole pyrDown in the same run),
``PyrUp`` 5.3x and 9.5x (16x and 71x before). ``PyrUp`` writes an output 4x its input: at
8x512x512x3 a fresh 100 MB buffer from TensorFlow's allocator (page faults) costs about 2.7x
OpenCV's whole pyrUp by itself (measured: 4 concatenated copies of the input); at 64x64x64x1
(one channel) the interleave on the innermost axis is the likely cost (a version without any
border handling measured about as slow); not resolved.
uint8 (``output_dtype="uint8"``): down 2.5x / 2.6x, up 7.6x / 10x. First call (XLA compile)
1.5-3 s for ``PyrDown``, about 6 s for ``PyrUp`` (the fused four-phase expression).
"""

from __future__ import annotations

import functools

import numpy as np
from keras import backend, ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.borders import normalize_border
from fixedfilters.layers.base import (
    SAME_DEPTH,
    FixedFilter,
    check_data_format,
    follow_taps,
    taps_equal,
)
from fixedfilters.ops import filter_method, pad_axis, spatial_axes, xla_jit

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


def _slice(x, axis: int, start, stop, step: int = 1):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop, None if step == 1 else step)
    return x[tuple(index)]


def _length(x, axis: int):
    """The length of ``axis``: an int when static, else a scalar tensor."""
    n = x.shape[axis]
    return int(n) if n is not None else ops.shape(x)[axis]


def _gather_axis(x, axis: int, lo: int, length, border: str):
    """Positions ``lo, lo + 1, ..., lo + length - 1`` of ``x`` along ``axis``, through the
    border (``cv2.borderInterpolate``); ``length`` may be a tensor (dynamic sizes).

    Static sizes: the few border positions gathered through the index map and concatenated
    around ``x`` (:func:`fixedfilters.ops.pad_axis`); in a compiled pass XLA fuses this into
    the loop that reads it (no padded copy). Dynamic sizes: one gather of the whole axis.
    """
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


def _down_sum(s, t):
    """``t2 s(2) + t1 s(1) + t3 s(3) + t0 s(0) + t4 s(4)``, close to OpenCV's scalar order for
    its integer taps, ``s[2] * 6 + (s[1] + s[3]) * 4 + s[0] + s[4]``.

    On TensorFlow one ``AddN``: written as a chain of adds, Grappler's arithmetic optimizer
    regroups the chain inside a ``tf.function`` (not eagerly), so a graph and an eager call
    differed in the last bit; one ``AddN`` runs the same kernel in both."""
    terms = [s(2) * t[2], s(1) * t[1], s(3) * t[3], s(0) * t[0], s(4) * t[4]]
    if backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.math.add_n(terms)
    return terms[0] + terms[1] + terms[2] + terms[3] + terms[4]


def _down_axis(xp, axis: int, d, t):
    """Outputs ``y < d`` of one ``cv2.pyrDown`` axis from ``xp``, the input already extended
    to positions ``-2 .. 2 d``: ``sum_j t[j] x[2 y - 2 + j]``, five stride-2 slices (only the
    kept positions are computed)."""
    return _down_sum(lambda j: _slice(xp, axis, j, j + 2 * d - 1, 2), t)


def _down_pass(x, axis: int, d, t, border: str):
    """Outputs ``y < d`` of one ``cv2.pyrDown`` axis: ``sum_j t[j] x[2 y - 2 + j]`` through
    the border, the kept positions only.

    Static sizes: ``[first | interior | last]`` along ``axis``, like the separable stencil
    (:mod:`fixedfilters.ops`): the interior reads ``x`` directly (five stride-2 slices), the
    first output and the last one or two read 5-7 positions gathered through the index map,
    concatenated on the output (XLA fuses that into one loop; a border-extended copy of the
    input read through a concatenate measured 3-4x slower). Dynamic sizes: one gather of the
    extended axis.
    """
    n = x.shape[axis]
    if n is None or not isinstance(d, int):
        return _down_axis(_gather_axis(x, axis, -2, 2 * d + 3, border), axis, d, t)
    hi = min((int(n) - 3) // 2 + 1, d)  # outputs 1 .. hi - 1 read positions 0 .. n - 1 only
    if hi <= 1:
        return _down_axis(_gather_axis(x, axis, -2, 2 * d + 3, border), axis, d, t)
    parts = [
        _down_axis(_gather_axis(x, axis, -2, 5, border), axis, 1, t),
        _down_axis(_slice(x, axis, 0, 2 * hi + 1), axis, hi - 1, t),
    ]
    if d > hi:
        right = _gather_axis(x, axis, 2 * hi - 2, 2 * (d - hi) + 3, border)
        parts.append(_down_axis(right, axis, d - hi, t))
    return ops.concatenate(parts, axis=axis)


def _pyr_down(x, tx, ty, dstsize, border: str, data_format: str):
    """``cv2.pyrDown`` before its final scale, ``tx``/``ty`` the 5 taps (16x the layer's):
    the width pass on every source row (kept columns only), then the height pass on the kept
    rows only -- OpenCV's order."""
    h_axis, w_axis = spatial_axes(data_format)
    nh, nw = _length(x, h_axis), _length(x, w_axis)
    dw, dh = dstsize if dstsize is not None else (None, None)
    dh = (nh + 1) // 2 if dh is None else dh
    if dw is None:  # the default size: never the quirk (checked against cv2)
        y = _down_pass(x, w_axis, (nw + 1) // 2, tx, border)
        return _down_pass(y, h_axis, dh, ty, border)
    # OpenCV's right-border table: with an even width W >= 4 and w = W // 2 + 1, the last
    # column reads positions W - 3 .. W + 1 (centred on W - 1, not W).
    if isinstance(nw, int):
        if nw % 2 or nw < 4 or dw != nw // 2 + 1:
            y = _down_pass(x, w_axis, dw, tx, border)
            return _down_pass(y, h_axis, dh, ty, border)
        window = _gather_axis(x, w_axis, nw - 3, 5, border)
        y = _down_pass(x, w_axis, dw - 1, tx, border)
    else:
        i = nw - 3 + ops.arange(0, 5, dtype="int32")
        window = ops.take(x, _map_dynamic(i, nw, border), axis=w_axis)
        y = _down_pass(x, w_axis, dw, tx, border)
    last = _down_sum(lambda j: _slice(window, w_axis, j, j + 1), tx)
    if not isinstance(nw, int):
        quirk = ops.logical_and(ops.logical_and(nw % 2 == 0, nw >= 4), dw == nw // 2 + 1)
        last = ops.where(quirk, last, _slice(y, w_axis, dw - 1, dw))
    y = ops.concatenate([_slice(y, w_axis, 0, dw - 1), last], axis=w_axis)
    return _down_pass(y, h_axis, dh, ty, border)


def _up_phase(x, axis: int, t, q: int, inner=None):
    """Phase ``q`` of one ``cv2.pyrUp`` axis before its final scale (output ``2 i + q``), ``t``
    the 5 taps (16x the layer's): ``q = 0``: ``(t0 x[i-1] + t2 x[i]) + t4 x[i+1]``; ``q = 1``:
    ``t1 x[i] + t3 x[i+1]`` (``1, 6, 1`` and ``4, 4``: OpenCV's order), with ``x[-1] = x[1]``
    (reflect_101) and ``x[n] = x[n-1]`` (replicate) -- the reflect_101 border of the
    zero-stuffed image.

    Static sizes: ``[first | interior | last]`` along ``axis``, the interior read from ``x``
    directly and the border outputs from single rows (an extended copy of the input read
    through a concatenate measured several times slower in XLA). Dynamic: one gather.
    ``inner`` maps each slice of ``x`` before use: the other axis's phase of those rows, so
    that the 2-D step is one expression of ``x`` (no intermediate image).
    """
    n = _length(x, axis)
    inner = inner or (lambda v: v)

    def phase(a, b, c):
        return (a * t[0] + b * t[2]) + c * t[4] if q == 0 else b * t[1] + c * t[3]

    if not isinstance(n, int):
        i = ops.arange(-1, n + 1, dtype="int32")
        i = ops.where(i < 0, ops.minimum(n - 1, 1), ops.minimum(i, n - 1))
        xp = inner(ops.take(x, i, axis=axis))
        return phase(*(_slice(xp, axis, j, j + n) for j in range(3)))
    if n == 1:
        v = inner(x)
        return phase(v, v, v)

    def sl(lo, hi):
        return inner(_slice(x, axis, lo, hi))

    if q == 1:
        parts = [phase(None, sl(0, n - 1), sl(1, n)), phase(None, sl(n - 1, n), sl(n - 1, n))]
    else:
        parts = [phase(sl(1, 2), sl(0, 1), sl(1, 2))]
        if n > 2:
            parts.append(phase(sl(0, n - 2), sl(1, n - 1), sl(2, n)))
        parts.append(phase(sl(n - 2, n - 1), sl(n - 1, n), sl(n - 1, n)))
    return ops.concatenate(parts, axis=axis)


def _fit_up(out, axis: int, n, d, extra_from: int):
    """OpenCV's ``dstsize`` along one axis of the ``2 n`` result: ``d = 2 n - 1`` crops the
    last position, ``d = 2 n + 1`` repeats position ``2 n + extra_from`` (-1: the last column;
    -2: the row before last, OpenCV's asymmetry)."""
    if d is None:
        return out
    if isinstance(n, int):
        if d < 2 * n:
            return _slice(out, axis, 0, d)
        if d > 2 * n:
            k = 2 * n + extra_from
            return ops.concatenate([out, _slice(out, axis, k, k + 1)], axis=axis)
        return out
    j = ops.arange(0, d, dtype="int32")
    # position 2n (only when d == 2n + 1) repeats 2n + extra_from
    return ops.take(out, ops.where(j >= 2 * n, 2 * n + extra_from, j), axis=axis)


def _pyr_up(x, tx, ty, dstsize, data_format: str, fused: bool = False):
    """``cv2.pyrUp`` before its final scale: the width phases of every source row, then the
    height phases of each -- OpenCV's order -- giving the four output phases
    ``out[2 i + p, 2 j + q]``, interleaved by two stacks and one reshape (free): no
    zero-stuffed image, no convolution, no intermediate image once XLA fuses it."""
    h_axis, w_axis = spatial_axes(data_format)
    nh, nw = _length(x, h_axis), _length(x, w_axis)

    if fused:
        # One expression of x: the height phases of the width phases of row slices. XLA fuses
        # it into one loop writing the output; computing the width phases once instead made
        # XLA write them out as two intermediate images (measured 1.3-1.6x slower at
        # 8x512x512x3). Uncompiled, that would repeat the width pass: compute it once.
        def width_phase(q):
            return lambda rows: _up_phase(rows, w_axis, tx, q)

        p00, p10, p01, p11 = (
            _up_phase(x, h_axis, ty, p, width_phase(q)) for q in (0, 1) for p in (0, 1)
        )
    else:
        even_w, odd_w = (_up_phase(x, w_axis, tx, q) for q in (0, 1))
        p00, p10 = (_up_phase(even_w, h_axis, ty, p) for p in (0, 1))
        p01, p11 = (_up_phase(odd_w, h_axis, ty, p) for p in (0, 1))
    z = ops.stack(
        [ops.stack([p00, p01], axis=w_axis + 1), ops.stack([p10, p11], axis=w_axis + 1)],
        axis=h_axis + 1,
    )
    static = list(x.shape)
    if isinstance(nh, int) and isinstance(nw, int) and None not in static:
        shape = static
    else:
        dyn = ops.shape(x)
        shape = [s if s is not None else dyn[k] for k, s in enumerate(static)]
    shape[h_axis], shape[w_axis] = 2 * nh, 2 * nw
    out = ops.reshape(z, shape)
    dw, dh = dstsize if dstsize is not None else (None, None)
    out = _fit_up(out, w_axis, nw, dw, -1)
    return _fit_up(out, h_axis, nh, dh, -2)


def _pyramid(x, kx, ky, spec, fused: bool = False):
    """The whole step for ``spec = (up, dstsize, border, data_format, exact)``.

    Float (``exact`` False): taps ``16 * kx``, ``16 * ky`` (the layer's weights; for the
    standard taps the integers 1, 4, 6, 4, 1, exactly) and the sum scaled by ``1 / 256``
    (down) or ``1 / 64`` (up) at the end, as OpenCV does. ``exact`` a dtype name (``x``'s:
    uint8, uint16 or int16): the sums run in int32 with OpenCV's integer taps (exact: at most
    ``256 * 65535`` in size), then ``(s + 128) >> 8`` / ``(s + 32) >> 6`` (an arithmetic
    shift: floor, for int16 too), OpenCV's ``FixPtCast``; the taps sum to 256 (64), so the
    result stays in the dtype's range.
    ``fused`` (set inside the XLA computation): ``PyrUp`` as one expression of ``x``.
    """
    up, dstsize, border, data_format, exact = spec
    if exact:
        x = ops.cast(x, "int32")
        tx = ty = [1, 4, 6, 4, 1]
    else:
        tx = [kx[j] * 16.0 for j in range(5)]
        ty = [ky[j] * 16.0 for j in range(5)]
    if up:
        s = _pyr_up(x, tx, ty, dstsize, data_format, fused)
        if exact:
            return ops.cast(ops.right_shift(s + 32, 6), exact)
        return s * ops.cast(1.0 / 64.0, s.dtype)
    s = _pyr_down(x, tx, ty, dstsize, border, data_format)
    if exact:
        return ops.cast(ops.right_shift(s + 128, 8), exact)
    return s * ops.cast(1.0 / 256.0, s.dtype)


@functools.cache
def _compiled(backend_name: str, spec: tuple):
    """:func:`_pyramid` for ``spec`` as one XLA computation (traced again per input shape)."""
    fn = functools.partial(_pyramid, spec=spec, fused=True)
    return xla_jit(fn, backend_name)


def _run(x, kx, ky, spec, method: str):
    """:func:`_pyramid`, XLA-compiled when ``method`` is ``"stencil"`` and the height and width
    are static (TensorFlow/JAX), else as plain ops (the same arithmetic, uncompiled)."""
    h_axis, w_axis = spatial_axes(spec[3])
    if method == "stencil" and None not in (x.shape[h_axis], x.shape[w_axis]):
        name = backend.backend()
        if name in ("tensorflow", "jax"):
            return _compiled(name, spec)(x, kx, ky)
    return _pyramid(x, kx, ky, spec)


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
    _refused_args = {
        "border_value": "cv2.pyrDown and cv2.pyrUp have no constant border (nothing to fill)",
    }

    def __init__(
        self,
        dstsize: tuple[int, int] | None = None,
        *,
        border: str = "reflect_101",
        data_format: str | None = None,
        **kwargs,
    ):
        border = _check_border(border, self._borders, type(self).__name__)
        super().__init__(border=border, data_format=data_format, **kwargs)
        self.dstsize = _check_dstsize(dstsize)

    def _initial_taps(self) -> dict[str, np.ndarray]:
        return {"kernel_x": _TAPS[None, :].copy(), "kernel_y": _TAPS[None, :].copy()}

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.pyrDown/pyrUp keep the depth; 8- and 16-bit images through OpenCV's integer
        # rounding ((sum + 128) >> 8, (sum + 32) >> 6, with the standard taps).
        return SAME_DEPTH.get(input_dtype, ())

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

    def _filter(self, x):
        kx = ops.cast(self.kernel_x, x.dtype)[0]
        ky = ops.cast(self.kernel_y, x.dtype)[0]
        spec = (self._up, self.dstsize, self.border, self.data_format, False)
        return _run(x, kx, ky, spec, self._compute_path(x))

    def _filter_exact(self, x, output_dtype: str):
        # OpenCV's integer step (int32 sums with the taps 1 4 6 4 1, then its rounding shift)
        # is the result of the standard taps: it runs while the weights hold them, else the
        # generic result from the weights (the float path rounded half to even, saturated).
        # The test is in the graph (base.follow_taps).
        spec = (self._up, self.dstsize, self.border, self.data_format, output_dtype)
        standard = taps_equal([self.kernel_x, self.kernel_y], [_TAPS[None, :], _TAPS[None, :]])
        return follow_taps(
            standard,
            lambda: _exact_step(x, spec, self._compute_path(x)),
            lambda: FixedFilter._filter_exact(self, x, output_dtype),
        )

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
    module docstring for OpenCV's exact rules (reproduced) and the method (shift-and-add on the
    kept outputs only, XLA-compiled for static sizes). Integer input is filtered as float32;
    ``output_dtype`` equal to an 8- or 16-bit input's dtype (``"uint8"``, ``"uint16"``,
    ``"int16"``) gives ``cv2.pyrDown``'s own integers (:func:`pyrdown_uint8` for uint8) while
    the weights hold the standard taps; with other weights, the float result from them rounded
    half to even and saturated (decided in the graph).

    Input ``(batch, H, W, C)``; output ``(batch, h, w, C)`` (channels first likewise), 1x1 -> 1x1.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> ff.PyrDown()(x)[0, :, :, 0].numpy().tolist()
    [[3.75, 4.875], [8.25, 9.375]]
    """

    _borders = PYRDOWN_BORDERS


@register_keras_serializable(package="fixedfilters")
class PyrUp(_Pyramid):
    """Double the size (zeros inserted) and blur with 4x the 5x5 Gaussian, like ``cv2.pyrUp``.

    OpenCV equivalent: ``cv2.pyrUp(img, dstsize=dstsize)`` on float32 images (each channel
    independently). Output ``(2 H, 2 W)`` by default; ``dstsize=(w, h)`` (OpenCV's order) is
    allowed when ``|w - 2 W| == w % 2`` and ``|h - 2 H| == h % 2`` (a ValueError naming
    ``dstsize`` otherwise). Border: only ``"reflect_101"`` (``cv2.BORDER_DEFAULT``), the one
    ``cv2.pyrUp`` accepts, applied to the zero-stuffed image as OpenCV does (so the last row and
    column see a replicated pixel). Correlation, taps the fixed weights ``kernel_x``/``kernel_y``
    ``(1, 5)`` = ``[1, 4, 6, 4, 1] / 16``, used polyphase: the four output phases computed from
    the input by shift-and-add and interleaved (no zero-stuffed image, no convolution; see the
    module docstring). ``output_dtype`` equal to an 8- or 16-bit input's dtype (``"uint8"``,
    ``"uint16"``, ``"int16"``) gives ``cv2.pyrUp``'s own integers (:func:`pyrup_uint8` for
    uint8) while the weights hold the standard taps; with other weights, the float result from
    them rounded half to even and saturated (decided in the graph).

    Input ``(batch, H, W, C)``; output ``(batch, h, w, C)`` (channels first likewise).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.array([[0.0, 8.0]], "float32").reshape(1, 1, 2, 1)
    >>> ff.PyrUp()(x)[0, :, :, 0].numpy().tolist()
    [[2.0, 4.0, 7.0, 8.0], [2.0, 4.0, 7.0, 8.0]]
    """

    _borders = PYRUP_BORDERS
    _up = True


# -- OpenCV's integer results (uint8 here; the layers take 16-bit too) ---------------------------
def _uint8_tensor(x, name: str):
    x = ops.convert_to_tensor(x)
    if backend.standardize_dtype(x.dtype) != "uint8":
        raise TypeError(f"{name} takes a uint8 image. Received: input dtype={x.dtype}")
    return x


def _uint8_input(x, name: str):
    """A uint8 tensor cast to float32 (TypeError naming ``name`` otherwise)."""
    return ops.cast(_uint8_tensor(x, name), "float32")


def _exact_step(x, spec, method: str):
    """OpenCV's integer result of the step ``spec`` (``exact`` the output dtype: the input's,
    uint8, uint16 or int16) for an integer ``x``."""
    t = ops.convert_to_tensor(_TAPS, "float32")  # unused on the exact path (integer taps)
    return _run(x, t, t, spec, method)


def _exact_method(x, data_format: str) -> str:
    h_axis, w_axis = spatial_axes(data_format)
    if None in (x.shape[h_axis], x.shape[w_axis]):
        return "conv"
    return filter_method(x, data_format)


def pyrdown_uint8(
    x,
    dstsize: tuple[int, int] | None = None,
    *,
    border: str = "reflect_101",
    data_format: str | None = None,
):
    """``cv2.pyrDown(x, dstsize=dstsize, borderType=...)`` on uint8 images, byte for byte.

    OpenCV sums ``outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) * x`` in integers and returns
    ``(sum + 128) >> 8``; here the same sums run in int32 (exact in any order: at most
    ``256 * 255``), then the same rounding. Computed like :class:`PyrDown` (the kept outputs
    only, XLA-compiled for static sizes of at least ``STENCIL_MIN_ELEMENTS`` values).
    ``x``: a uint8 ``(batch, H, W, C)`` tensor (``(batch, C, H, W)`` channels first); returns
    uint8 of :class:`PyrDown`'s output shape.

    >>> import numpy as np
    >>> x = np.array([[[[1], [2]], [[2], [2]]]], "uint8")
    >>> pyrdown_uint8(x).numpy().ravel().tolist()  # cv2.pyrDown gives 2 (1.9375 -> 2)
    [2]
    """
    border = _check_border(border, PYRDOWN_BORDERS, "pyrdown_uint8")
    data_format = check_data_format(data_format)
    dstsize = _check_dstsize(dstsize)
    x = _uint8_tensor(x, "pyrdown_uint8")
    _validate_static(x, dstsize, data_format, up=False)
    spec = (False, dstsize, border, data_format, "uint8")
    return _exact_step(x, spec, _exact_method(x, data_format))


def pyrup_uint8(x, dstsize: tuple[int, int] | None = None, *, data_format: str | None = None):
    """``cv2.pyrUp(x, dstsize=dstsize)`` on uint8 images, byte for byte.

    OpenCV sums the polyphase taps (``[1, 6, 1]`` and ``[4, 4]`` per axis) in integers and
    returns ``(sum + 32) >> 6``; here the same sums run in int32 (exact: at most ``64 * 255``),
    then the same rounding. Computed like :class:`PyrUp`; shapes as :class:`PyrUp`.

    >>> import numpy as np
    >>> pyrup_uint8(np.array([[[[0], [3]]]], "uint8")).numpy()[0, 0, :, 0].tolist()
    [1, 2, 3, 3]
    """
    data_format = check_data_format(data_format)
    dstsize = _check_dstsize(dstsize)
    x = _uint8_tensor(x, "pyrup_uint8")
    _validate_static(x, dstsize, data_format, up=True)
    spec = (True, dstsize, "reflect_101", data_format, "uint8")
    return _exact_step(x, spec, _exact_method(x, data_format))


def _validate_static(x, dstsize, data_format: str, up: bool) -> None:
    layer = (PyrUp if up else PyrDown)(dstsize, data_format=data_format)
    layer._check_input_shape(tuple(x.shape))
