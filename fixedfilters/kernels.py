"""Kernel builders that reproduce OpenCV's fixed filter taps bit for bit, in pure NumPy.

Every function here returns the exact float64 taps OpenCV builds for the same call (Sobel, Scharr,
Gaussian and Laplacian), so a layer that applies them can match ``cv2`` to the last bit of the
kernel. Nothing here imports TensorFlow, Keras or OpenCV: only NumPy and the standard library.

All kernels are **correlation** taps, the way OpenCV applies them (``cv2.filter2D`` and
``cv2.sepFilter2D`` do not flip the kernel): output pixel ``(y, x)`` is
``sum(k2d[i, j] * src[y + i - r_y, x + j - r_x])``. A separable pair ``(kx, ky)`` stands for the
2-D kernel ``np.outer(ky, kx)``: ``kx`` runs along the width (columns), ``ky`` along the height
(rows). A first-derivative kernel such as ``[-1, 0, 1]`` therefore computes
``src[x + 1] - src[x - 1]``.

The small ``_check_*`` helpers validate arguments with Keras-style messages (argument name, value
received, what is allowed); other modules of the package may import them.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

__all__ = [
    "SCHARR",
    "MAX_DERIV_KSIZE",
    "sobel",
    "scharr",
    "gaussian",
    "gaussian_ksize",
    "gaussian_blur_kernels",
    "laplacian",
    "laplacian_terms",
]

#: ``ksize`` value that selects the 3x3 Scharr kernels (``cv2.FILTER_SCHARR``).
SCHARR = -1
#: Largest aperture ``cv2.getDerivKernels``, ``cv2.Sobel`` and ``cv2.Laplacian`` accept.
MAX_DERIV_KSIZE = 31
#: Largest Gaussian size (per axis) accepted, given or derived from sigma. OpenCV sets no limit,
#: but such a kernel already pads every image by 2047 pixels a side; anything larger is almost
#: surely a mistake (sigma in the wrong unit) and would take minutes and gigabytes to build.
MAX_GAUSSIAN_KSIZE = 4095

_DBL_EPSILON = 2.220446049250313e-16  # C's DBL_EPSILON, used by cv::GaussianBlur


# ---------------------------------------------------------------------------------------------
# Validation helpers (shared with the layers module).
# ---------------------------------------------------------------------------------------------


def _received(**values: object) -> str:
    """``"Received: a=1, b=2"``, the tail of every error message."""
    return "Received: " + ", ".join(f"{k}={v!r}" for k, v in values.items())


def _is_int(value: object) -> bool:
    """True for Python and NumPy integers; False for bools (``True`` is not a size)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_bool(name: str, value: object) -> bool:
    """Return ``value`` as a bool; TypeError unless it is a Python or NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be a bool. {_received(**{name: value})} of type {type(value).__name__}"
        )
    return bool(value)


def _check_int(name: str, value: object, allowed: str = "an integer") -> int:
    """Return ``value`` as an int; TypeError unless it is an integer (bools refused).

    ``allowed`` describes the accepted values for the message, e.g. ``"an odd integer"``.
    """
    if not _is_int(value):
        raise TypeError(
            f"{name} must be {allowed}. {_received(**{name: value})} of type {type(value).__name__}"
        )
    return int(value)


def _check_nonnegative_int(name: str, value: object) -> int:
    """Return ``value`` as an int >= 0 (TypeError for non-integers, ValueError for < 0)."""
    allowed = "a non-negative integer"
    v = _check_int(name, value, allowed)
    if v < 0:
        raise ValueError(f"{name} must be {allowed}. {_received(**{name: value})}")
    return v


def _odd_ksize_text(max_size: int | None, special: dict[int, str] | None) -> str:
    odd = (
        f"an odd integer from 1 to {max_size}"
        if max_size is not None
        else "an odd positive integer"
    )
    return " or ".join([*(special or {}).values(), odd])


def _check_odd_ksize(
    name: str,
    value: object,
    *,
    max_size: int | None = None,
    special: dict[int, str] | None = None,
) -> int:
    """Return ``value`` as an int that is odd, >= 1 and <= ``max_size`` (when given).

    ``special`` maps extra accepted values to how the message names them, e.g.
    ``{-1: "-1 (Scharr)"}``. TypeError for non-integers, ValueError for anything else refused.
    """
    allowed = _odd_ksize_text(max_size, special)
    v = _check_int(name, value, allowed)
    if special and v in special:
        return v
    if v < 1 or v % 2 == 0 or (max_size is not None and v > max_size):
        raise ValueError(f"{name} must be {allowed}. {_received(**{name: value})}")
    return v


def _check_finite(name: str, value: object) -> float:
    """Return ``value`` as a finite float (TypeError for non-numbers and bools, ValueError for
    NaN and infinities)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a finite real number. {_received(**{name: value})} "
            f"of type {type(value).__name__}"
        )
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number. {_received(**{name: value})}")
    return v


def _check_kernel2d(kernel: object) -> np.ndarray:
    shown = reprlib.repr(kernel)  # the value, shortened for huge kernels
    if kernel is None or isinstance(kernel, (str, bytes)):
        raise TypeError(f"kernel must be a 2-D array of real numbers. Received: kernel={shown}")
    try:
        k = np.array(kernel, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"kernel must be a 2-D array of real numbers. Received: kernel={shown} ({err})"
        ) from None
    if k.ndim != 2 or k.size == 0:
        raise ValueError(
            "kernel must be a non-empty 2-D array (kh, kw). "
            f"Received: kernel={shown} with shape {k.shape}"
        )
    if not np.all(np.isfinite(k)):
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(~np.isfinite(k))[:3]]
        raise ValueError(
            "kernel must hold only finite values. "
            f"Received: kernel={shown} with NaN or inf at (row, col) {where}"
        )
    return k


_KSIZE_PAIR_TEXT = (
    "0 (derive the size from sigma), an odd positive integer, or a (width, height) pair of those"
)


def _ksize_entries(name: str, value: object, allowed: str) -> tuple[int, int]:
    """Parse OpenCV's size form: an int (both axes) or a ``(width, height)`` pair of ints.

    Only the form is checked here (``allowed`` describes the valid values for the messages);
    callers check the values. TypeError for a value that is neither an int nor a pair, or for
    non-integer entries; ValueError for a pair without exactly 2 entries.
    """
    if _is_int(value):
        entries: list[object] = [value, value]
    elif (isinstance(value, np.ndarray) and value.ndim == 1) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    ):
        entries = list(value)
        if len(entries) != 2:
            raise ValueError(
                f"{name} must be {allowed}; a pair has exactly 2 entries. "
                f"{_received(**{name: value})}"
            )
    else:
        raise TypeError(
            f"{name} must be {allowed}. {_received(**{name: value})} of type {type(value).__name__}"
        )
    if not all(_is_int(e) for e in entries):
        raise TypeError(f"{name} must be {allowed}. {_received(**{name: value})}")
    width, height = (int(e) for e in entries)
    return width, height


def _check_ksize_pair(name: str, value: object) -> tuple[int, int]:
    """Return ``(width, height)`` from an int or an OpenCV-ordered ``(width, height)`` pair.

    Each entry must be 0 (size derived from sigma) or an odd positive integer. TypeError for
    non-integer entries or a value that is neither an int nor a pair; ValueError otherwise.
    """
    width, height = _ksize_entries(name, value, _KSIZE_PAIR_TEXT)
    for v in (width, height):
        if v < 0 or (v > 0 and v % 2 == 0):
            raise ValueError(f"{name} must be {_KSIZE_PAIR_TEXT}. {_received(**{name: value})}")
        if v > MAX_GAUSSIAN_KSIZE:
            raise ValueError(
                f"{name} entries must be at most MAX_GAUSSIAN_KSIZE={MAX_GAUSSIAN_KSIZE}. "
                f"{_received(**{name: value})}"
            )
    return width, height


# ---------------------------------------------------------------------------------------------
# Sobel / Scharr
# ---------------------------------------------------------------------------------------------


def _binomial_derivative(order: int, size: int) -> np.ndarray:
    """Integer taps of length ``size``: the binomial smoother of length ``size - order``
    convolved ``order`` times with the difference ``[-1, 1]`` (OpenCV's getSobelKernel)."""
    taps = np.ones(1, dtype=np.int64)
    for _ in range(size - order - 1):
        taps = np.convolve(taps, np.array([1, 1], dtype=np.int64))
    for _ in range(order):
        taps = np.convolve(taps, np.array([-1, 1], dtype=np.int64))
    return taps


def _sobel_1d(order: int, ksize: int, normalize: bool) -> np.ndarray:
    # OpenCV widens a 1-tap aperture to 3 taps along any axis that is differentiated.
    size = 3 if ksize == 1 and order > 0 else ksize
    taps = _binomial_derivative(order, size).astype(np.float64)
    if normalize:
        # A power of two, so the scaling is exact (OpenCV: 1./(1 << (ksize - order - 1))).
        taps *= 1.0 / (1 << (size - order - 1))
    return taps


def _scharr_1d(order: int, normalize: bool) -> np.ndarray:
    if order == 0:
        taps = np.array([3.0, 10.0, 3.0])
        # Only the smoothing half is normalised, as in OpenCV's getScharrKernels.
        return taps * (1.0 / 32) if normalize else taps
    return np.array([-1.0, 0.0, 1.0])


def _check_orders(dx: object, dy: object, ksize: int) -> tuple[int, int]:
    dx_ = _check_nonnegative_int("dx", dx)
    dy_ = _check_nonnegative_int("dy", dy)
    if ksize == SCHARR:
        if dx_ + dy_ != 1:
            raise ValueError(
                "Scharr (ksize=-1) computes a single first derivative: (dx, dy) must be (1, 0) "
                f"or (0, 1). {_received(dx=dx, dy=dy, ksize=ksize)}"
            )
        return dx_, dy_
    if dx_ + dy_ == 0:
        raise ValueError(
            f"dx and dy must not both be 0 (OpenCV requires dx + dy > 0). {_received(dx=dx, dy=dy)}"
        )
    max_order = max(ksize, 3) - 1
    for name, order, given in (("dx", dx_, dx), ("dy", dy_, dy)):
        if order > max_order:
            raise ValueError(
                f"{name} must be less than the aperture size, i.e. at most {max_order} for "
                f"ksize={ksize} (ksize 1 uses 3-tap kernels along a differentiated axis). "
                f"{_received(**{name: given, 'ksize': ksize})}"
            )
    return dx_, dy_


def sobel(
    dx: int, dy: int, ksize: int = 3, normalize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Separable Sobel (or Scharr) derivative taps, as ``cv2.getDerivKernels`` builds them.

    Equivalent to ``cv2.getDerivKernels(dx, dy, ksize, normalize=normalize, ktype=cv2.CV_64F)``
    (with each array flattened), which are the taps ``cv2.Sobel(src, ddepth, dx, dy, ksize)``
    applies. The 2-D kernel is ``np.outer(ky, kx)``, applied as a correlation (no flip).

    Args:
        dx: order of the derivative along x (width). Non-negative integer.
        dy: order of the derivative along y (height). Non-negative integer.
        ksize: aperture: ``-1`` (``cv2.FILTER_SCHARR``, the 3x3 Scharr kernels) or an odd
            integer from 1 to 31. ``ksize=1`` means no smoothing: the differentiated axes get
            3-tap kernels (``[-1, 0, 1]`` or ``[1, -2, 1]``), the other axis the 1-tap ``[1]``.
        normalize: scale the taps as OpenCV does when ``normalize=True``: each Sobel kernel by
            ``1 / 2**(size - order - 1)``; for Scharr only the smoothing kernel, by ``1/32``.

    Returns:
        ``(kx, ky)``: 1-D float64 arrays (lengths may differ when ``ksize=1``).

    Accepted exactly as ``cv2.Sobel`` accepts them: ``dx, dy >= 0`` with ``dx + dy > 0``, and
    each order below the aperture: at most 2 for ``ksize`` 1 or 3, at most ``ksize - 1``
    otherwise; for Scharr, ``(dx, dy)`` is ``(1, 0)`` or ``(0, 1)``. Unlike OpenCV, which
    treats every ``ksize <= 0`` as Scharr, only ``-1`` is accepted for Scharr here.

    Raises:
        TypeError: a non-integer (or bool) ``dx``, ``dy`` or ``ksize``; a non-bool
            ``normalize``.
        ValueError: any value or combination listed above as refused.

    Example:
        >>> kx, ky = sobel(1, 0, 3)
        >>> print(kx, ky)
        [-1.  0.  1.] [1. 2. 1.]
        >>> print(np.outer(ky, kx))
        [[-1.  0.  1.]
         [-2.  0.  2.]
         [-1.  0.  1.]]
        >>> print(*sobel(0, 2, 1))
        [1.] [ 1. -2.  1.]
    """
    ksize_ = _check_odd_ksize(
        "ksize", ksize, max_size=MAX_DERIV_KSIZE, special={SCHARR: "-1 (Scharr)"}
    )
    dx_, dy_ = _check_orders(dx, dy, ksize_)
    normalize_ = _check_bool("normalize", normalize)
    if ksize_ == SCHARR:
        return _scharr_1d(dx_, normalize_), _scharr_1d(dy_, normalize_)
    return _sobel_1d(dx_, ksize_, normalize_), _sobel_1d(dy_, ksize_, normalize_)


def scharr(dx: int, dy: int, normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Separable 3x3 Scharr taps: ``sobel(dx, dy, -1, normalize)``.

    Equivalent to ``cv2.getDerivKernels(dx, dy, cv2.FILTER_SCHARR, normalize=normalize,
    ktype=cv2.CV_64F)``, the taps of ``cv2.Scharr(src, ddepth, dx, dy)``. ``(dx, dy)`` must be
    ``(1, 0)`` or ``(0, 1)``. The 2-D kernel is ``np.outer(ky, kx)``, a correlation (no flip).

    Example:
        >>> kx, ky = scharr(1, 0)
        >>> print(np.outer(ky, kx))
        [[ -3.   0.   3.]
         [-10.   0.  10.]
         [ -3.   0.   3.]]
    """
    return sobel(dx, dy, SCHARR, normalize)


# ---------------------------------------------------------------------------------------------
# Gaussian
# ---------------------------------------------------------------------------------------------

# OpenCV's fixed kernels for sigma <= 0 and a size of 1, 3, 5, 7 or 9: (numerators, denominator).
_SMALL_GAUSSIANS: dict[int, tuple[tuple[int, ...], int]] = {
    1: ((1,), 1),
    3: ((1, 2, 1), 4),
    5: ((1, 4, 6, 4, 1), 16),
    7: ((2, 7, 14, 18, 14, 7, 2), 64),
    9: ((4, 13, 30, 51, 60, 51, 30, 13, 4), 256),
}

# cv::softdouble exp() (OpenCV core/src/softfloat.cpp) is not the C library's exp: it reduces
# x * 64/ln(2) to an integer n and a fraction, looks 2**((n & 63) / 64) up in a table and
# multiplies by a degree-5 polynomial, each step rounded to double. Its results differ from a
# correctly rounded exp by several ulps for large |x|, so the Gaussian taps would too; the
# constants below are OpenCV's bit patterns, written as hex floats.
_EXP_POLY_SCALE = float.fromhex("0x1.3ce0f3e46f431p-7")  # 0.96703711395723377e-2
_EXP_POLY = tuple(
    c / _EXP_POLY_SCALE
    for c in (
        float.fromhex("0x1.5e7aa1566c2a4p-10"),  # .13369713757180123e-2
        float.fromhex("0x1.3b2a72b4f3cd3p-7"),  # .96180973140732918e-2
        float.fromhex("0x1.c6b08d81fec75p-5"),  # .55504108793649568e-1
        float.fromhex("0x1.ebfbdff82a45ap-3"),  # .24022650695886478
        float.fromhex("0x1.62e42fefa39f1p-1"),  # .69314718055994547
        1.0,
    )
)
_EXP_TABLE_BITS = 6
_EXP_PRESCALE = float.fromhex("0x1.71547652b82fep+0") * (1 << _EXP_TABLE_BITS)  # 64 / ln(2)
_EXP_POSTSCALE = 1.0 / (1 << _EXP_TABLE_BITS)
_EXP_MAX_ARG = 3000.0 * (1 << _EXP_TABLE_BITS)


def _exp2_table() -> tuple[float, ...]:
    """``2**(i/64)`` for i in 0..63, each correctly rounded to double (OpenCV's expTab)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return tuple(
            float(Decimal(2) ** (Decimal(i) / (1 << _EXP_TABLE_BITS)))
            for i in range(1 << _EXP_TABLE_BITS)
        )


_EXP2_TABLE = _exp2_table()


def _opencv_exp(x: float) -> float:
    """``exp(x)`` computed exactly as OpenCV's ``cv::exp(softdouble)`` computes it."""
    if math.isnan(x):
        return x
    if math.isinf(x):
        return x if x > 0 else 0.0
    # Arguments of magnitude >= 2**11 are clamped to +-3000*64 (already far out of range).
    x0 = math.copysign(_EXP_MAX_ARG, x) if abs(x) >= 2048.0 else x * _EXP_PRESCALE
    n = round(x0)  # cvRound: nearest, ties to even
    biased = min(max((n >> _EXP_TABLE_BITS) + 1023, 0), 2047)
    if biased == 0:
        power = 0.0
    elif biased == 2047:
        power = math.inf
    else:
        power = math.ldexp(1.0, biased - 1023)
    frac = (x0 - float(n)) * _EXP_POSTSCALE
    poly = _EXP_POLY[0]
    for c in _EXP_POLY[1:]:
        poly = poly * frac + c
    return power * _EXP_POLY_SCALE * _EXP2_TABLE[n & ((1 << _EXP_TABLE_BITS) - 1)] * poly


def _fused_multiply_add(a: float, b: float, c: float) -> float:
    """``a * b + c`` with a single rounding (softfloat ``mulAdd``)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _gaussian_taps(n: int, sigma: float) -> list[float]:
    """OpenCV's getGaussianKernelBitExact for ``n >= 1``, operation for operation."""
    if sigma <= 0 and n in _SMALL_GAUSSIANS:
        numerators, denominator = _SMALL_GAUSSIANS[n]
        return [k / denominator for k in numerators]  # exact: the denominators are 2**m
    # sigma from the size: 0.15*n + 0.35 == 0.3*((n - 1)*0.5 - 1) + 0.8, fused in OpenCV.
    s = sigma if sigma > 0 else _fused_multiply_add(float(n), 0.15, 0.35)
    s2 = s * s
    scale = -0.125 / s2 if s2 != 0.0 else -math.inf  # -1/(2 sigma^2) with x measured in halves
    half = (n - 1) // 2
    values = []
    total = 0.0
    for i in range(half):
        x = 1 - n + 2 * i  # twice the distance from the centre
        t = _opencv_exp(float(x * x) * scale)
        values.append(t)
        total += t
    total *= 2.0
    total += 1.0  # the centre tap, exp(0) taken as exactly 1
    if n % 2 == 0:
        total += 1.0
    inv = 1.0 / total
    taps = [0.0] * n
    for i, t in enumerate(values):
        taps[i] = taps[n - 1 - i] = t * inv
    taps[half] = 1.0 * inv
    if n % 2 == 0:
        taps[half + 1] = taps[half]
    return taps


def gaussian(ksize: int, sigma: float) -> np.ndarray:
    """1-D Gaussian taps, bit for bit ``cv2.getGaussianKernel(ksize, sigma, ktype=cv2.CV_64F)``.

    OpenCV computes these in software floating point (``cv::softdouble``) with its own ``exp``;
    this function repeats every operation in the same order, so the float64 taps are identical
    (and ``.astype(np.float32)`` equals ``ktype=cv2.CV_32F``). The taps are symmetric, so
    correlation and convolution agree; OpenCV applies them as a correlation.

    Args:
        ksize: number of taps, an odd positive integer.
        sigma: standard deviation in pixels, finite. ``sigma <= 0`` derives it from ``ksize``
            as ``0.3*((ksize - 1)*0.5 - 1) + 0.8``, except that sizes 1, 3, 5, 7 and 9 then use
            OpenCV's fixed binomial-like tables (e.g. ``[1, 4, 6, 4, 1] / 16`` for 5).

    Returns:
        A float64 array of shape ``(ksize,)`` summing to 1 (up to rounding).

    Raises:
        TypeError: non-integer ``ksize`` or non-numeric ``sigma``.
        ValueError: even or non-positive ``ksize``; NaN or infinite ``sigma``.

    Example:
        >>> print(gaussian(5, 0))
        [0.0625 0.25   0.375  0.25   0.0625]
        >>> print(np.round(gaussian(5, 1.0), 6))
        [0.054489 0.244201 0.40262  0.244201 0.054489]
    """
    n = _check_odd_ksize("ksize", ksize)
    if n > MAX_GAUSSIAN_KSIZE:
        raise ValueError(
            f"ksize must be at most MAX_GAUSSIAN_KSIZE={MAX_GAUSSIAN_KSIZE}. "
            f"{_received(ksize=ksize)}"
        )
    s = _check_finite("sigma", sigma)
    return np.array(_gaussian_taps(n, s), dtype=np.float64)


def gaussian_ksize(sigma: float, *, uint8: bool = False) -> int:
    """The kernel size ``cv2.GaussianBlur`` picks for an axis whose ``ksize`` entry is 0.

    OpenCV (createGaussianKernels): ``cvRound(sigma * (3 if uint8 else 4) * 2 + 1) | 1``,
    i.e. about ``8*sigma + 1`` taps (``6*sigma + 1`` for 8-bit images), rounded half to even
    and then made odd.

    Args:
        sigma: the axis' standard deviation, finite and > 0.
        uint8: the rule for ``uint8`` images (3 sigmas each side instead of 4).

    Raises:
        TypeError: non-numeric ``sigma`` or non-bool ``uint8``.
        ValueError: ``sigma`` NaN, infinite, <= 0, or so large that the size overflows the
            32-bit int OpenCV uses.

    Example:
        >>> gaussian_ksize(1.0), gaussian_ksize(1.0, uint8=True), gaussian_ksize(0.3125)
        (9, 7, 5)
    """
    s = _check_finite("sigma", sigma)
    flag = _check_bool("uint8", uint8)
    if s <= 0:
        raise ValueError(
            f"sigma must be > 0 to derive a kernel size from it. {_received(sigma=sigma)}"
        )
    # Same operation order as OpenCV: ((sigma * factor) * 2) + 1, each rounded to double.
    size = s * (3 if flag else 4) * 2 + 1
    if not size < 2**31 - 1:
        raise ValueError(
            "sigma is too large: the derived kernel size overflows a 32-bit int. "
            f"{_received(sigma=sigma)}"
        )
    return round(size) | 1


def _check_derived_size(name: str, sigma: object, size: int) -> int:
    if size > MAX_GAUSSIAN_KSIZE:
        raise ValueError(
            f"{name} is too large: it derives a kernel size of {size}, more than "
            f"MAX_GAUSSIAN_KSIZE={MAX_GAUSSIAN_KSIZE}. {_received(**{name: sigma})}"
        )
    return size


def gaussian_blur_kernels(
    ksize: int | Sequence[int], sigma_x: float, sigma_y: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The separable taps ``cv2.GaussianBlur(src, ksize, sigma_x, sigmaY=sigma_y)`` applies.

    Resolves OpenCV's rules exactly as ``cv::GaussianBlur`` does for float32 (and float64)
    images: ``sigma_y <= 0`` means ``sigma_y = sigma_x``; a 0 size entry is derived from that
    axis' sigma with :func:`gaussian_ksize` (the float rule, ``8*sigma + 1``); negative sigmas
    then count as 0 (sigma from the size, see :func:`gaussian`); and when both sizes are equal
    and ``|sigma_x - sigma_y| < DBL_EPSILON`` the x taps are reused for y. The 2-D kernel is
    ``np.outer(ky, kx)`` (symmetric, so correlation and convolution agree).

    OpenCV filters a float32 image with these taps rounded to float32 (``ktype=CV_32F``) and
    float32 arithmetic; a float64 image uses them as they are.

    Args:
        ksize: an odd positive integer (square kernel) or an OpenCV-ordered
            ``(width, height)`` pair, each entry 0 (derive from sigma) or odd positive;
            a plain 0 means ``(0, 0)``.
        sigma_x: standard deviation along x (width), finite.
        sigma_y: standard deviation along y (height), finite; ``<= 0`` means ``sigma_x``.

    Returns:
        ``(kx, ky)``: float64 arrays of lengths ``width`` and ``height``.

    Raises:
        TypeError: non-integer size entries, a ``ksize`` that is neither an int nor a pair,
            non-numeric sigmas.
        ValueError: a pair of the wrong length, even or negative entries, NaN or infinite
            sigmas, or a 0 size entry whose sigma is not > 0.

    Example:
        >>> kx, ky = gaussian_blur_kernels((5, 3), 0)
        >>> print(kx, ky)
        [0.0625 0.25   0.375  0.25   0.0625] [0.25 0.5  0.25]
        >>> [len(k) for k in gaussian_blur_kernels(0, 1.0, 0.5)]
        [9, 5]
    """
    width, height = _check_ksize_pair("ksize", ksize)
    sx = _check_finite("sigma_x", sigma_x)
    sy = _check_finite("sigma_y", sigma_y)
    if sy <= 0:
        sy = sx
    if width == 0:
        if not sx > 0:
            raise ValueError(
                "A ksize width of 0 derives the width from sigma_x, which must then be > 0. "
                f"{_received(ksize=ksize, sigma_x=sigma_x)}"
            )
        width = _check_derived_size("sigma_x", sigma_x, gaussian_ksize(sx))
    if height == 0:
        if not sy > 0:
            raise ValueError(
                "A ksize height of 0 derives the height from sigma_y (or sigma_x when "
                f"sigma_y <= 0), which must then be > 0. "
                f"{_received(ksize=ksize, sigma_x=sigma_x, sigma_y=sigma_y)}"
            )
        height = _check_derived_size("sigma_y", sigma_y, gaussian_ksize(sy))
    sx = max(sx, 0.0)
    sy = max(sy, 0.0)
    kx = np.array(_gaussian_taps(width, sx), dtype=np.float64)
    if height == width and abs(sx - sy) < _DBL_EPSILON:
        ky = kx.copy()
    else:
        ky = np.array(_gaussian_taps(height, sy), dtype=np.float64)
    return kx, ky


# ---------------------------------------------------------------------------------------------
# Laplacian
# ---------------------------------------------------------------------------------------------


def _check_laplacian_ksize(ksize: object) -> int:
    return _check_odd_ksize("ksize", ksize, max_size=MAX_DERIV_KSIZE)


def laplacian_terms(ksize: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two separable terms whose sum is the Laplacian kernel ``cv2.Laplacian`` applies.

    Returns ``[(kx1, ky1), (kx2, ky2)]`` (1-D float64) with
    ``np.outer(ky1, kx1) + np.outer(ky2, kx2) == laplacian(ksize)``: the second derivative
    along x and the one along y. For ``ksize >= 3`` they are ``sobel(2, 0, ksize)`` and
    ``sobel(0, 2, ksize)`` (OpenCV's own decomposition for ``ksize > 3``); for ``ksize=1``
    they are ``([1, -2, 1], [0, 1, 0])`` and its transpose, all of length 3. Correlation taps
    (no flip); the kernels are symmetric anyway.

    Example:
        >>> for kx, ky in laplacian_terms(1):
        ...     print(kx, ky)
        [ 1. -2.  1.] [0. 1. 0.]
        [0. 1. 0.] [ 1. -2.  1.]
    """
    k = _check_laplacian_ksize(ksize)
    if k == 1:
        d2 = np.array([1.0, -2.0, 1.0])
        unit = np.array([0.0, 1.0, 0.0])
        return [(d2, unit), (unit.copy(), d2.copy())]
    return [sobel(2, 0, k), sobel(0, 2, k)]


def laplacian(ksize: int = 1) -> np.ndarray:
    """The 2-D float64 kernel ``cv2.Laplacian(src, ddepth, ksize=ksize)`` applies.

    ``ksize=1`` gives ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``, ``ksize=3`` gives
    ``[[2, 0, 2], [0, -8, 0], [2, 0, 2]]`` and a larger odd ``ksize`` (up to 31) the sum of
    the outer products of the ``(2, 0)`` and ``(0, 2)`` Sobel pairs, like OpenCV. Applied as a
    correlation (no flip); the kernel is symmetric. See :func:`laplacian_terms` for the
    separable form.

    Raises:
        TypeError: non-integer ``ksize``.
        ValueError: ``ksize`` not an odd integer from 1 to 31.

    Example:
        >>> print(laplacian(1))
        [[ 0.  1.  0.]
         [ 1. -4.  1.]
         [ 0.  1.  0.]]
        >>> print(laplacian(3))
        [[ 2.  0.  2.]
         [ 0. -8.  0.]
         [ 2.  0.  2.]]
    """
    (kx1, ky1), (kx2, ky2) = laplacian_terms(ksize)
    return np.outer(ky1, kx1) + np.outer(ky2, kx2)


# ---------------------------------------------------------------------------------------------
# Box, pyramids and Gabor (the linear families added for issue 11)
# ---------------------------------------------------------------------------------------------

#: Largest box size (per axis) accepted. OpenCV sets no limit; the cap only catches mistakes.
MAX_BOX_KSIZE = 4095
#: Largest Gabor size (per axis), given or derived from sigma (``2 * (size // 2) + 1`` taps).
MAX_GABOR_KSIZE = 1023

#: The 1-D taps of OpenCV's pyramids, ``[1, 4, 6, 4, 1] / 16`` (``cv2.pyrDown``'s 5x5 kernel is
#: their outer product; ``cv2.pyrUp`` uses 4 times it on the zero-stuffed image).
PYRAMID_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


_BOX_KSIZE_TEXT = (
    f"a positive integer (at most MAX_BOX_KSIZE={MAX_BOX_KSIZE}) or a (width, height) pair of those"
)


def box_ksize(ksize: object) -> tuple[int, int]:
    """Validate a box size: an int or OpenCV's ``(width, height)``; returns ``(width, height)``.

    Even sizes are allowed, as in ``cv2.boxFilter``.

    >>> box_ksize(3), box_ksize((4, 2))
    ((3, 3), (4, 2))
    """
    width, height = _ksize_entries("ksize", ksize, _BOX_KSIZE_TEXT)
    if not (1 <= width <= MAX_BOX_KSIZE and 1 <= height <= MAX_BOX_KSIZE):
        raise ValueError(f"ksize must be {_BOX_KSIZE_TEXT}. {_received(ksize=ksize)}")
    return width, height


def box(ksize: int | tuple[int, int], normalize: bool = True) -> np.ndarray:
    """The 2-D kernel of ``cv2.boxFilter(..., ksize, normalize=normalize)``: ``(height, width)``.

    All ones, divided by ``width * height`` when ``normalize``. ``ksize`` is an int or OpenCV's
    ``(width, height)``. (The layers apply it as two 1-D passes of ones, then the scale.)

    >>> box((3, 2)).tolist()  # (width, height) = (3, 2)
    [[0.16666666666666666, 0.16666666666666666, 0.16666666666666666], \
[0.16666666666666666, 0.16666666666666666, 0.16666666666666666]]
    """
    width, height = box_ksize(ksize)
    normalize = _check_bool("normalize", normalize)
    k = np.ones((height, width))
    return k / (width * height) if normalize else k


def pyramid_kernel() -> np.ndarray:
    """The 5x5 kernel of ``cv2.pyrDown``: ``outer(PYRAMID_TAPS, PYRAMID_TAPS)`` (sums to 1).

    >>> (pyramid_kernel() * 256).astype(int)[2].tolist()
    [6, 24, 36, 24, 6]
    """
    return np.outer(PYRAMID_TAPS, PYRAMID_TAPS)


_GABOR_KSIZE_TEXT = (
    f"0 (derive the size from sigma), a positive integer (at most "
    f"MAX_GABOR_KSIZE={MAX_GABOR_KSIZE}) or a (width, height) pair of those"
)


def _check_positive(name: str, value: object) -> float:
    v = _check_finite(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be a finite number > 0. {_received(**{name: value})}")
    return v


def gabor_ksize(
    ksize: int | tuple[int, int], sigma: float, theta: float, gamma: float
) -> tuple[int, int]:
    """The ``(width, height)`` of the kernel ``cv2.getGaborKernel`` builds (always odd).

    A positive size ``s`` gives ``2 * (s // 2) + 1`` taps (an even size grows by one, as in
    OpenCV); 0 derives the half-size from the rotated 3-sigma envelope, OpenCV's rule:
    ``round(max(|3 sigma cos(theta)|, |3 sigma / gamma sin(theta)|))`` across.

    >>> gabor_ksize((4, 0), 1.0, 0.0, 0.5)
    (5, 13)
    """
    width, height = _ksize_entries("ksize", ksize, _GABOR_KSIZE_TEXT)
    sigma = _check_positive("sigma", sigma)
    theta = _check_finite("theta", theta)
    gamma = _check_positive("gamma", gamma)
    if width < 0 or height < 0:
        raise ValueError(f"ksize must be {_GABOR_KSIZE_TEXT}. {_received(ksize=ksize)}")
    sigma_x, sigma_y = sigma, sigma / gamma
    c, s = math.cos(theta), math.sin(theta)
    # cvRound: round half to even (lrint); these are >= 0
    if width > 0:
        xmax = width // 2
    else:
        xmax = round(max(abs(3 * sigma_x * c), abs(3 * sigma_y * s)))
    if height > 0:
        ymax = height // 2
    else:
        ymax = round(max(abs(3 * sigma_x * s), abs(3 * sigma_y * c)))
    size = (2 * xmax + 1, 2 * ymax + 1)
    if max(size) > MAX_GABOR_KSIZE:
        raise ValueError(
            f"the Gabor kernel would be {size[0]}x{size[1]} (width x height); at most "
            f"MAX_GABOR_KSIZE={MAX_GABOR_KSIZE} per axis. "
            f"{_received(ksize=ksize, sigma=sigma, gamma=gamma)}"
        )
    return size


def gabor(
    ksize: int | tuple[int, int],
    sigma: float,
    theta: float,
    lambd: float,
    gamma: float,
    psi: float = math.pi / 2,
) -> np.ndarray:
    """The Gabor kernel of ``cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi,
    ktype=cv2.CV_64F)``, float64, shape ``(height, width)``.

    Same argument order as OpenCV; ``ksize`` is an int or OpenCV's ``(width, height)`` (see
    :func:`gabor_ksize`: always an odd number of taps, 0 derives it from ``sigma``). Tap
    ``[ymax - y, xmax - x]`` is ``exp(-(xr**2 / sigma**2 + gamma**2 yr**2 / sigma**2) / 2) *
    cos(2 pi xr / lambd + psi)`` with ``xr = x cos(theta) + y sin(theta)``,
    ``yr = -x sin(theta) + y cos(theta)`` (OpenCV stores it rotated by 180 degrees, so apply it
    as correlation, as ``cv2.filter2D`` does). ``sigma``, ``lambd`` and ``gamma`` must be > 0.

    Precision: evaluated with the same operations in the same order as OpenCV's ``gabor.cpp``
    (C doubles, the C library's ``exp``/``cos`` through :mod:`math`). Over a sweep of 2,000
    random parameter sets (sizes 1..41, sigma 0.3..12, theta, lambd 0.5..40, gamma 0.2..3,
    psi) against ``cv2.getGaborKernel(..., ktype=cv2.CV_64F)`` the largest difference was 0
    ulp (bit-identical; ``tests/test_gabor.py`` checks it).

    >>> k = gabor(3, 1.0, 0.0, 4.0, 0.5, 0.0)
    >>> k.shape, round(float(k[1, 1]), 6)
    ((3, 3), 1.0)
    """
    width, height = gabor_ksize(ksize, sigma, theta, gamma)
    lambd = _check_positive("lambd", lambd)
    psi = _check_finite("psi", psi)
    sigma, theta, gamma = float(sigma), float(theta), float(gamma)
    sigma_x, sigma_y = sigma, sigma / gamma
    xmax, ymax = width // 2, height // 2
    c, s = math.cos(theta), math.sin(theta)
    ex = -0.5 / (sigma_x * sigma_x)
    ey = -0.5 / (sigma_y * sigma_y)
    cscale = math.pi * 2 / lambd
    k = np.empty((height, width))
    for y in range(-ymax, ymax + 1):
        for x in range(-xmax, xmax + 1):
            xr = x * c + y * s
            yr = -x * s + y * c
            v = math.exp(ex * xr * xr + ey * yr * yr) * math.cos(cscale * xr + psi)
            k[ymax - y, xmax - x] = v
    return k
