"""``ConvertScaleAbs``: ``cv2.convertScaleAbs`` as a fixed layer (uint8 out, OpenCV's bytes).

How it stays exact and fast
---------------------------
OpenCV computes ``saturate_cast<uchar>(|fma(float(x), (float)alpha, (float)beta)|)``: one
float32 fused multiply-add (a single rounding), the absolute value, rounding half to even,
clamping to 0..255 (NaN gives 255). :func:`convert_scale_abs` picks one of three arithmetics,
from ``alpha``, ``beta`` and the input dtype only (never from the values):

``"int"``
    Integer inputs of at most 16 bits (and bool, int32) with ``alpha == 1`` and ``beta == 0``:
    ``min(|x|, 255)`` in int32, no float at all (``|x| <= 2**31`` is exact in float32's
    rounding only up to 2**24, but every value from 255 up saturates to 255 either way).
``"f32"``
    Plain float32 ``x * alpha + beta`` (two roundings), used only where it provably equals the
    single-rounding ``fma``:

    * ``beta == 0``: ``fma(X, A, 0) = fl(X * A + 0) = fl(X * A)``, the rounded product itself
      (for every input, infinities and NaN included; ``-0`` vanishes in the absolute value).
    * ``|alpha|`` a power of two (1 included) or 0: ``X * A`` is exact unless it overflows or
      leaves the normal range. Overflow: ``|X * A| >= 2**128`` and ``|beta| < 2**128`` give
      ``|x * A + B| >= 2**104``, 255 with either arithmetic. Below the normal range the product
      errs by less than ``2**-150``; then ``|B| >= 0.24`` makes both results round to ``B``
      (the error is far below half an ulp of ``B``, ``2**-27``), and ``|B| < 0.24`` makes
      ``|X * A + B| < 0.25``, 0 with either arithmetic.
    * integer inputs of at most 16 bits (bool, uint8, int8, uint16, int16), ``alpha`` and
      ``beta`` dyadic (finite binary fractions, ``A = a * 2**ea``, ``B = b * 2**eb``, ``a``, ``b``
      integers): every ``X * A`` and ``X * A + B`` is an integer multiple of ``2**e``,
      ``e = min(ea, eb)``, of magnitude at most ``M * |A| + |B|`` (``M`` the largest ``|x|`` of
      the dtype). When ``(M * |A| + |B|) / 2**e < 2**24`` each such multiple is a float32
      number, so neither the product nor the sum rounds: both arithmetics give the exact value.
``"f64"``
    Anything else (e.g. ``alpha=0.1`` on float32): the product of two float32 numbers is exact
    in float64, the sum rounds once in float64 and again to float32
    (:func:`fixedfilters.exact.fma_f32`'s emulation). On JAX without ``JAX_ENABLE_X64`` float64
    is not available and this falls back to float32 (off by one on rare near-ties).

``"d64"``
    float64 inputs whose samples hold fewer than 16 values (:data:`SCALAR_BELOW`). OpenCV
    converts a continuous image as one row of ``H * W * C`` values; its AVX2 loop takes 16
    values at a time (loaded as float32, one float32 ``fma``) and steps back to cover a ragged
    end, so every value of an image of 16 values or more takes the float32 ``fma``. A shorter
    row never enters the vector loop: its scalar loop computes ``double(x) * alpha + beta`` in
    double (``alpha``, ``beta`` still float32 numbers), then ``cvRound`` and saturation.
    Measured on ``cv2`` 5.1 (x86-64): near-ties of float64 images of 1..15 values follow the
    double arithmetic, of 16 values and up the float32 ``fma``. Other dtypes' scalar loops
    compute in float32 (``src * a`` with a float ``a``), like the vector loop.

With static shapes on TensorFlow (``tf.function(jit_compile=True)``) and always on JAX
(``jax.jit``) the whole conversion is one XLA-compiled elementwise pass (compiled once per
input shape and dtype); with dynamic shapes (a SavedModel exported with ``None`` sizes,
``tf.data`` over mixed sizes) the same arithmetic runs as plain ops. Measured at 8x512x512x3
float32 (2 busy cores; ``alpha=0.5, beta=3``): 25x ``cv2.convertScaleAbs`` before (uncompiled
float64 ops), about 2x after.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import keras
import numpy as np
from keras import KerasTensor, ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters.exact import float64_available
from fixedfilters.layers.base import FixedLayer, check_real
from fixedfilters.ops import xla_jit

__all__ = ["ConvertScaleAbs", "convert_scale_abs", "convert_scale_abs_method", "SCALAR_BELOW"]

SCALAR_BELOW = 16
"""OpenCV's ``convertScaleAbs`` computes an image of fewer values than this (``H * W * C``)
in its scalar loop only (two AVX2 float32 vectors hold 16); see the module docstring."""

# the largest |x| of the integer dtypes whose every value is a float32 number
_SMALL_INT_MAX = {"bool": 1, "uint8": 255, "int8": 128, "uint16": 65535, "int16": 32768}


def _dyadic(value: float) -> tuple[int, int] | None:
    """``(m, e)`` with ``value == m * 2**e`` (``m`` an integer), or ``None`` if not finite."""
    if not math.isfinite(value):
        return None
    num, den = float(value).as_integer_ratio()  # den is a power of two for every float
    return num, -(den.bit_length() - 1)


def _is_power_of_two_or_zero(value: float) -> bool:
    if value == 0.0:
        return True
    mantissa, _ = math.frexp(abs(value))
    return mantissa == 0.5


def convert_scale_abs_method(dtype: str, alpha: float, beta: float) -> str:
    """The arithmetic :func:`convert_scale_abs` uses: ``"int"``, ``"f32"`` or ``"f64"``.

    Decided from the input dtype and OpenCV's float32 ``alpha``/``beta`` only (see the module
    docstring for why each is exact).

    >>> convert_scale_abs_method("int16", 1.0, 0.0), convert_scale_abs_method("float32", 0.1, 0.3)
    ('int', 'f64')
    """
    a32, b32 = float(np.float32(alpha)), float(np.float32(beta))
    if dtype in _SMALL_INT_MAX or dtype == "int32":
        if a32 == 1.0 and b32 == 0.0:
            return "int"
    if b32 == 0.0 or _is_power_of_two_or_zero(a32):
        return "f32"
    if dtype in _SMALL_INT_MAX:
        da, db = _dyadic(a32), _dyadic(b32)
        if da is not None and db is not None:
            e = min(da[1], db[1])
            # exact rational arithmetic: (M * |A| + |B|) / 2**e < 2**24
            bound = _SMALL_INT_MAX[dtype] * abs(Fraction(a32)) + abs(Fraction(b32))
            if bound < Fraction(2) ** (24 + e):
                return "f32"
    return "f64"


def _convert(x, alpha: float, beta: float, method: str):
    """The conversion in ``method``'s arithmetic (keras.ops; compiled or not by the caller)."""
    if method == "int":
        x = ops.cast(x, "int32")
        return ops.cast(ops.abs(ops.clip(x, -255, 255)), "uint8")
    if method == "d64" and float64_available():
        # OpenCV's scalar loop on a float64 source: double(x) * float(a) + float(b) in double
        y = ops.abs(ops.cast(x, "float64") * alpha + beta)
        y = ops.where(ops.isnan(y), ops.cast(255.0, "float64"), ops.minimum(y, 255.0))
        return ops.cast(ops.round(y), "uint8")
    x = ops.cast(x, "float32")  # OpenCV loads every depth as float32 first
    if method == "f64" and float64_available():
        y = ops.cast(x, "float64") * ops.cast(alpha, "float64") + ops.cast(beta, "float64")
        y = ops.cast(y, "float32")
    else:
        y = x * ops.cast(alpha, "float32") + ops.cast(beta, "float32")
    y = ops.abs(y)
    # saturate_cast<uchar>: NaN -> 255, clamp (inf included), then round half to even
    y = ops.where(ops.isnan(y), ops.cast(255.0, "float32"), ops.minimum(y, 255.0))
    return ops.cast(ops.round(y), "uint8")


@functools.cache
def _compiled(backend: str, alpha: float, beta: float, method: str):
    fn = functools.partial(_convert, alpha=alpha, beta=beta, method=method)
    return xla_jit(fn, backend)


def convert_scale_abs(x, alpha: float = 1.0, beta: float = 0.0):
    """``cv2.convertScaleAbs(x, alpha=alpha, beta=beta)`` on a tensor, bit for bit.

    ``x``: any shape, any real dtype (integer, bool or float); returns uint8 of the same shape:
    ``saturate_cast<uchar>(|fma(float32(x), float32(alpha), float32(beta))|)``, what
    ``cv2.convertScaleAbs`` returns for each sample ``x[i]`` (the first axis is the batch).
    Except: a float64 sample of fewer than 16 values (:data:`SCALAR_BELOW`) is computed as
    OpenCV's scalar loop computes it, ``|double(x) * float32(alpha) + float32(beta)|`` in
    double. The arithmetic is otherwise chosen by :func:`convert_scale_abs_method`; one
    XLA-compiled pass where the shape is static (TensorFlow, JAX). No gradient (an integer
    output).

    >>> import numpy as np
    >>> np.asarray(convert_scale_abs(np.array([-3.5, 2.5, 300.0], "float32"))).tolist()
    [4, 2, 255]
    """
    x = ops.convert_to_tensor(x)
    dtype = standardize_dtype(x.dtype)
    a32, b32 = float(np.float32(alpha)), float(np.float32(beta))
    method = convert_scale_abs_method(dtype, a32, b32)
    backend = keras.backend.backend()
    static = None not in tuple(x.shape)
    if dtype == "float64":
        # OpenCV's scalar loop (double arithmetic) for samples of fewer than 16 values
        per_sample = _sample_size(x)
        if isinstance(per_sample, int):
            method = "d64" if per_sample < SCALAR_BELOW else method
        else:  # unknown sizes: both, chosen at run time
            small = _convert(x, a32, b32, "d64")
            return ops.where(per_sample < SCALAR_BELOW, small, _convert(x, a32, b32, method))
    if backend in ("tensorflow", "jax") and static:
        return _compiled(backend, a32, b32, method)(x)
    return _convert(x, a32, b32, method)


def _sample_size(x):
    """Values per sample (``prod(shape[1:])``, 1 for a rank-0/1 input): a Python int when the
    shape is static, else a scalar tensor."""
    dims = tuple(x.shape)[1:]
    if None not in dims:
        return math.prod(int(d) for d in dims)
    n = 1
    for d in ops.shape(x)[1:]:
        n = n * d
    return n


@register_keras_serializable(package="fixedfilters")
class ConvertScaleAbs(FixedLayer):
    """``|alpha * x + beta|`` saturated to uint8, bit for bit ``cv2.convertScaleAbs``.

    OpenCV equivalent: ``cv2.convertScaleAbs(img, alpha=alpha, beta=beta)``, the usual way to
    turn a ``cv2.Sobel(img, cv2.CV_16S, ...)`` derivative into an 8-bit image. OpenCV's
    arithmetic, read from ``modules/core/src/convert_scale.simd.hpp`` and checked against
    ``cv2`` 5.1: the input is loaded as float32 (float64 and int32 values rounded to float32),
    ``alpha`` and ``beta`` are float32, ``x * alpha + beta`` is one fused multiply-add (a single
    rounding), then the absolute value, rounding half to even and saturation to 0..255 (NaN
    gives 255, as in ``cv2``). One exception, also reproduced: a float64 image of fewer than
    16 values never reaches OpenCV's vector loop, and its scalar loop computes in double
    (``double(x) * alpha + beta``); the layer does the same per sample of the batch.
    :func:`convert_scale_abs` computes it: integer arithmetic for ``alpha=1, beta=0`` on
    integer images, plain float32 where that provably equals the fused multiply-add
    (``beta=0``, ``alpha`` a power of two, dyadic values on 8/16-bit images), the float64
    emulation otherwise; one compiled XLA pass for static shapes.

    Pointwise: any input shape and layout (no border, no taps, nothing to train), any real
    dtype (uint8, int8, uint16, int16, int32, float32, float64, bool); output uint8 of the same
    shape. The output has no gradient (TensorFlow returns ``None``; ``jax.grad`` refuses it).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.array([[-300, -2, 0, 5, 130]], dtype="int16")
    >>> ff.ConvertScaleAbs(alpha=0.5)(x).numpy().tolist()
    [[150, 1, 0, 2, 65]]
    """

    def __init__(self, alpha: float = 1.0, beta: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_real("alpha", alpha)
        self.beta = check_real("beta", beta)
        # Keep the raw input dtype (Keras would cast float64 inputs to the compute dtype).
        self.autocast = False

    def call(self, inputs):
        x = ops.convert_to_tensor(inputs)
        dtype = standardize_dtype(x.dtype)
        if dtype == "string" or dtype.startswith("complex"):
            raise TypeError(
                "ConvertScaleAbs converts real-valued images (integer, bool or float). "
                f"Received: input dtype={dtype}"
            )
        return convert_scale_abs(x, self.alpha, self.beta)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        return KerasTensor(tuple(inputs.shape), dtype="uint8")

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha, beta=self.beta)
        return config
