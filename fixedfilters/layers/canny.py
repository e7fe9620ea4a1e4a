"""Canny edge detection as a fixed layer, byte for byte with ``cv2.Canny``.

Everything runs in 32-bit integer arithmetic in the graph (``keras.ops``), in the order OpenCV's
``modules/imgproc/src/canny.cpp`` runs it:

1. Sobel ``dx`` and ``dy`` of each channel (``cv2.Sobel(img, cv2.CV_16S, ...)``, border
   replicate). Aperture 7 is computed with ``scale=1/16`` (rounded half to even), and its
   thresholds are divided by 16, as OpenCV does, so nothing saturates int16.
2. Magnitude ``|dx| + |dy|`` (L1) or ``dx**2 + dy**2`` (L2; the thresholds are then clamped to
   32767 and squared); the thresholds are floored to integers, swapped if given high-first.
   On colour images, per pixel, the channel with the largest magnitude wins (the first one on a
   tie) and its ``dx``, ``dy`` are used.
3. Non-maximum suppression with OpenCV's fixed-point sector test (``tan(22.5) = 13573 / 2**15``)
   and its tie-breaks (``>`` on one side and ``>=`` on the other for the horizontal and vertical
   sectors, ``>`` on both diagonal sides); magnitudes outside the image count as 0.
4. Hysteresis as reachability: a candidate (above ``low`` and a local maximum) is an edge iff an
   8-connected path of candidates reaches a strong one (above ``high``). OpenCV's stack-based
   tracking computes exactly this set, whatever its order.

The hysteresis is a fixpoint (``keras.ops.while_loop``, XLA-compiled on TensorFlow and JAX) on
bit-packed rows (16 pixels per int32 word). Each iteration makes ``_DILATIONS`` 3x3 propagation
steps, then marks the rest of every horizontal run of candidates (within a word) that holds a
marked pixel (carry arithmetic on the words, ``C & ~(C + M)``, in both directions). From
iteration 32 on, one iteration in 16 also marks every vertical run of candidates below and
above a marked pixel, up to the image height (a segmented OR-scan by doubling, 2 x 9 steps at
512 rows; such an iteration costs about 5x a plain one, per operation rather than per byte, so
it is not run every time; most photographs settle in 10-50 iterations and never run it). It
stops when no image of the batch changes, so the result is complete whatever the chains'
length; the run fills only move marks along candidate paths, so they change how fast, never
what. Measured at 512x512, one chain filling the image (second call, one process): a
serpentine of vertical runs 2,050 iterations, 0.25 s (32,259 iterations and 7.4 s without the
vertical fill); the same turned horizontal 4,066 iterations, 0.5 s; a dense spiral (76,010
pixels) 19,473 iterations, 2.4 s (2.3 s before: curved chains still take about their length /
2-3 iterations).
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from keras import KerasTensor, backend, ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.layers.base import FixedFilter, check_data_format

__all__ = ["Canny", "canny"]

_APERTURES = (3, 5, 7)
_TG22 = 13573  # round(tan(22.5 degrees) * 2**15), OpenCV's CANNY_SHIFT = 15
_BITS = 16  # pixels per packed int32 word (sums and shifts stay far from the sign bit)
_DILATIONS = 2  # 3x3 propagation steps per fixpoint iteration (more: XLA fuses them badly)
_COLUMN_STEPS = 9  # doubling steps of the vertical run fill (runs up to 512 rows per iteration)
_COLUMN_FILL_AFTER = 32  # iterations before the first vertical run fill
_COLUMN_FILL_EVERY = 16  # then one iteration in this many runs the fill
_INT32_MAX = 2**31 - 1


def _check_threshold(name: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number (a gradient-magnitude threshold, as in cv2.Canny). "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(
            f"{name} must be a finite number (cv2.Canny's result for NaN or infinite thresholds "
            f"is not meaningful). Received: {name}={value!r}"
        )
    return v


def _check_aperture(aperture_size: object) -> int:
    if (
        isinstance(aperture_size, (bool, np.bool_))
        or not isinstance(aperture_size, numbers.Integral)
        or int(aperture_size) not in _APERTURES
    ):
        raise ValueError(
            "aperture_size must be 3, 5 or 7 (the Sobel aperture, as in cv2.Canny). "
            f"Received: aperture_size={aperture_size!r}"
        )
    return int(aperture_size)


def _floor_int32(v: float) -> int:
    """OpenCV's ``cvFloor`` of a threshold, saturated to int32 (as the installed cv2 does)."""
    return int(min(max(math.floor(v), -(2**31)), _INT32_MAX))


def canny_thresholds(
    threshold1: float, threshold2: float, aperture_size: int = 3, l2_gradient: bool = False
) -> tuple[int, int]:
    """The integer ``(low, high)`` that ``cv2.Canny`` compares its magnitudes with (``m > low``,
    ``m > high``): divided by 16 for aperture 7, swapped if needed, clamped to 32767 and
    squared for L2, floored.

    >>> canny_thresholds(150, 50.5)
    (50, 150)
    >>> canny_thresholds(10, 20.5, 7, True)
    (0, 1)
    """
    low = _check_threshold("threshold1", threshold1)
    high = _check_threshold("threshold2", threshold2)
    aperture = _check_aperture(aperture_size)
    if aperture == 7:
        low, high = low / 16.0, high / 16.0
    if low > high:
        low, high = high, low
    if l2_gradient:
        low, high = min(32767.0, low), min(32767.0, high)
        low = low * low if low > 0 else low
        high = high * high if high > 0 else high
    return _floor_int32(low), _floor_int32(high)


# -- the integer pipeline (keras.ops; any backend) ------------------------------------------------


def _replicate(x, axis: int, r: int):
    """Pad ``axis`` with ``r`` copies of its edge elements (any length from 1, dynamic too)."""
    n = ops.shape(x)[axis]
    first = ops.take(x, [0] * r, axis=axis)
    last = ops.take(x, ops.zeros((r,), "int32") + (n - 1), axis=axis)
    return ops.concatenate([first, x, last], axis=axis)


def _pass(xp, taps, axis: int, n):
    """Valid correlation of ``xp`` along ``axis`` with the 1-D int32 ``taps`` (static length)."""
    k = int(taps.shape[0])
    out = None
    for i in range(k):
        index = [slice(None)] * len(xp.shape)
        index[axis] = slice(i, i + n)
        term = xp[tuple(index)] * taps[i]
        out = term if out is None else out + term
    return out


def _round_div16(s):
    """``round(s / 16)``, half to even, for int32 ``s`` (OpenCV's ``saturate_cast<short>``)."""
    q = ops.floor_divide(s, 16)
    r = s - q * 16
    up = ops.logical_or(r > 8, ops.logical_and(r == 8, ops.mod(q, 2) == 1))
    return q + ops.cast(up, "int32")


def _sobel(x, smooth, deriv, aperture: int):
    """``(dx, dy)`` of int32 ``x`` ``(B, H, W, C)``, as ``cv2.Sobel(x, cv2.CV_16S, ...,
    borderType=cv2.BORDER_REPLICATE)`` (aperture 7: ``scale=1/16``)."""
    r = aperture // 2
    h, w = ops.shape(x)[1], ops.shape(x)[2]
    xp = _replicate(_replicate(x, 1, r), 2, r)
    rows_smooth = _pass(xp, smooth, 1, h)
    rows_deriv = _pass(xp, deriv, 1, h)
    dx = _pass(rows_smooth, deriv, 2, w)
    dy = _pass(rows_deriv, smooth, 2, w)
    if aperture == 7:
        dx, dy = _round_div16(dx), _round_div16(dy)
    return dx, dy


def _select_channel(mag, dx, dy):
    """Per pixel, the channel with the largest magnitude (the first on a tie): ``(B, H, W)``."""
    m, gx, gy = mag[..., 0], dx[..., 0], dy[..., 0]
    for c in range(1, int(mag.shape[-1])):
        better = mag[..., c] > m
        m = ops.where(better, mag[..., c], m)
        gx = ops.where(better, dx[..., c], gx)
        gy = ops.where(better, dy[..., c], gy)
    return m, gx, gy


def _nms(m, xs, ys, low: int, high: int):
    """Candidates (``m > low``, local maximum across the edge) and strong pixels (``m > high``)."""
    h, w = ops.shape(m)[1], ops.shape(m)[2]
    p = ops.pad(m, [(0, 0), (1, 1), (1, 1)])

    def at(di: int, dj: int):
        return p[:, 1 + di : 1 + di + h, 1 + dj : 1 + dj + w]

    x = ops.absolute(xs)
    y = ops.absolute(ys) * (1 << 15)
    tg22x = x * _TG22
    tg67x = tg22x + x * (1 << 16)
    horizontal = y < tg22x
    vertical = ops.logical_and(ops.logical_not(horizontal), y > tg67x)
    same_sign = ops.equal(xs < 0, ys < 0)
    ok_h = ops.logical_and(m > at(0, -1), m >= at(0, 1))
    ok_v = ops.logical_and(m > at(-1, 0), m >= at(1, 0))
    ok_d = ops.where(
        same_sign,
        ops.logical_and(m > at(-1, -1), m > at(1, 1)),
        ops.logical_and(m > at(-1, 1), m > at(1, -1)),
    )
    local_max = ops.where(horizontal, ok_h, ops.where(vertical, ok_v, ok_d))
    candidate = ops.logical_and(m > low, local_max)
    strong = ops.logical_and(candidate, m > high)
    return candidate, strong


# -- hysteresis on bit-packed rows ---------------------------------------------------------------


def _pack(mask, words):
    """``(B, H, W)`` bool -> ``(B, H, words)`` int32, bit ``k`` of word ``i`` = column ``16i+k``."""
    b, h = ops.shape(mask)[0], ops.shape(mask)[1]
    bits = ops.cast(mask, "int32")
    bits = ops.concatenate([bits, ops.zeros((b, h, _BITS - 1), "int32")], axis=2)
    bits = bits[:, :, : words * _BITS]
    bits = ops.reshape(bits, (b, h, words, _BITS))
    return ops.sum(bits * (2 ** ops.arange(_BITS, dtype="int32")), axis=-1)


def _unpack(packed, w):
    b, h, words = ops.shape(packed)[0], ops.shape(packed)[1], ops.shape(packed)[2]
    bits = ops.bitwise_and(ops.right_shift(packed[..., None], ops.arange(_BITS, dtype="int32")), 1)
    bits = ops.reshape(bits, (b, h, words * _BITS))
    return ops.cast(bits[:, :, :w], "bool")


def _shift_rows(x, down: bool, k=1):
    """Rows moved down (row i gets row i-k) or up, zeros coming in (any height, dynamic too).
    ``k`` an int, or a scalar tensor (a loop's shift: a slice of ``x`` beside a zero image)."""
    h = ops.shape(x)[1]
    if not isinstance(k, int):
        zeros = ops.zeros_like(x)
        # one integer type for every start index (JAX with x64 makes the literal 0 int64)
        start = [ops.cast(i, "int32") for i in (0, h - k if down else k, 0)]
        if down:
            return ops.slice(ops.concatenate([zeros, x], axis=1), start, ops.shape(x))
        return ops.slice(ops.concatenate([x, zeros], axis=1), start, ops.shape(x))
    zeros = ops.zeros_like(x[:, :1])  # x[:, :k] would be short when the height is below k
    if k > 1:
        zeros = ops.concatenate([zeros] * k, axis=1)
    if down:
        return ops.concatenate([zeros, x], axis=1)[:, :h]
    return ops.concatenate([x, zeros], axis=1)[:, k : k + h]


def _shift_words(x, right: bool):
    """Words moved one place along the row (word i gets word i-1 when ``right``), zeros in."""
    n = ops.shape(x)[2]
    zeros = ops.zeros_like(x[:, :, :1])
    if right:
        return ops.concatenate([zeros, x], axis=2)[:, :, :n]
    return ops.concatenate([x, zeros], axis=2)[:, :, 1 : 1 + n]


_MASK = (1 << _BITS) - 1
_SWAPS = ((1, 0x5555), (2, 0x3333), (4, 0x0F0F), (8, 0x00FF))


def _reverse_bits(x):
    """Reverse the 16 bits of each word (and the word order) so a row reads right to left."""
    for s, m in _SWAPS:
        x = ops.bitwise_or(
            ops.bitwise_and(ops.right_shift(x, s), m), ops.left_shift(ops.bitwise_and(x, m), s)
        )
    return ops.flip(x, axis=2)


def _dilate(m, c):
    """One 3x3 propagation step: marked pixels spread to their 8 neighbours within ``c``."""
    left = ops.bitwise_and(ops.left_shift(m, 1), _MASK)
    left = ops.bitwise_or(left, ops.right_shift(_shift_words(m, right=True), _BITS - 1))
    right = ops.right_shift(m, 1)
    right = ops.bitwise_or(
        right,
        ops.left_shift(ops.bitwise_and(_shift_words(m, right=False), 1), _BITS - 1),
    )
    row = ops.bitwise_or(m, ops.bitwise_or(left, right))
    grown = ops.bitwise_or(
        row, ops.bitwise_or(_shift_rows(row, down=True), _shift_rows(row, down=False))
    )
    return ops.bitwise_and(grown, c)


def _fill_runs(m, c, c_reversed):
    """Mark every horizontal run of ``c`` (within a word) that holds a marked pixel."""
    forward = ops.bitwise_or(ops.bitwise_and(c, ops.bitwise_not(c + m)), m)
    mr = _reverse_bits(forward)
    backward = ops.bitwise_or(ops.bitwise_and(c_reversed, ops.bitwise_not(c_reversed + mr)), mr)
    return _reverse_bits(backward)


def _fill_columns(m, c, steps: int):
    """Mark every vertical run of ``c`` (in one bit column) of up to ``2 ** steps`` rows below
    and above a marked pixel: a segmented OR-scan by doubling (Kogge-Stone) down, then up.
    ``g |= p & shift(g, d)``, ``p &= shift(p, d)`` for ``d = 1, 2, 4, ...``: after the step
    with ``d``, ``p`` says the ``2 d`` rows ending here are all candidates. The steps are a
    loop with a dynamic shift (unrolled, they tripled the first call's compile time)."""
    for down in (True, False):

        def step(k, carry, down=down):
            g, p = carry
            d = ops.left_shift(ops.convert_to_tensor(1, "int32"), k)
            g = ops.bitwise_or(g, ops.bitwise_and(p, _shift_rows(g, down, d)))
            return g, ops.bitwise_and(p, _shift_rows(p, down, d))

        m, _ = ops.fori_loop(0, steps, step, (m, c))
    return m


def _hysteresis(candidate, strong):
    h, w = ops.shape(candidate)[1], ops.shape(candidate)[2]
    words = (w + _BITS - 1) // _BITS
    c = _pack(candidate, words)
    m0 = _pack(strong, words)
    c_reversed = _reverse_bits(c)
    # doubling steps of the vertical fill: enough for the height (static) or _COLUMN_STEPS
    steps = (
        _COLUMN_STEPS
        if not isinstance(h, int)
        else max(1, min(_COLUMN_STEPS, (h - 1).bit_length()))
    )

    def body(m, changed, iterations):
        new = m
        for _ in range(_DILATIONS):
            new = _dilate(new, c)
        new = _fill_runs(new, c, c_reversed)
        # long vertical chains: the column fill, every _COLUMN_FILL_EVERY-th iteration once the
        # loop has run _COLUMN_FILL_AFTER (an iteration with it costs about 5x one without: its
        # 18 steps on the small packed array cost per operation, not per byte)
        fill = ops.logical_and(
            iterations >= _COLUMN_FILL_AFTER, iterations % _COLUMN_FILL_EVERY == 0
        )
        new = ops.cond(fill, lambda: _fill_columns(new, c, steps), lambda: new)
        return new, ops.any(ops.not_equal(new, m)), iterations + 1

    def cond(m, changed, iterations):
        return changed

    m, _, iterations = ops.while_loop(
        cond, body, (m0, ops.convert_to_tensor(True), ops.convert_to_tensor(0, "int32"))
    )
    return _unpack(m, w), iterations


@functools.cache
def _compiled_hysteresis(backend: str):
    """:func:`_hysteresis` as one XLA computation (traced again for each input shape)."""
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(_hysteresis, jit_compile=True, autograph=False)
    if backend == "jax":
        import jax

        return jax.jit(_hysteresis)
    return _hysteresis


def hysteresis(candidate, strong, *, return_iterations: bool = False):
    """Pixels of ``candidate`` 8-connected to a ``strong`` pixel through ``candidate``.

    ``candidate`` and ``strong`` are ``(B, H, W)`` bool tensors (``strong`` within
    ``candidate``); the result is complete however long the chains (a fixpoint loop that runs
    until no image of the batch changes). With ``return_iterations``, also the number of loop
    iterations (a scalar tensor).

    >>> import numpy as np
    >>> cand = np.array([[[1, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]]], bool)
    >>> strong = np.zeros_like(cand); strong[0, 0, 0] = True
    >>> np.asarray(hysteresis(cand, strong)).astype(int)[0].tolist()
    [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    """
    candidate = ops.convert_to_tensor(candidate, "bool")
    strong = ops.convert_to_tensor(strong, "bool")
    edges, iterations = _compiled_hysteresis(backend.backend())(candidate, strong)
    return (edges, iterations) if return_iterations else edges


def canny_edges(x, smooth, deriv, *, low: int, high: int, aperture_size: int, l2_gradient: bool):
    """The whole pipeline on a channels-last uint8 (or int) batch ``(B, H, W, C)``: bool edges
    ``(B, H, W)``. ``smooth``/``deriv`` are the int32 Sobel taps of the aperture."""
    x = ops.cast(x, "int32")
    dx, dy = _sobel(x, smooth, deriv, aperture_size)
    if l2_gradient:
        mag = dx * dx + dy * dy
    else:
        mag = ops.absolute(dx) + ops.absolute(dy)
    m, xs, ys = _select_channel(mag, dx, dy)
    candidate, strong = _nms(m, xs, ys, low, high)
    return hysteresis(candidate, strong)


# -- the layer -----------------------------------------------------------------------------------


@register_keras_serializable(package="fixedfilters")
class Canny(FixedFilter):
    """Canny edges, equal byte for byte to ``cv2.Canny`` on every image of the batch.

    OpenCV equivalent: ``cv2.Canny(image, threshold1, threshold2, apertureSize=aperture_size,
    L2gradient=l2_gradient)`` on each ``(H, W)`` or ``(H, W, 3)`` uint8 image. Correlation (no
    kernel flip): the Sobel derivatives use OpenCV's 16-bit integer path with border replicate
    (``cv2.BORDER_REPLICATE``, fixed by ``cv2.Canny``). Thresholds may come in either order and
    need not be integers (OpenCV's rules: divided by 16 for aperture 7, clamped and squared for
    L2, floored; negative ones act as 0). On 3-channel input, per pixel, the channel with the
    largest gradient magnitude is used (the first on a tie). Hysteresis keeps a weak pixel iff an
    8-connected path of weak pixels reaches a strong one, however long.

    Input: uint8 ``(batch, height, width, 1)`` or ``(batch, height, width, 3)``
    (``(batch, channels, height, width)`` with ``data_format="channels_first"``), any size from
    1x1. Output: uint8 ``(batch, height, width, 1)`` (channels first: ``(batch, 1, height,
    width)``) holding 0 and 255.

    The Sobel taps are held as two fixed (non-trainable) weights, ``smooth`` and ``deriv``, each
    of length ``aperture_size``. The output carries no gradient (thresholds and a fixpoint are not
    differentiable): for a differentiable edge strength use :class:`SobelMagnitude`.

    Args:
        threshold1, threshold2: the hysteresis thresholds (either order), finite numbers.
        aperture_size: Sobel aperture, 3, 5 or 7.
        l2_gradient: ``True`` for ``sqrt(dx**2 + dy**2)``, ``False`` for ``|dx| + |dy|``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: Keras's setting).
        output_dtype: ``None`` or ``"uint8"``, both meaning uint8 (``cv2.Canny`` always returns
            uint8 0/255); any other value is a ``TypeError``. Not saved in ``get_config``.

    ``border`` and ``border_value`` are refused (a ``TypeError``): ``cv2.Canny`` always uses
    ``BORDER_REPLICATE``.

    The Sobel taps are read from the weights at every call and cast to int32 (OpenCV's CV_16S
    derivative is integer arithmetic): ``set_weights`` with other integer taps changes the
    edges; fractional taps are truncated toward zero.

    >>> import numpy as np, fixedfilters as ff
    >>> img = np.zeros((1, 6, 6, 1), "uint8"); img[:, :, 3:] = 200
    >>> ff.Canny(50, 150)(img)[0, :, :, 0].numpy()[0].tolist()
    [0, 0, 255, 0, 0, 0]
    """

    _refused_args = {
        "border": "cv2.Canny always uses BORDER_REPLICATE for its Sobel step",
        "border_value": "cv2.Canny has no constant border (always BORDER_REPLICATE)",
    }
    _fixed_args = {
        "output_dtype": ((None, "uint8"), "cv2.Canny always returns uint8 edges (0 and 255)"),
    }

    def __init__(
        self,
        threshold1: float,
        threshold2: float,
        aperture_size: int = 3,
        l2_gradient: bool = False,
        *,
        data_format: str | None = None,
        **kwargs,
    ):
        self.threshold1 = _check_threshold("threshold1", threshold1)
        self.threshold2 = _check_threshold("threshold2", threshold2)
        self.aperture_size = _check_aperture(aperture_size)
        self.l2_gradient = kernels._check_bool("l2_gradient", l2_gradient)
        self.low, self.high = canny_thresholds(
            self.threshold1, self.threshold2, self.aperture_size, self.l2_gradient
        )
        super().__init__(border="replicate", data_format=check_data_format(data_format), **kwargs)

    def _initial_taps(self) -> dict[str, np.ndarray]:
        deriv, smooth = kernels.sobel(1, 0, self.aperture_size)
        return {"smooth": smooth, "deriv": deriv}

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        axis = -1 if self.data_format == "channels_last" else 1
        channels = tuple(input_shape)[axis]
        if channels not in (1, 3):
            raise ValueError(
                "Canny expects 1 or 3 channels (a gray or colour uint8 image, as cv2.Canny). "
                f"Received: input shape={tuple(input_shape)} with "
                f"data_format={self.data_format!r}"
            )

    def call(self, inputs):
        dtype = standardize_dtype(inputs.dtype)
        if dtype != "uint8":
            raise TypeError(
                "Canny (like cv2.Canny) accepts 8-bit images only: uint8 in 0..255. "
                f"Received: input dtype={dtype}. Convert first, e.g. "
                "np.clip(x, 0, 255).astype('uint8') (rounding as you need), or "
                "fixedfilters.ConvertScaleAbs for |x| saturated to uint8."
            )
        x = inputs
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        smooth = ops.cast(self._taps["smooth"], "int32")
        deriv = ops.cast(self._taps["deriv"], "int32")
        edges = canny_edges(
            x,
            smooth,
            deriv,
            low=self.low,
            high=self.high,
            aperture_size=self.aperture_size,
            l2_gradient=self.l2_gradient,
        )
        out = ops.cast(ops.where(edges, 255, 0)[..., None], "uint8")
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, 3, 1, 2))
        return out

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return (shape[0], 1, shape[2], shape[3])
        return (shape[0], shape[1], shape[2], 1)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype="uint8")

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("border", "border_value", "output_dtype"):
            config.pop(key, None)
        config.update(
            threshold1=self.threshold1,
            threshold2=self.threshold2,
            aperture_size=self.aperture_size,
            l2_gradient=self.l2_gradient,
        )
        return config


def canny(
    images,
    threshold1: float,
    threshold2: float,
    aperture_size: int = 3,
    l2_gradient: bool = False,
) -> np.ndarray:
    """``cv2.Canny`` through the :class:`Canny` layer, NumPy in and out.

    ``images``: uint8 ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or a batch ``(B, H, W, 1|3)``.
    Returns uint8 edges (0/255) of shape ``(H, W)`` for a single image (as ``cv2.Canny``), else
    ``(B, H, W)``; each equal to ``cv2.Canny(image, threshold1, threshold2,
    apertureSize=aperture_size, L2gradient=l2_gradient)``.

    >>> import numpy as np
    >>> img = np.zeros((5, 5), "uint8"); img[2:, :] = 255
    >>> canny(img, 100, 200)[:, 0].tolist()
    [0, 255, 0, 0, 0]
    """
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(
            "canny (like cv2.Canny) accepts 8-bit images only: uint8 in 0..255. "
            f"Received: images dtype={x.dtype}. Convert first, e.g. "
            "np.clip(x, 0, 255).astype('uint8')."
        )
    if x.ndim == 2:
        batch, single = x[None, :, :, None], True
    elif x.ndim == 3 and x.shape[-1] in (1, 3):
        batch, single = x[None], True
    elif x.ndim == 4:
        batch, single = x, False
    else:
        raise ValueError(
            "canny expects (H, W), (H, W, 1), (H, W, 3) or (B, H, W, 1|3) uint8 images. "
            f"Received: images shape={x.shape}"
        )
    layer = Canny(threshold1, threshold2, aperture_size, l2_gradient, data_format="channels_last")
    out = np.asarray(ops.convert_to_numpy(layer(batch)))[..., 0]
    return out[0] if single else out
