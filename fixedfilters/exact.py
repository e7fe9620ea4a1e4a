"""OpenCV's integer results, in-graph: ``saturate_cast``, its float32 ``fma`` and dtype tables.

OpenCV turns a float result into an 8- or 16-bit pixel with ``saturate_cast<T>(v)``: round to
nearest with ties to even (``cvRound``: ``lrint`` / ``cvtps2dq`` under the default rounding mode),
then clamp to the range of ``T``. Measured on ``cv2`` 5.1 (SIMD and scalar tails alike): values
beyond the range (``inf`` included) clamp, and NaN becomes the *largest* value of ``T`` (255,
32767, 65535). :func:`saturate_cast` does the same with ``keras.ops`` (any backend, any graph).

:func:`fma_f32` emulates the float32 fused multiply-add that OpenCV's AVX2 code (and GCC's
contracted scalar tails) use for ``x * a + b`` in ``convertTo``/``convertScaleAbs``: the product
of two float32 numbers is exact in float64, the sum is rounded once to float64 and then to
float32. (The double rounding differs from a true float32 FMA only when the float64 sum lands
exactly halfway between two float32 numbers, which needs ``b`` to carry bits 30+ binades below
the product: not seen in practice.)

Everything here returns integer tensors, which carry no gradient: TensorFlow's
``GradientTape.gradient`` returns ``None`` through them, ``jax.grad`` refuses integer outputs.

>>> import numpy as np
>>> from fixedfilters.exact import saturate_cast
>>> v = np.array([0.5, 1.5, 2.5, -3.0, 300.0, np.nan], "float32")
>>> np.asarray(saturate_cast(v, "uint8")).tolist()
[0, 2, 2, 0, 255, 255]
"""

from __future__ import annotations

import functools

import keras
from keras import ops

__all__ = [
    "OUTPUT_DTYPES",
    "INTEGER_DTYPES",
    "INTEGER_RANGE",
    "check_output_dtype",
    "saturate_cast",
    "fma_f32",
    "is_integer_dtype",
    "float64_available",
]

OUTPUT_DTYPES = ("uint8", "int16", "uint16", "float32", "float64")
"""The values ``output_dtype=`` accepts (OpenCV's CV_8U, CV_16S, CV_16U, CV_32F, CV_64F)."""

INTEGER_DTYPES = ("uint8", "int16", "uint16")

INTEGER_RANGE = {"uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535)}


def check_output_dtype(output_dtype: object) -> str | None:
    """``None`` or one of :data:`OUTPUT_DTYPES` (NumPy dtypes and classes accepted)."""
    if output_dtype is None:
        return None
    name = None
    try:
        import numpy as np

        name = np.dtype(output_dtype).name
    except TypeError:
        pass
    if name not in OUTPUT_DTYPES or isinstance(output_dtype, bool):
        raise ValueError(
            f"output_dtype must be None (float, as before) or one of {OUTPUT_DTYPES}. "
            f"Received: output_dtype={output_dtype!r}"
        )
    return name


def is_integer_dtype(dtype: str) -> bool:
    return dtype in INTEGER_DTYPES


def float64_available() -> bool:
    """Whether float64 tensors really are float64 (JAX needs ``JAX_ENABLE_X64``)."""
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


def saturate_cast(x, dtype: str):
    """OpenCV's ``saturate_cast<dtype>(x)`` of a float tensor: round half to even, clamp.

    NaN maps to the largest value of ``dtype`` (what ``cv2`` 5.1 writes). ``dtype`` is
    ``"uint8"``, ``"int16"`` or ``"uint16"``. The result has no gradient.

    >>> import numpy as np
    >>> np.asarray(saturate_cast(np.array([-0.5, -1.5, 40000.0], "float32"), "int16")).tolist()
    [0, -2, 32767]
    """
    lo, hi = INTEGER_RANGE[dtype]
    x = ops.convert_to_tensor(x)
    x = ops.where(ops.isnan(x), ops.cast(hi, x.dtype), x)
    # Clamp first (inf included), then round: every value of the range is exact in float32.
    x = ops.clip(x, ops.cast(lo, x.dtype), ops.cast(hi, x.dtype))
    return ops.cast(ops.round(x), dtype)


def fma_f32(x, a: float, b: float):
    """``float32(x * a + b)`` rounded once, like OpenCV's ``v_fma`` with float32 ``a``, ``b``.

    ``x`` is a tensor whose values are float32 numbers (any float dtype); ``a`` and ``b`` are
    rounded to float32 first, as OpenCV's ``(float)alpha``. Computed in float64 where the backend
    has it (JAX without ``JAX_ENABLE_X64``: a float32 multiply and add, two roundings).
    """
    import numpy as np

    a32, b32 = float(np.float32(a)), float(np.float32(b))
    x = ops.cast(x, "float32")  # OpenCV loads a float64 source as float32 first
    if float64_available():
        y = ops.cast(x, "float64") * ops.cast(a32, "float64") + ops.cast(b32, "float64")
    else:
        y = ops.cast(x, "float32") * a32 + b32
    return ops.cast(y, "float32")


FILTER2D_DFT_MIN_TAPS = 50
"""``cv2.filter2D`` (5.1, x86-64) on a uint8 image with an integer ``ddepth`` correlates in the
Fourier domain (``dftFilter2D``) from this many taps (``kh * kw``) on; measured against ``cv2``
itself with dyadic taps (exact ties): 1x49 and 7x7 kernels match the direct float32 sum,
1x50, 2x25, 5x10, 7x8 and larger do not. (OpenCV's source names 130 where it detects SSE3;
this build behaves as 50.) uint16 and int16 images keep the direct sum at every size tried
(up to 21x21)."""


def filter2d_f32(
    x,
    kernel,
    *,
    anchor: tuple[int, int],
    delta: float = 0.0,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """OpenCV's float32 ``filter2D`` sum for 8/16-bit images, operation for operation.

    ``cv2.filter2D`` (and ``cv2.Laplacian`` with ksize 1 or 3) with a float kernel computes, per
    output value, ``s = float32(delta)`` then ``s = s + k[i, j] * x[...]`` over the taps in
    row-major order, in float32. Its SIMD body fuses each step (one rounding: ``v_muladd`` is an
    FMA on AVX2), its scalar tail -- the last ``(width * channels) % 4`` values of each row --
    rounds the product and the sum separately (measured on ``cv2`` 5.1). Both are emulated here
    (the FMA in float64), so the float32 result, and hence its ``saturate_cast``, is OpenCV's for
    any taps. Returns float32. ``kernel`` is a ``(kh, kw)`` tensor of float32 values; ``x`` holds
    8/16-bit values in any dtype. Zero taps are applied too (``s + 0`` is exact).
    """
    from fixedfilters.ops import pad_axis, spatial_axes

    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    ax, ay = anchor
    h_axis, w_axis = spatial_axes(data_format)
    wide = "float64" if float64_available() else "float32"
    xp = pad_axis(ops.cast(x, wide), h_axis, ay, kh - 1 - ay, border, border_value)
    xp = pad_axis(xp, w_axis, ax, kw - 1 - ax, border, border_value)
    shape = ops.shape(x)
    h, w = shape[h_axis], shape[w_axis]
    k = ops.cast(ops.cast(kernel, "float32"), wide)
    fused = ops.cast(ops.full_like(ops.cast(x, "float32"), float(_f32(delta))), "float32")
    split = fused
    for i in range(kh):
        for j in range(kw):
            index = [slice(None)] * 4
            index[h_axis] = slice(i, i + h) if not isinstance(h, int) else slice(i, i + int(h))
            index[w_axis] = slice(j, j + w) if not isinstance(w, int) else slice(j, j + int(w))
            xs = xp[tuple(index)]
            fused = ops.cast(ops.cast(fused, wide) + k[i, j] * xs, "float32")
            prod = ops.cast(k[i, j] * xs, "float32")
            # float32 addition, written as a rounded wide addition (the same value): a chain
            # of plain float32 adds is regrouped by TensorFlow's graph optimizer (AddN), so
            # tf.function and predict summed in another order than eager and OpenCV
            split = ops.cast(ops.cast(split, wide) + ops.cast(prod, wide), "float32")
    return ops.where(row_tail(x, data_format, 4), split, fused)


def row_tail(x, data_format: str, step: int):
    """True where a value of ``x`` lies in OpenCV's scalar tail of its row: flat index
    ``col * channels + c`` at or past ``step * floor(width * channels / step)`` (the values
    its SIMD loop leaves over). A mask that broadcasts against ``x``; the width may be dynamic."""
    c_axis, w_axis = (3, 2) if data_format == "channels_last" else (1, 3)
    c = int(x.shape[c_axis])
    wc = _int(ops.shape(x)[w_axis]) * c  # a Python int when static (JAX needs it concrete)
    flat = ops.reshape(ops.arange(0, wc, dtype="int32"), (-1, c))  # (W, C)
    tail = flat >= (wc // step) * step
    if data_format == "channels_last":
        return tail[None, None, :, :]
    return ops.transpose(tail)[None, :, None, :]


def _f32(value: float):
    import numpy as np

    return np.float32(value)


# -- cv2.Sobel / cv2.Scharr / cv2.Laplacian(ksize >= 5): OpenCV's sepFilter2D arithmetic -------
#
# What OpenCV 5.1 (x86-64, AVX2 + FMA dispatch, IPP HAL) does for an 8/16-bit image and an
# integer ddepth (read in modules/imgproc/src/deriv.cpp, filter.dispatch.cpp, filter.simd.hpp,
# hal/ipp/src/deriv_ipp.cpp; every rule below was checked against cv2 itself):
#
# * the kernels are float32; ``scale`` is folded into one of them (the smoothing one: ``kx``
#   when dx == 0, else ``ky``) as ``float32(k * float32(scale))``;
# * uint8 -> int16 with both kernels integer: int32 passes, then ``+ cvRound(delta)`` (except
#   in the SIMD body of a 3-tap column kernel that is not [1, 2, 1], [1, -2, 1] or [-1, 0, 1]
#   -- Scharr's [3, 10, 3] --, which adds the float delta before rounding);
# * otherwise a float32 row pass (``s = 0; s = s + k[j] * x[j]`` left to right) and a float32
#   column pass over a symmetric (``s = delta + k0 * S0; s += k[i] * (S[i] + S[-i])``) or
#   antisymmetric (``s = delta; s += k[i] * (S[i] - S[-i])``) kernel, then cvRound and
#   saturate. Vector bodies fuse each ``+ k * v`` (one rounding, FMA). The scalar code after
#   them (GCC-contracted) fuses too in its 4-way unrolled loop, but its last loop -- the last
#   ``(W*C) % 4`` values of a row -- rounds ``k * v`` and the sum separately (except the
#   symmetric column's first ``delta + k0 * S0``). The uint8 row pass (vector body: the first
#   ``32 * floor(W*C / 32)`` values) rounds twice in all of its scalar tail. uint16 rows,
#   uint16 outputs and a 1-tap column kernel are all scalar code;
# * one-channel images with ksize 3 or 5 (or Scharr), a first or second derivative along one
#   axis and a constant/replicate/reflect_101 border go to IPP instead (uint8 -> int16/uint8,
#   and int16 -> int16 for some orders): the integer derivative saturated to int16, then
#   ``float32 fma(D, scale, delta)``, cvRound, saturate (int16 -> int16: only d/dy with
#   ksize 3 or 5 and Scharr; the other orders take the float32 path).
# * Laplacian ksize >= 5: both second derivatives into int16 (uint8, ksize 5) or float32
#   (as above, delta 0), added in that depth, then ``convertTo``: float32 fma, cvRound.

_SIMD_ROW = {"uint8": 32, "int16": 8, "uint16": 0}
_SIMD_COL = {"int16": 8, "uint8": 32, "uint16": 0, "float32": 8}
_ROW_TAIL_FUSED = {"uint8": False, "int16": True, "uint16": True}
_COL_TAIL_FUSED = {"int16": True, "uint8": True, "uint16": True, "float32": True}
_MAX_ABS = {"uint8": 255, "uint16": 65535, "int16": 32768}


def _row_is_exact(taps, src_dtype: str) -> bool:
    """Integer taps whose partial sums stay below 2**24 on any image: float32 is exact."""
    import numpy as np

    taps = np.asarray(taps, np.float64)
    if not np.all(taps == np.round(taps)):
        return False
    return float(np.abs(taps).sum()) * _MAX_ABS[src_dtype] < 2**24


def _wide():
    return "float64" if float64_available() else "float32"


def _r32(v):
    return ops.cast(ops.cast(v, "float32"), _wide())


def _fused(s, k, v):
    """``float32(s + k * v)`` with one rounding (``k``, ``v``, ``s`` float32 values)."""
    return _r32(s + k * v)


def _split(s, k, v):
    """``float32(s + float32(k * v))``: the product rounded, then the sum."""
    return _r32(s + _r32(k * v))


def _tail_mask(x, lanes: int, data_format: str):
    """Boolean (broadcastable to ``x``): True where OpenCV's scalar code computes the value.

    The vectorised body covers the first ``L * floor(W * C / L)`` values of each row
    (``lanes`` L; 0: no vector body, every value scalar)."""
    h_axis, w_axis = (1, 2) if data_format == "channels_last" else (2, 3)
    c_axis = 3 if data_format == "channels_last" else 1
    c = int(x.shape[c_axis])
    w = _int(ops.shape(x)[w_axis])
    wc = w * c
    flat = ops.reshape(ops.arange(0, wc, dtype="int32"), (-1, c))  # (W, C)
    if lanes:
        tail = flat >= (wc // lanes) * lanes
    else:
        tail = flat >= 0
    return tail if data_format == "channels_last" else ops.transpose(tail)[:, None, :]


def _split_pixels(lanes: int, tail_fused: bool, channels: int):
    """How many last pixels of a row may hold values OpenCV rounds twice (``None``: all).

    The vector body covers the first ``lanes * floor(W*C / lanes)`` values of a row; where
    GCC contracted the scalar code (``tail_fused``) its 4-way unrolled loop is fused too, and
    only the last ``(W*C) % 4`` values round the product and the sum separately."""
    if tail_fused:
        lanes = 4
    if not lanes:
        return None
    return -(-(lanes - 1) // channels)


def _int(n):
    """A static size stays a Python int (JAX traces need concrete ``arange`` bounds)."""
    return n if isinstance(n, int) else ops.cast(n, "int32")


def _exact_terms_sum(x, terms, **options):
    """The exact integer sum of separable correlations ``[(kx, ky), ...]`` (1-D tap tensors of
    static length), each by :func:`_exact_sep`."""
    total = None
    for kx, ky in terms:
        part = _exact_sep(
            x,
            [kx[j] for j in range(int(kx.shape[0]))],
            [ky[i] for i in range(int(ky.shape[0]))],
            **options,
        )
        total = part if total is None else total + part
    return total


def _window(x, axis: int, start: int, length):
    index = [slice(None)] * 4
    index[axis] = slice(start, start + length)
    return x[tuple(index)]


def _last(x, axis: int, n: int):
    index = [slice(None)] * 4
    index[axis] = slice(-n, None)
    return x[tuple(index)]


def _head(x, axis: int, n: int):
    index = [slice(None)] * 4
    index[axis] = slice(None, -n)
    return x[tuple(index)]


def _assemble(fused, split_last, x, lanes: int, tail_fused: bool, p: int, data_format: str):
    """``fused`` everywhere but in the scalar tail, where ``split_last`` (computed on the last
    ``p`` columns, or all of them when the image is narrower)."""
    from fixedfilters.ops import spatial_axes

    _, w_axis = spatial_axes(data_format)
    c_axis = 3 if data_format == "channels_last" else 1
    c = int(x.shape[c_axis])
    lanes = 4 if tail_fused else lanes
    w = _int(ops.shape(x)[w_axis])
    wt = _int(ops.shape(split_last)[w_axis])
    flat = ops.reshape(ops.arange((w - wt) * c, w * c, dtype="int32"), (-1, c))  # (Wt, C)
    tail = flat >= ((w * c) // lanes) * lanes
    tail = tail if data_format == "channels_last" else ops.transpose(tail)[:, None, :]
    last = ops.where(tail, split_last, _last(fused, w_axis, p))
    return ops.concatenate([_head(fused, w_axis, p), last], axis=w_axis)


def _row_pass(xp, kx, mode: str, w_axis: int, w):
    """OpenCV's RowFilter: ``s = 0; s += kx[j] * x[j]`` (left to right) in float32.

    ``mode``: "exact" (integer taps, no rounding happens), "fused" or "split"."""
    s = None
    for j in range(len(kx)):
        v = _window(xp, w_axis, j, w)
        if mode == "exact":
            s = kx[j] * v if s is None else s + kx[j] * v
        elif s is None:
            s = _r32(kx[j] * v)
        else:
            s = (_fused if mode == "fused" else _split)(s, kx[j], v)
    return s


def _col_pass(rp, ky, delta32, *, symmetric, mode: str, h_axis, h):
    """OpenCV's SymmColumnFilter (float32 buffer): symmetric or antisymmetric sum."""
    n = len(ky)
    r = n // 2
    rows = [_window(rp, h_axis, i, h) for i in range(n)]
    d = ops.cast(delta32, _wide())
    if symmetric:
        # ``s = k0 * S0 + delta`` is contracted (one rounding) in the scalar tail too
        s = _fused(d, ky[r], rows[r])
    else:
        s = ops.zeros_like(rows[r]) + d
    step = _fused if mode == "fused" else _split
    for i in range(1, r + 1):
        pair = rows[r + i] + rows[r - i] if symmetric else rows[r + i] - rows[r - i]
        s = step(s, ky[r + i], _r32(pair))
    return s


def sep_filter_f32(
    x,
    kx,
    ky,
    *,
    delta: float,
    src_dtype: str,
    dst_dtype: str,
    symmetric_y: bool,
    row_exact: bool = False,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """OpenCV's float32 ``sepFilter2D`` of an 8/16-bit image, operation for operation.

    ``kx``, ``ky``: sequences of float32 taps (tensors or floats, ``scale`` already folded in
    as OpenCV folds it); ``symmetric_y``: whether ``ky`` is symmetric (else antisymmetric);
    ``row_exact``: the row taps are small integers (every summation order is exact). Returns
    the float32 values OpenCV rounds (cvRound) and saturates to ``dst_dtype``.
    """
    from fixedfilters.ops import pad_axis, spatial_axes

    h_axis, w_axis = spatial_axes(data_format)
    c = int(x.shape[3 if data_format == "channels_last" else 1])
    rx, ry = len(kx) // 2, len(ky) // 2
    xw = ops.cast(x, _wide())
    xp = pad_axis(xw, h_axis, ry, ry, border, border_value)
    xp = pad_axis(xp, w_axis, rx, rx, border, border_value)
    shape = ops.shape(x)
    h, w = shape[h_axis], shape[w_axis]
    kx = [ops.cast(ops.cast(k, "float32"), _wide()) for k in kx]
    ky = [ops.cast(ops.cast(k, "float32"), _wide()) for k in ky]

    lanes, tail_fused = _SIMD_ROW[src_dtype], _ROW_TAIL_FUSED[src_dtype]
    p = _split_pixels(lanes, tail_fused, c)
    if row_exact:
        row = _row_pass(xp, kx, "exact", w_axis, w)
    elif p is None:
        row = _row_pass(xp, kx, "split", w_axis, w)
    else:
        row = _row_pass(xp, kx, "fused", w_axis, w)
        tail_in = _last(xp, w_axis, p + 2 * rx)
        wt = ops.shape(tail_in)[w_axis] - 2 * rx
        split = _row_pass(tail_in, kx, "split", w_axis, wt)
        row = _assemble(row, split, x, lanes, tail_fused, p, data_format)

    d = _f32(delta)
    lanes, tail_fused = _SIMD_COL[dst_dtype], _COL_TAIL_FUSED[dst_dtype]
    p = _split_pixels(lanes, tail_fused, c)
    col = dict(symmetric=symmetric_y, h_axis=h_axis, h=h)
    if p is None or len(ky) == 1:
        out = _col_pass(row, ky, d, mode="split", **col)
    else:
        out = _col_pass(row, ky, d, mode="fused", **col)
        split = _col_pass(_last(row, w_axis, p), ky, d, mode="split", **col)
        out = _assemble(out, split, x, lanes, tail_fused, p, data_format)
    return ops.cast(out, "float32")


def _exact_rows(xp, kx, w_axis, w):
    return _row_pass(xp, kx, "exact", w_axis, w)


def _exact_cols(row, ky, h_axis, h):
    s = None
    for i, k in enumerate(ky):
        term = k * _window(row, h_axis, i, h)
        s = term if s is None else s + term
    return s


def _cv_round(value: float) -> int:
    import numpy as np

    return int(np.rint(value))


def _column_small_int_special(ky, symmetric: bool) -> bool:
    """SymmColumnSmallVec_32s16s adds ``cvRound(delta)`` as an integer for these 3-tap
    kernels ([1, 2, 1], [1, -2, 1], +-[-1, 0, 1]); any other 3-tap kernel goes through
    float32 with the float delta in the vector body."""
    if symmetric:
        return (ky[1] == 2 and ky[0] == 1) or (ky[1] == -2 and ky[0] == 1)
    return abs(ky[2]) == 1 and ky[2] == -ky[0]


def deriv_is_exact_in_float(
    dx, dy, ksize, scale, delta, src_dtype, dst_dtype, channels, border
) -> bool:
    """True when every path OpenCV may take gives ``saturate(scale * D + delta)`` exactly.

    That holds with integer scaled taps and an integer ``delta`` as long as every partial sum
    stays below 2**24 (float32 is then exact in any order; the int32 path adds
    ``cvRound(delta) = delta``), and IPP's saturation of ``D`` to int16 cannot bite. Then a
    plain float32 computation is OpenCV's result, and much faster than the emulation.
    """
    import numpy as np

    from fixedfilters import kernels

    kx, ky = (np.asarray(k, np.float64) for k in kernels.sobel(dx, dy, ksize))
    s32 = float(np.float32(scale))
    if s32 != round(s32) or delta != round(delta):
        return False
    bound = float(np.abs(kx).sum() * np.abs(ky).sum()) * _MAX_ABS[src_dtype]
    if bound * max(abs(s32), 1.0) + abs(delta) >= 2**24:
        return False
    ipp = uses_ipp(dx, dy, ksize, channels, src_dtype, dst_dtype, border)
    return not ipp or bound <= 32767


_IPP_ORDERS = {(1, 0), (0, 1), (2, 0), (0, 2)}
_IPP_BORDERS = ("constant", "replicate", "reflect_101")


def uses_ipp(dx, dy, ksize, channels, src_dtype, dst_dtype, border) -> bool:
    """Whether ``cv2.Sobel`` (5.1, IPP HAL) hands this call to IPP (measured; see notes)."""
    if channels != 1 or ksize not in (3, 5, -1) or (dx, dy) not in _IPP_ORDERS:
        return False
    if border not in _IPP_BORDERS:
        return False
    if ksize == -1 and dx + dy != 1:
        return False
    if src_dtype == "uint8":
        return dst_dtype in ("uint8", "int16")
    if src_dtype == "int16":
        return dst_dtype == "int16" and _IPP_INT16.get((dx, dy, ksize), False)
    return False


# IPP takes int16 -> int16 only for these (dx, dy, ksize) (its 16s Sobel has no negated
# vertical mask, used for d/dx, nor second derivatives); measured on cv2 5.1.
_IPP_INT16 = {(0, 1, 3): True, (0, 1, 5): True, (1, 0, -1): True, (0, 1, -1): True}


def deriv_opencv(
    x,
    kx,
    ky,
    *,
    dx: int,
    dy: int,
    ksize: int,
    scale: float,
    delta: float,
    src_dtype: str,
    dst_dtype: str,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """``cv2.Sobel(x, ddepth, dx, dy, ksize, scale, delta, border)`` (``ksize=-1``: Scharr)
    for an 8/16-bit image and an integer ``dst_dtype``, as OpenCV 5.1 computes it.

    ``kx``, ``ky``: the unscaled taps (1-D tensors, the layer's weights); the path OpenCV
    takes (IPP, its int32 path, its float32 path; see the notes above) is decided from
    ``dx``, ``dy``, ``ksize``, ``scale``, ``delta`` and the dtypes, as OpenCV decides it.
    Returns a ``dst_dtype`` tensor.
    """
    import numpy as np

    from fixedfilters import kernels

    ref_x, ref_y = (np.asarray(k, np.float32) for k in kernels.sobel(dx, dy, ksize))
    fold_x, fold_y = scale != 1 and dx == 0, scale != 1 and dx != 0
    s64 = np.float64(np.float32(scale))
    sref_x = np.float32(ref_x * s64) if fold_x else ref_x
    sref_y = np.float32(ref_y * s64) if fold_y else ref_y
    raw_x = [ops.cast(kx[j], "float32") for j in range(len(ref_x))]
    raw_y = [ops.cast(ky[i], "float32") for i in range(len(ref_y))]
    kx_s = [fma_f32(k, scale, 0.0) for k in raw_x] if fold_x else raw_x
    ky_s = [fma_f32(k, scale, 0.0) for k in raw_y] if fold_y else raw_y
    symmetric_y = dy % 2 == 0
    integer = bool(np.all(sref_x == np.round(sref_x)) and np.all(sref_y == np.round(sref_y)))
    channels = int(x.shape[3 if data_format == "channels_last" else 1])
    options = dict(border=border, border_value=border_value, data_format=data_format)

    if uses_ipp(dx, dy, ksize, channels, src_dtype, dst_dtype, border):
        # IPP: the integer derivative saturated to int16, then (scale != 1, delta != 0, or
        # a uint8 result) iwiScale: float32 fma(D, scale, delta), cvRound, saturate.
        d = saturate_cast(_exact_sep(x, raw_x, raw_y, **options), "int16")
        if abs(delta) > 1.1920929e-07 or abs(scale - 1) > 1.1920929e-07 or dst_dtype == "uint8":
            return saturate_cast(fma_f32(d, scale, delta), dst_dtype)
        return saturate_cast(d, dst_dtype)
    if integer and src_dtype == "uint8" and dst_dtype == "int16":
        # int32 row and column passes; ColumnFilter adds saturate_cast<int>(delta)
        idelta = float(_cv_round(delta))
        exact = _exact_sep(x, kx_s, ky_s, **options)
        out = exact + ops.cast(idelta, exact.dtype)
        if len(ky_s) == 3 and not _column_small_int_special(sref_y, symmetric_y):
            # SymmColumnSmallVec_32s16s: float32 with the float delta in the vector body
            out = ops.where(
                _tail_mask(x, 8, data_format),
                out,
                _small_column_f32(x, kx_s, ky_s, delta, symmetric_y, **options),
            )
        return saturate_cast(out, dst_dtype)
    v = sep_filter_f32(
        x,
        kx_s,
        ky_s,
        delta=delta,
        src_dtype=src_dtype,
        dst_dtype=dst_dtype,
        symmetric_y=symmetric_y,
        row_exact=_row_is_exact(sref_x, src_dtype),
        **options,
    )
    return saturate_cast(v, dst_dtype)


def laplacian_opencv(
    x,
    terms,
    *,
    ksize: int,
    scale: float,
    delta: float,
    src_dtype: str,
    dst_dtype: str,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """``cv2.Laplacian(x, ddepth, ksize >= 5, scale, delta, border)`` for an 8/16-bit image
    and an integer ``dst_dtype``, as OpenCV 5.1 computes it.

    ``terms``: ``[(kd, ks), (ks, kd)]``, the 1-D taps (tensors) of d2/dx2 and d2/dy2. OpenCV
    filters both into a work depth -- int16 for uint8 and ksize 5 (exact: its int32 path,
    never saturating on 8-bit data), else float32 (its float32 sepFilter2D, see
    :func:`sep_filter_f32`) --, adds them in that depth, then ``convertTo(ddepth, scale,
    delta)``: a float32 fma, cvRound, saturate.
    """
    import numpy as np

    from fixedfilters import kernels

    options = dict(border=border, border_value=border_value, data_format=data_format)
    refs = kernels.laplacian_terms(ksize)
    if src_dtype == "uint8" and ksize <= 5:
        total = _exact_terms_sum(x, terms, **options)
    else:
        total = None
        for (kx, ky), (ref_x, _) in zip(terms, refs, strict=True):
            part = sep_filter_f32(
                x,
                [kx[j] for j in range(int(kx.shape[0]))],
                [ky[i] for i in range(int(ky.shape[0]))],
                delta=0.0,
                src_dtype=src_dtype,
                dst_dtype="float32",
                symmetric_y=True,
                row_exact=_row_is_exact(np.float32(ref_x), src_dtype),
                **options,
            )
            total = part if total is None else ops.cast(total + part, "float32")
    return saturate_cast(fma_f32(total, scale, delta), dst_dtype)


def gaussian_blur_f32(
    x,
    kx,
    ky,
    *,
    src_dtype: str,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """``cv2.GaussianBlur`` of an int16 image (any 8/16-bit depth OpenCV does not blur in
    fixed point), as OpenCV 5.1 computes it: ``sepFilter2D`` with the float32 taps
    (:func:`sep_filter_f32`, symmetric column kernel, delta 0), then cvRound and saturation.

    One more OpenCV rule: with a border other than constant, an image of height 1 (width 1)
    is blurred with a kernel of height (width) 1, i.e. not at all along that axis (the float32
    taps do not sum to exactly 1). A 1-tap axis is applied here as the layer's kernel with
    every tap 0 but a centre 1, which is exact. Returns the float32 values to saturate;
    ``kx``, ``ky`` are 1-D tensors (the layer's weights)."""
    from fixedfilters.ops import spatial_axes

    h_axis, w_axis = spatial_axes(data_format)
    taps = []
    for k, axis in ((kx, w_axis), (ky, h_axis)):
        n = int(k.shape[0])
        k = [ops.cast(k[i], "float32") for i in range(n)]
        if border != "constant":
            one = ops.shape(x)[axis] == 1
            k = [ops.where(one, ops.cast(float(i == n // 2), "float32"), k[i]) for i in range(n)]
        taps.append(k)
    return sep_filter_f32(
        x,
        taps[0],
        taps[1],
        delta=0.0,
        src_dtype=src_dtype,
        dst_dtype=src_dtype,
        symmetric_y=True,
        border=border,
        border_value=border_value,
        data_format=data_format,
    )


_IPP_LAPLACIAN_OUT = ("uint8", "int16")


def laplacian_uses_ipp(ksize, channels, src_dtype, dst_dtype, border) -> bool:
    """Whether ``cv2.Laplacian`` (5.1, IPP HAL) hands a ksize 3 call to IPP instead of
    ``filter2D``: one-channel uint8 images, ``ddepth`` CV_8U or CV_16S, a constant, replicate
    or reflect_101 border (measured on ``cv2`` 5.1; ksize 1, other depths, more channels and
    ``"reflect"`` take ``filter2D``)."""
    return (
        ksize == 3
        and channels == 1
        and src_dtype == "uint8"
        and dst_dtype in _IPP_LAPLACIAN_OUT
        and border in _IPP_BORDERS
    )


def laplacian_ipp(
    x,
    terms,
    *,
    scale: float,
    delta: float,
    dst_dtype: str,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """IPP's ``cv2.Laplacian`` (ksize 3): the integer Laplacian ``D`` (exact; at most
    ``16 * 255`` on uint8), then ``float32 fma(D, scale, delta)``, cvRound, saturate -- not
    ``filter2D``'s float32 sum over the scaled taps, which rounds differently (measured:
    ``scale=0.1, delta=2.5`` differs on ~2% of uint8 values). ``terms``: ``[(kx, ky), ...]``,
    the 1-D integer taps of each separable term (the layer's weights)."""
    total = _exact_terms_sum(
        x, terms, border=border, border_value=border_value, data_format=data_format
    )
    d = saturate_cast(total, "int16")
    return saturate_cast(fma_f32(d, scale, delta), dst_dtype)


def _padded(x, rx, ry, border, border_value, data_format):
    from fixedfilters.ops import pad_axis, spatial_axes

    h_axis, w_axis = spatial_axes(data_format)
    xp = pad_axis(ops.cast(x, _wide()), h_axis, ry, ry, border, border_value)
    return pad_axis(xp, w_axis, rx, rx, border, border_value)


def _exact_rows_of(x, kx, ny, *, border, border_value, data_format):
    from fixedfilters.ops import spatial_axes

    h_axis, w_axis = spatial_axes(data_format)
    xp = _padded(x, len(kx) // 2, ny // 2, border, border_value, data_format)
    w = ops.shape(x)[w_axis]
    return _exact_rows(xp, [ops.cast(k, _wide()) for k in kx], w_axis, w)


def _exact_sep(x, kx, ky, *, border, border_value, data_format):
    """The exact separable correlation (integer taps on integer data), in the wide dtype."""
    from fixedfilters.ops import spatial_axes

    h_axis, _ = spatial_axes(data_format)
    row = _exact_rows_of(
        x, kx, len(ky), border=border, border_value=border_value, data_format=data_format
    )
    h = ops.shape(x)[h_axis]
    return _exact_cols(row, [ops.cast(k, _wide()) for k in ky], h_axis, h)


def _small_column_f32(x, kx, ky, delta, symmetric, *, border, border_value, data_format):
    """SymmColumnSmallVec_32s16s's float branch: ``fma(S0 + S2, k1, fma(S1, k0, delta))``
    (symmetric) or ``fma(S2 - S0, k1, delta)`` on the int32 row sums."""
    from fixedfilters.ops import spatial_axes

    h_axis, _ = spatial_axes(data_format)
    row = _exact_rows_of(
        x, kx, 3, border=border, border_value=border_value, data_format=data_format
    )
    h = ops.shape(x)[h_axis]
    s0, s1, s2 = (_window(row, h_axis, i, h) for i in range(3))
    k = [ops.cast(ops.cast(v, "float32"), _wide()) for v in ky]
    d = ops.cast(_f32(delta), _wide())
    if symmetric:
        return _fused(_fused(d, k[1], s1), k[0], _r32(s0 + s2))
    return _fused(d, k[2], _r32(s2 - s0))


def _deriv_bank(x, kx, ky, options):
    return deriv_opencv(x, kx, ky, **dict(options))


def _laplacian_bank(x, kx, ky, options):
    terms = [(kx[t], ky[t]) for t in range(int(kx.shape[0]))]
    return laplacian_opencv(x, terms, **dict(options))


@functools.cache
def _compiled(backend: str, name: str, options: tuple):
    """One XLA computation per configuration (traced again for each input shape): the
    emulation is a long chain of elementwise float64 steps, which XLA fuses into one pass."""
    fn = functools.partial(
        {"deriv": _deriv_bank, "laplacian": _laplacian_bank}[name], options=options
    )
    if backend == "tensorflow":
        from fixedfilters.ops import xla_jit

        return xla_jit(fn, backend)
    return fn  # JAX: the layer's caller jits (or not) as it likes


# XLA's CPU code generator fuses ``float32(s + float32(k * v))`` into one rounding (measured:
# the emulated scalar tails then differ from OpenCV's), so only the paths without such steps
# (IPP, the int32 path) run compiled; OpenCV's float32 passes run op by op.


def _float_path(options) -> bool:
    import numpy as np

    from fixedfilters import kernels

    dx, dy, ksize = options["dx"], options["dy"], options["ksize"]
    channels = options["channels"]
    if uses_ipp(
        dx, dy, ksize, channels, options["src_dtype"], options["dst_dtype"], options["border"]
    ):
        return False
    kx, ky = (np.float32(k) for k in kernels.sobel(dx, dy, ksize))
    s64 = np.float64(np.float32(options["scale"]))
    if options["scale"] != 1:
        if dx == 0:
            kx = np.float32(kx * s64)
        else:
            ky = np.float32(ky * s64)
    integer = np.all(kx == np.round(kx)) and np.all(ky == np.round(ky))
    return not (integer and options["src_dtype"] == "uint8" and options["dst_dtype"] == "int16")


def deriv_opencv_compiled(x, kx, ky, **options):
    """:func:`deriv_opencv`, as one compiled XLA computation where that is exact."""
    channels = int(x.shape[3 if options.get("data_format") == "channels_last" else 1])
    if _float_path(dict(options, channels=channels)):
        return deriv_opencv(x, kx, ky, **options)
    return _compiled(keras.backend.backend(), "deriv", tuple(sorted(options.items())))(x, kx, ky)


def laplacian_opencv_compiled(x, kernel_x, kernel_y, **options):
    """:func:`laplacian_opencv` on the ``(2, k)`` weights (compiled for uint8, ksize 5)."""
    if options["src_dtype"] != "uint8" or options["ksize"] > 5:
        return _laplacian_bank(x, kernel_x, kernel_y, tuple(options.items()))
    fn = _compiled(keras.backend.backend(), "laplacian", tuple(sorted(options.items())))
    return fn(x, kernel_x, kernel_y)
