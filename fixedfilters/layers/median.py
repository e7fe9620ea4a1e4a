"""MedianBlur: ``cv2.medianBlur`` as a fixed Keras layer, exact (equal to OpenCV's output).

Two exact algorithms, picked by ``ksize``; integer inputs (uint8, uint16, int16) are selected
in their own dtype (a median commutes with the final cast to float32), so a uint8 min/max
works on 4x more values per SIMD register than float32.

``ksize`` 3 and 5 (any real input dtype, as OpenCV's sorting-network path)
    Min/max selection on the ``(N, H, W * C)`` view of the batch (a free reshape; a step
    along the width is ``C`` values, so the innermost loop runs over whole rows). The ``k``
    rows of each window are sorted per column (3 or 9 compare-exchanges), then the median
    is selected from the ``k`` sorted columns of each window: for 3x3
    ``med3(max3(lows), med3(mids), min3(highs))``; for 5x5 the 13 candidates that a matrix
    sorted along both axes leaves for rank 12 and an odd-even merge of them pruned to the one
    output (about 120 min/max). Every compare-exchange is ``minimum``/``maximum``, so the
    result is one of the input values, bit for bit. With static sizes the whole median is one
    XLA computation: the interior (windows inside the image) reads only plain slices of the
    input (XLA fuses it into one vectorized loop; the column sorts are recomputed per
    horizontal offset rather than stored), the ``k // 2`` border rows and columns come from
    thin strips padded through the index map (replicate), and the pieces are concatenated:
    the concatenation costs about one extra copy of the output. Measured alternatives (one
    process, 8x512x512x3 float32, 2 busy cores): a padded copy of the input, or any
    concatenate/pad read inside the fused loop, made the loop 2-20x slower (XLA emits a
    branch per element); the same computation on the flattened image with the borders fixed
    afterwards, or written into a zeroed buffer, was no faster. Dynamic sizes, and images
    smaller than the window, pad both axes first.
``ksize`` >= 7 (uint8 input only, as OpenCV)
    Threshold counting with box sums: the median is the number of thresholds ``v`` in
    ``0..254`` for which fewer than ``ksize * ksize // 2 + 1`` window values are ``<= v``.
    A loop step handles ``31 // bits`` thresholds at once (``bits = bit_length(ksize**2)``),
    packed in one int32: the indicator of a pixel is one shift, the two box-sum passes count
    every field together (``ksize`` shifted adds up to 9, a cumulative sum above), and a
    SWAR add sets the bit above each field whose count reached the bound; those bits
    accumulate in a packed counter unpacked once at the end. The cost is
    ``ceil(255 / (31 // bits))`` passes over the image (51 for 7x7, 85 for 15x15 and 31x31,
    128 for 51x51), each a few int32 operations per value: it grows with ``ksize`` only through
    the packing width and the box sums, while OpenCV's Perreault-Hebert histogram is O(1) per
    pixel, so large windows stay several to tens of times slower than OpenCV.

The border is OpenCV's for ``medianBlur``: replicate (``BORDER_REPLICATE``), on every path and
for images smaller than the window (verified against ``cv2`` down to 1x1).
"""

from __future__ import annotations

import functools

import keras
from keras import ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters.borders import normalize_border
from fixedfilters.layers.base import SAME_DEPTH, FixedFilter, _assert_nonempty_tf
from fixedfilters.ops import STENCIL_MIN_ELEMENTS, pad_axis, xla_jit

__all__ = ["MedianBlur", "median_blur"]

_NETWORK_KSIZES = (3, 5)
# Depths cv2.medianBlur takes for ksize 3 and 5; ksize >= 7 is uint8 only.
_CV_DEPTHS_SMALL = ("uint8", "uint16", "int16", "float32")
# Integer inputs selected in their own dtype (the histogram path casts to int32 itself).
_RAW_DTYPES = ("uint8", "uint16", "int16")


# -- selection networks ---------------------------------------------------------------------
def _ce(a, b):
    return ops.minimum(a, b), ops.maximum(a, b)


# An optimal 9-exchange sorting network for 5 values.
_SORT5 = ((0, 1), (3, 4), (2, 4), (2, 3), (0, 3), (0, 2), (1, 4), (1, 3), (1, 2))


def _sort(values):
    v = list(values)
    if len(v) == 3:
        v[0], v[1] = _ce(v[0], v[1])
        v[1], v[2] = _ce(v[1], v[2])
        v[0], v[1] = _ce(v[0], v[1])
        return v
    for i, j in _SORT5:
        v[i], v[j] = _ce(v[i], v[j])
    return v


class _Node:
    """A lazy min/max expression: only what the selected output needs is ever computed."""

    __slots__ = ("op", "a", "b", "value")

    def __init__(self, op, a=None, b=None, value=None):
        self.op, self.a, self.b, self.value = op, a, b, value


def _lazy_ce(a, b):
    return _Node("min", a, b), _Node("max", a, b)


def _merge(a, b):
    """Batcher's odd-even merge of two sorted lists (any lengths), lazily."""
    if not a or not b:
        return list(a or b)
    if len(a) == 1 and len(b) == 1:
        return list(_lazy_ce(a[0], b[0]))
    even = _merge(a[0::2], b[0::2])
    odd = _merge(a[1::2], b[1::2])
    out = [even[0]]
    for i, o in enumerate(odd):
        if i + 1 < len(even):
            out.extend(_lazy_ce(o, even[i + 1]))
        else:
            out.append(o)
    out.extend(even[len(odd) + 1 :])
    return out


def _lazy_sort(values):
    if len(values) <= 1:
        return list(values)
    m = len(values) // 2
    return _merge(_lazy_sort(values[:m]), _lazy_sort(values[m:]))


def _evaluate(node, memo):
    key = id(node)
    if key not in memo:
        if node.op == "leaf":
            memo[key] = node.value
        else:
            fn = ops.minimum if node.op == "min" else ops.maximum
            memo[key] = fn(_evaluate(node.a, memo), _evaluate(node.b, memo))
    return memo[key]


# Rank r of the vertically sorted columns, positions j (0-based, ascending) within the row of
# 5 once sorted: the 13 candidates for the median of a 5x5 window (6 are below, 6 above).
_CANDIDATES5 = {0: (3, 4), 1: (2, 3, 4), 2: (1, 2, 3), 3: (0, 1, 2), 4: (0, 1)}


def _median_of_sorted_columns(cols):
    """Median of a k x k window given its k columns, each sorted ascending (k = 3 or 5)."""
    if len(cols) == 3:
        lo = ops.maximum(ops.maximum(cols[0][0], cols[1][0]), cols[2][0])
        hi = ops.minimum(ops.minimum(cols[0][2], cols[1][2]), cols[2][2])
        mid = _med3(cols[0][1], cols[1][1], cols[2][1])
        return _med3(lo, mid, hi)
    leaves = [[_Node("leaf", value=c[r]) for c in cols] for r in range(5)]
    rows = {r: _lazy_sort(leaves[r]) for r in range(5)}
    lists = [[rows[r][j] for j in js] for r, js in _CANDIDATES5.items()]
    while len(lists) > 1:
        lists.sort(key=len)
        lists = lists[2:] + [_merge(lists[0], lists[1])]
    return _evaluate(lists[0][6], {})


def _med3(a, b, c):
    return ops.maximum(ops.minimum(a, b), ops.minimum(ops.maximum(a, b), c))


def _slice(z, axis: int, start: int, length: int):
    index = [slice(None)] * len(z.shape)
    index[axis] = slice(start, start + length)
    return z[tuple(index)]


def _length(z, axis: int):
    n = z.shape[axis]
    return ops.shape(z)[axis] if n is None else int(n)


def _cut(z, axis: int, start: int, length):
    """``length`` entries of ``z`` along ``axis`` from ``start`` (``length`` an int or a
    scalar tensor, for dynamic sizes)."""
    if isinstance(length, int):
        return _slice(z, axis, start, length)
    return _dyn_slice(z, axis, start, length)


def _merge_minor(z):
    """(N, H, W, C) -> (N, H, W * C): a free reshape; a step along the width is ``C``."""
    n, h, w, c = (_length(z, a) for a in range(4))
    if all(isinstance(d, int) for d in (n, h, w)):
        return ops.reshape(z, (n, h, w * c))
    return ops.reshape(z, ops.stack([ops.shape(z)[0], ops.shape(z)[1], -1]))


def _valid_median(m, k: int, c: int):
    """Median of every k x k window lying inside ``m`` ((N, Hp, Wp * c), a merged image):
    (N, Hp - k + 1, (Wp - k + 1) * c). Slices and min/max only (XLA fuses it into one
    vectorized loop over rows of ``Wp * c`` values); the vertical sorts are shared by the
    ``k`` horizontal windows that read each column.
    """
    hp, wpc = _length(m, 1), _length(m, 2)
    rows = hp - k + 1 if isinstance(hp, int) else hp - (k - 1)
    cols = _sort([_cut(m, 1, i, rows) for i in range(k)])
    n = wpc - (k - 1) * c if isinstance(wpc, int) else wpc - (k - 1) * c
    windows = [[_cut(col, 2, j * c, n) for col in cols] for j in range(k)]
    return _median_of_sorted_columns(windows)


def _network_median(z, k: int):
    """Median of every k x k window (k = 3 or 5), replicate border; ``z`` is (N, H, W, C).

    Static sizes of at least ``k`` x ``k``: the interior (every window inside the image) is
    one :func:`_valid_median` of the image itself (no padded copy); the ``k // 2`` border
    rows and columns come from thin strips padded through the index map; the pieces are
    concatenated (width first, then rows). Dynamic or smaller sizes: pad both axes once,
    then one :func:`_valid_median`.
    """
    r = k // 2
    n, h, w, c = z.shape
    c = int(c)
    if h is None or w is None or int(h) < k or int(w) < k:
        zp = pad_axis(pad_axis(z, 1, r, r, "replicate"), 2, r, r, "replicate")
        out = _valid_median(_merge_minor(zp), k, c)
        return ops.reshape(out, ops.shape(z)) if None in (n, h, w) else ops.reshape(out, z.shape)
    h, w = int(h), int(w)

    def strip(piece, top: int, bottom: int, left: int, right: int):
        piece = pad_axis(piece, 1, top, bottom, "replicate")
        piece = pad_axis(piece, 2, left, right, "replicate")
        return _valid_median(_merge_minor(piece), k, c)

    inner = _valid_median(_merge_minor(z), k, c)  # rows r..h-r-1, columns r..w-r-1
    left = strip(z[:, :, : 2 * r], 0, 0, r, 0)  # rows r..h-r-1, columns 0..r-1
    right = strip(z[:, :, w - 2 * r :], 0, 0, 0, r)
    middle = ops.concatenate([left, inner, right], axis=2)
    top = strip(z[:, : 2 * r], r, 0, r, r)  # rows 0..r-1, every column
    bottom = strip(z[:, h - 2 * r :], 0, r, r, r)
    out = ops.concatenate([top, middle, bottom], axis=1)
    return ops.reshape(out, (-1, h, w, c) if n is None else (int(n), h, w, c))


# -- histogram counting (uint8, any odd ksize) -----------------------------------------------
def _box_sum(z, axis: int, k: int, n, step: int = 1):
    """Sums of ``k`` entries ``step`` apart along ``axis`` of a padded int32 tensor (``n``
    outputs, an int or a scalar tensor): ``k`` shifted slices up to 9, else a cumulative sum
    (along ``axis`` of the ``(..., length / step, step)`` view when ``step > 1``)."""
    if k <= 9:
        out = None
        for j in range(k):
            s = _cut(z, axis, j * step, n)
            out = s if out is None else out + s
        return out
    if step > 1:  # the merged width: sum each channel on its own
        if None in tuple(z.shape):
            shape = ops.shape(z)
            z4 = ops.reshape(z, ops.stack([shape[0], shape[1], -1, step]))
            out = _box_sum(z4, axis, k, n // step)
            return ops.reshape(out, ops.stack([shape[0], shape[1], -1]))
        a, b, _ = (int(d) for d in z.shape)
        out = _box_sum(ops.reshape(z, (a, b, -1, step)), axis, k, n // step)
        return ops.reshape(out, (a, b, -1))
    c = ops.cumsum(z, axis=axis)
    c = ops.concatenate([ops.zeros_like(_slice(c, axis, 0, 1)), c], axis=axis)
    return _cut(c, axis, k, n) - _cut(c, axis, 0, n)


def _dyn_slice(z, axis, start, n):
    begin = [0] * len(z.shape)
    size = [-1] * len(z.shape)
    begin[axis], size[axis] = start, n
    return ops.slice(z, begin, size)


def _histogram_plan(k: int) -> tuple[int, int, int]:
    """(bits per count, counts per int32, threshold groups) for a k x k window."""
    bits = (k * k).bit_length()  # a count is at most k*k
    fields = max(1, 31 // bits)  # every shift below stays under 32 bits
    groups = -(-255 // fields)
    return bits, fields, groups


def _histogram_median(z, k: int):
    """Median of every k x k window of integer values 0..255, replicate border.

    The median is the number of thresholds ``v`` in ``0..254`` for which fewer than
    ``need = k * k // 2 + 1`` window values are ``<= v``. Each loop step takes ``fields``
    consecutive thresholds at once, packed in one int32 (a ``bits``-wide field per threshold):
    the packed indicator of a pixel is one shift, ``ones << (bits * clip(x - v0, 0, fields))``
    (masked to the fields);
    two box-sum passes count all fields together (wrap-around integer arithmetic keeps every
    field exact); adding ``2**bits - need`` to every other field sets the bit above each field
    whose count reached ``need`` (a SWAR comparison, even and odd fields in turn), and those
    bits are accumulated in a packed counter, unpacked once at the end.
    """
    r = k // 2
    c = int(z.shape[3])
    h, w = _length(z, 1), _length(z, 2)
    zp = pad_axis(pad_axis(ops.cast(z, "int32"), 1, r, r, "replicate"), 2, r, r, "replicate")
    zp = _merge_minor(zp)
    bits, fields, groups = _histogram_plan(k)
    need = k * k // 2 + 1
    field_mask = (1 << bits) - 1
    ones = sum(1 << (bits * i) for i in range(fields))
    even = sum(field_mask << (bits * i) for i in range(0, fields, 2))
    odd = sum(field_mask << (bits * i) for i in range(1, fields, 2))
    add_even = sum(((1 << bits) - need) << (bits * i) for i in range(0, fields, 2))
    add_odd = sum(((1 << bits) - need) << (bits * i) for i in range(1, fields, 2))
    carry_even = sum(1 << (bits * (i + 1)) for i in range(0, fields, 2))
    carry_odd = sum(1 << (bits * (i + 1)) for i in range(1, fields, 2))
    low = (1 << (bits * fields)) - 1  # the fields; a shift by bits * fields leaves none
    wc = w * c if isinstance(w, int) else w * c

    def const(v):
        return ops.convert_to_tensor(v, "int32")

    def body(g, acc):
        d = ops.clip(zp - g * fields, 0, fields)
        packed = ops.bitwise_and(ops.left_shift(const(ones), d * bits), const(low))
        s = _box_sum(_box_sum(packed, 1, k, h), 2, k, wc, step=c)
        reached = ops.bitwise_or(
            ops.bitwise_and(ops.bitwise_and(s, const(even)) + const(add_even), const(carry_even)),
            ops.bitwise_and(ops.bitwise_and(s, const(odd)) + const(add_odd), const(carry_odd)),
        )
        return acc + ops.right_shift(reached, const(bits))

    acc = ops.fori_loop(0, groups, body, ops.zeros_like(_merge_minor(ops.cast(z, "int32"))))
    reached = None
    for i in range(fields):
        f = ops.bitwise_and(ops.right_shift(acc, const(bits * i)), const(field_mask))
        reached = f if reached is None else reached + f
    out = const(groups * fields) - reached  # thresholds past 254 always reach ``need``
    static = None not in tuple(z.shape)
    return ops.reshape(ops.cast(out, z.dtype), z.shape if static else ops.shape(z))


# -- dispatch --------------------------------------------------------------------------------
def _median_nhwc(z, k: int):
    if k == 1:
        return z
    if k in _NETWORK_KSIZES:
        return _network_median(z, k)
    return _histogram_median(z, k)


@functools.cache
def _compiled(backend: str, k: int):
    """The median for static shapes as one XLA computation (traced again per input shape)."""
    return xla_jit(functools.partial(_median_nhwc, k=k), backend)


def median_blur(x, ksize: int, *, data_format: str = "channels_last"):
    """The median of every ``ksize x ksize`` window of every plane, replicate border.

    ``x`` is a tensor ``(B, H, W, C)`` (``(B, C, H, W)`` channels first) of any real dtype;
    the result has the same dtype (the selection runs in it). For ``ksize`` >= 7 its values
    must be integers in 0..255 (a uint8 image, or one cast to float). Static heights
    and widths run one XLA computation (TensorFlow, JAX); dynamic ones the same ops in the
    graph. Prefer :class:`MedianBlur`, which checks the input dtype against OpenCV's rules.
    """
    k = int(ksize)
    shape = tuple(x.shape)
    # Channels innermost: channels-first input is viewed as (B * C, H, W, 1) planes.
    z = x if data_format == "channels_last" else ops.reshape(x, (-1, shape[2], shape[3], 1))
    static = None not in shape[1:]
    backend = keras.backend.backend()
    # XLA for static sizes worth a compile (as the separable filters decide); small or dynamic
    # images run the same ops uncompiled (identical results: a selection is exact).
    big = static and shape[1] * shape[2] * shape[3] >= STENCIL_MIN_ELEMENTS
    if big and k > 1 and backend in ("tensorflow", "jax"):
        out = _compiled(backend, k)(z)
    else:
        out = _median_nhwc(z, k)
    if data_format == "channels_last":
        return out
    if static:
        return ops.reshape(out, (-1,) + shape[1:])
    return ops.reshape(out, ops.shape(x))


def _check_ksize(ksize: object) -> int:
    if isinstance(ksize, bool) or not isinstance(ksize, int):
        try:
            import numpy as np

            if isinstance(ksize, np.integer):
                ksize = int(ksize)
        except ImportError:  # pragma: no cover
            pass
    if isinstance(ksize, bool) or not isinstance(ksize, int) or ksize < 1 or ksize % 2 == 0:
        raise ValueError(
            "ksize must be an odd integer >= 1 (OpenCV's cv2.medianBlur: 1 copies the image; "
            "3 and 5 for uint8, uint16, int16 and float32 images; 7, 9, ... for uint8 images "
            f"only). Received: ksize={ksize!r}"
        )
    return ksize


@register_keras_serializable(package="fixedfilters")
class MedianBlur(FixedFilter):
    """Median of every ``ksize x ksize`` window, like ``cv2.medianBlur`` (equal, bit for bit).

    OpenCV equivalent: ``cv2.medianBlur(img, ksize)`` on every (image, channel) plane, channels
    filtered independently. The border is replicate (``cv2.BORDER_REPLICATE``, the only one
    ``cv2.medianBlur`` uses); ``border`` accepts only ``"replicate"``, and ``border_value`` is
    refused (a ``TypeError``; ``0.0``, which configs of earlier versions carry, is accepted).
    A median has no kernel to flip, and no weights: the layer holds nothing but its
    configuration.

    ``ksize`` follows OpenCV: ``1`` returns the image (cast to float32); ``3`` and ``5`` take any
    real input dtype (OpenCV takes uint8, uint16, int16 and float32; those three integer
    dtypes are selected in their own dtype and the result cast to float32, other dtypes are
    cast to float32 first: both commute with the median); ``7, 9, 11, ...`` take **uint8**
    input only (as OpenCV), checked when the layer is called (a ``ValueError``, in a traced
    graph too). Any number of channels works (OpenCV's large-kernel path takes 1, 3 or 4).

    Input ``(batch, height, width, channels)`` (or ``(batch, channels, height, width)`` with
    ``data_format="channels_first"``), any size from 1x1; output of the same shape, float32,
    holding values of the input exactly.

    NaN: for float input, uncompiled (dynamic sizes, images under 1024 values) each min/max
    propagates NaN, so an output pixel is NaN exactly when its window (border included) holds
    a NaN. The XLA-compiled path (static sizes from 1024 values per image, as before this
    version too) may drop a NaN instead (measured: the NaN pattern then differs). OpenCV
    does not follow one rule either (its scalar border code and its SIMD interior order NaNs
    differently), so NaN outputs are not promised; clean NaNs first. ``inf`` is ordinary.

    Gradient: the min/max selections pass each output's gradient to one input pixel holding
    the median value (a subgradient; with ties on JAX, ``max``/``min`` split it among the tied
    values). The uint8 (``ksize >= 7``) path has no gradient: its input is integer.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.zeros((1, 5, 5, 1), "float32"); x[0, 2, 2, 0] = 255.0  # one salt pixel
    >>> float(ff.MedianBlur(3)(x).numpy().max())
    0.0
    """

    _fixed_args = {
        "border_value": (
            (0.0,),
            "cv2.medianBlur replicates the edge pixels: there is no constant border to fill "
            "(0.0 is accepted: configs saved by earlier versions carry it)",
        ),
    }

    def __init__(
        self,
        ksize: int = 3,
        *,
        border: str = "replicate",
        **kwargs,
    ):
        self.ksize = _check_ksize(ksize)
        name = normalize_border(border)
        if name != "replicate":
            raise ValueError(
                "MedianBlur supports only border='replicate': cv2.medianBlur always replicates "
                f"the edge pixels and has no borderType. Received: border={border!r}"
            )
        super().__init__(border=name, **kwargs)

    def _initial_taps(self) -> dict:
        return {}

    def call(self, inputs):
        dtype = standardize_dtype(getattr(inputs, "dtype", "float32"))
        if self.ksize > 5 and dtype != "uint8":
            raise ValueError(
                f"MedianBlur with ksize={self.ksize} takes uint8 images only (cv2.medianBlur "
                "allows ksize > 5 for 8-bit images only; ksize 1, 3 and 5 take any dtype). "
                f"Received: input dtype={dtype} with ksize={self.ksize}. Cast the image to "
                "uint8 first, or use ksize 3 or 5."
            )
        if self.output_dtype is None and dtype in _RAW_DTYPES and self.ksize > 1:
            # Select in the input's own integer dtype (4x more uint8 values per SIMD register
            # than float32), then cast the selected values: the same result, as a median
            # commutes with a monotone cast.
            x = inputs
            if x.shape[0] == 0:
                return ops.zeros_like(x, dtype=self.compute_dtype)
            if keras.backend.backend() == "tensorflow" and None in tuple(x.shape)[1:]:
                x = _assert_nonempty_tf(x, self.data_format, type(self).__name__)
            out = median_blur(x, self.ksize, data_format=self.data_format)
            return ops.cast(out, self.compute_dtype)
        return super().call(inputs)

    def _filter_exact(self, x, output_dtype: str):
        # output_dtype is the input's depth (SAME_DEPTH): select in it, nothing to round.
        return ops.cast(median_blur(x, self.ksize, data_format=self.data_format), output_dtype)

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        # cv2.medianBlur returns the input's depth; a median is one of the input values, so the
        # integer result is the (exact) float result cast back.
        return SAME_DEPTH.get(input_dtype, ())

    def _filter(self, x):
        return median_blur(x, self.ksize, data_format=self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("border_value")
        config.update(ksize=self.ksize)
        return config
