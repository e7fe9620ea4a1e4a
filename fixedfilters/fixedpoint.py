"""OpenCV's bit-exact fixed-point Gaussian blur for ``uint8`` and ``uint16`` images, in-graph.

``cv2.GaussianBlur`` on a ``uint8`` (``CV_8U``) or ``uint16`` (``CV_16U``) image is not a rounded
float blur. OpenCV (``modules/imgproc/src/smooth.dispatch.cpp``, ``smooth.simd.hpp``,
``fixedpoint.inl.hpp``) runs a fixed-point separable filter:

1. The float64 Gaussian taps (:func:`fixedfilters.kernels.gaussian`, bit for bit OpenCV's
   ``getGaussianKernelBitExact``) are quantized to ``F`` fraction bits (``F = 8`` for ``uint8``:
   ``ufixedpoint16``; ``F = 16`` for ``uint16``: ``ufixedpoint32``) with error diffusion
   (``getGaussianKernelFixedPoint_ED``): for the first half of the taps, ``adj = k[i] * 2**F +
   err``, ``q[i] = round(adj)`` (half to even), ``err = adj - q[i]`` in double precision; the
   second half mirrors the first and the centre tap is ``2**F - 2 * sum(first half)``, so the
   integer taps sum to exactly ``2**F``. See :func:`fixed_taps`.
2. A row pass ``r = sum_i qx[i] * x[.., w + i - rx]`` (exact: ``F`` fraction bits, no rounding)
   and a column pass ``a = sum_j qy[j] * r[h + j - ry]`` (exact, ``2F`` fraction bits), with the
   border from ``cv::borderInterpolate`` (0 outside the image for ``BORDER_CONSTANT``).
3. One rounding at the end: ``out = (a + 2**(2F - 1)) >> 2F`` (half up; never saturates, as the
   taps are non-negative and sum to one).

Every special case in ``smooth.simd.hpp`` (the ``[1, 2, 1]`` and ``[1, 4, 6, 4, 1]`` shortcuts,
the SIMD offsets, images narrower than the kernel, OpenCV setting a kernel size to 1 along an
axis of length 1) computes that same exact sum, so one formula reproduces all of them; checked
against ``cv2.GaussianBlur`` (OpenCV 5.1) by equality over every border, kernel sizes 1..31,
sigmas from 0.05 to 100, images from 1x1, 1..4 channels, both depths (``tests/test_fixedpoint.py``).

**No float fallback.** OpenCV 5.1 takes this path for every ``CV_8U`` and ``CV_16U`` call from
Python. (It falls back to its float ``sepFilter2D`` only when the environment variable
``OPENCV_GAUSSIANBLUR_CHECK_BITEXACT_KERNELS`` is set *and* a quantized kernel does not sum to
one, which the error-diffusion construction rules out, or for a ROI of a larger ``cv::Mat``
without ``BORDER_ISOLATED``, which a NumPy array never is.) :func:`uses_fixed_point` therefore
says ``True`` for ``"uint8"`` and ``"uint16"``; the tests check that the fixed-point bytes differ
from a rounded float blur on real photographs, so the claim can fail.

Arithmetic. Everything is integer and exact, on every backend (JAX needs no ``x64``). For
``uint8`` the column pass runs in ``uint16`` (its sums are at most ``255 * 256``; half the
memory traffic of ``int32``, which is what this pass costs) and the row pass in ``int32`` (sums
below ``255 * 2**16``). For ``uint16`` the exact sum has 48
bits, so it is carried in 8-bit limbs: the input as two bytes (two column passes, each
``< 2**24``), the column result as four bytes (four row passes with the same taps, each
``< 2**24``), and the limbs recombined with carries before the final rounding. (The order of
the passes does not matter: the sums are exact.) The bounds hold for any kernel length,
since the taps are non-negative and sum to ``2**F``.

Interface (what :class:`fixedfilters.GaussianBlur` with ``output_dtype="uint8"/"uint16"`` uses):

- :func:`uses_fixed_point` ``(ksize, sigma_x, sigma_y, depth)``: OpenCV's decision (always
  ``True`` for the two integer depths, see above); validates the arguments.
- :func:`integer_gaussian_ksize` / :func:`integer_gaussian_kernels`: the kernel sizes and float64
  taps OpenCV uses for an integer depth (``ksize`` 0 derives ``round(sigma * 6 + 1) | 1`` for
  ``uint8`` but ``round(sigma * 8 + 1) | 1`` for ``uint16``, as for float images).
- :func:`fixed_taps` ``(kx, ky, depth, *, reference=None)``: the integer taps, in-graph, derived
  from the float taps (a layer's weights). **Extra keyword** ``reference``: the exact float64
  taps ``(kx64, ky64)`` of the layer's configuration (from :func:`integer_gaussian_kernels`).
  Float32 weights lose the information OpenCV's double-precision error diffusion needs in a few
  configurations (``uint16`` only; e.g. ksize 31, sigma 2.986455: 5 of 6592 random (ksize,
  sigma) pairs for ``uint16``, none for ``uint8``). With ``reference`` given, weights equal to
  ``reference`` rounded to their dtype use OpenCV's exact integer taps; any other weights (after
  ``set_weights``) are quantized from the weights themselves.
- :func:`gaussian_blur_fixed` ``(x, kx, ky, *, depth, border, border_value, data_format,
  reference=None)``: the blur; same ``reference`` keyword, passed to :func:`fixed_taps`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from fixedfilters import kernels
from fixedfilters.borders import normalize_border
from fixedfilters.ops import STENCIL_MIN_ELEMENTS, pad_axis, spatial_axes, xla_jit

__all__ = [
    "FIXED_POINT_DEPTHS",
    "uses_fixed_point",
    "integer_gaussian_ksize",
    "integer_gaussian_kernels",
    "fixed_taps_numpy",
    "fixed_taps",
    "gaussian_blur_fixed",
]

#: Fraction bits of the quantized taps for each depth OpenCV blurs in fixed point.
FIXED_POINT_DEPTHS: dict[str, int] = {"uint8": 8, "uint16": 16}

_DEPTH_MAX = {"uint8": 255, "uint16": 65535}
_DEPTH_OF_BITS = {8: "uint8", 16: "uint16"}
_DATA_FORMATS = ("channels_last", "channels_first")


def _check_depth(depth: object) -> str:
    if not isinstance(depth, str) or depth not in FIXED_POINT_DEPTHS:
        raise ValueError(
            "depth must be one of 'uint8', 'uint16' (the depths OpenCV blurs in fixed point). "
            f"Received: depth={depth!r}"
        )
    return depth


def integer_gaussian_ksize(
    ksize: int | Sequence[int], sigma_x: float, sigma_y: float = 0.0, depth: str = "uint8"
) -> tuple[int, int]:
    """The ``(width, height)`` ``cv2.GaussianBlur`` uses on a ``depth`` image.

    ``ksize`` is an odd int or an OpenCV-ordered ``(width, height)`` pair; a 0 entry derives the
    size from that axis' sigma (``sigma_y <= 0`` means ``sigma_x``), with OpenCV's depth rule
    (``createGaussianKernels``): ``round(sigma * 3 * 2 + 1) | 1`` for ``uint8``,
    ``round(sigma * 4 * 2 + 1) | 1`` for ``uint16`` (the float rule). Validation and messages are
    :mod:`fixedfilters.kernels`'.

    >>> integer_gaussian_ksize(0, 1.0, 0.0, "uint8"), integer_gaussian_ksize(0, 1.0, 0.0, "uint16")
    ((7, 7), (9, 9))
    """
    depth = _check_depth(depth)
    width, height = kernels._check_ksize_pair("ksize", ksize)
    sx = kernels._check_finite("sigma_x", sigma_x)
    sy = kernels._check_finite("sigma_y", sigma_y)
    if sy <= 0:
        sy = sx
    uint8 = depth == "uint8"
    for name, size, sigma in (("sigma_x", width, sx), ("sigma_y", height, sy)):
        if size == 0 and not sigma > 0:
            raise ValueError(
                f"A ksize entry of 0 derives that size from {name}, which must then be > 0. "
                f"{kernels._received(ksize=ksize, sigma_x=sigma_x, sigma_y=sigma_y)}"
            )
    if width == 0:
        width = kernels._check_derived_size(
            "sigma_x", sigma_x, kernels.gaussian_ksize(sx, uint8=uint8)
        )
    if height == 0:
        height = kernels._check_derived_size(
            "sigma_y", sigma_y, kernels.gaussian_ksize(sy, uint8=uint8)
        )
    return width, height


def integer_gaussian_kernels(
    ksize: int | Sequence[int], sigma_x: float, sigma_y: float = 0.0, depth: str = "uint8"
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 ``(kx, ky)`` that ``cv2.GaussianBlur`` quantizes for a ``depth`` image.

    :func:`fixedfilters.kernels.gaussian_blur_kernels` with the sizes of
    :func:`integer_gaussian_ksize` (they differ from the float rule only for ``uint8`` and a 0
    size entry).

    >>> [len(k) for k in integer_gaussian_kernels(0, 1.0, 0.5, depth="uint8")]
    [7, 5]
    """
    size = integer_gaussian_ksize(ksize, sigma_x, sigma_y, depth)
    return kernels.gaussian_blur_kernels(size, sigma_x, sigma_y)


def uses_fixed_point(
    ksize: int | Sequence[int], sigma_x: float, sigma_y: float, depth: str
) -> bool:
    """Whether ``cv2.GaussianBlur(img, ksize, sigma_x, sigmaY=sigma_y)`` on a ``depth`` image
    runs OpenCV's bit-exact fixed-point path (else its float path, then rounding).

    OpenCV 5.1 (``cv::GaussianBlur``) takes the fixed-point path for every ``CV_8U`` and
    ``CV_16U`` image that is not a ROI of a larger matrix, whatever the kernel size, sigma,
    border and image size: its only other condition (a quantized kernel not summing to one,
    checked only under ``OPENCV_GAUSSIANBLUR_CHECK_BITEXACT_KERNELS``) cannot occur with the
    error-diffusion quantization. So this returns ``True`` for ``"uint8"`` and ``"uint16"`` and
    ``False`` for any other depth name (``"float32"``, ``"int16"``, ...), after validating
    ``ksize`` and the sigmas as :func:`integer_gaussian_ksize` does.

    >>> uses_fixed_point(3, 0.0, 0.0, "uint8"), uses_fixed_point((0, 0), 2.0, 0.0, "float32")
    (True, False)
    """
    if not isinstance(depth, str):
        raise TypeError(f"depth must be a dtype name string. Received: depth={depth!r}")
    if depth in FIXED_POINT_DEPTHS:
        integer_gaussian_ksize(ksize, sigma_x, sigma_y, depth)
        return True
    kernels.gaussian_blur_kernels(ksize, sigma_x, sigma_y)
    return False


# -- taps ------------------------------------------------------------------------------------
def fixed_taps_numpy(k: np.ndarray | Sequence[float], depth: str) -> np.ndarray:
    """OpenCV's quantized taps of one odd-length float kernel (``getGaussianKernelFixedPoint_ED``).

    Operation for operation in double precision (NumPy reference; :func:`fixed_taps` is the
    in-graph version). Only the first half of ``k`` is read (OpenCV mirrors it) and the centre
    tap is ``2**F`` minus the others, so the result sums to exactly ``2**F`` (``F`` 8 for
    ``uint8``, 16 for ``uint16``). Returns int64.

    >>> fixed_taps_numpy(kernels.gaussian(5, 1.0), "uint8").tolist()
    [14, 62, 104, 62, 14]
    """
    bits = FIXED_POINT_DEPTHS[_check_depth(depth)]
    k = np.asarray(k, dtype=np.float64).reshape(-1)
    n = k.size
    if n % 2 != 1:
        raise ValueError(f"the kernel length must be odd. Received: len(k)={n}")
    one = float(1 << bits)
    out = np.zeros(n, dtype=np.int64)
    err = 0.0
    total = 0
    for i in range(n // 2):
        adj = float(k[i]) * one + err
        v = round(adj)  # cvRound on softdouble: nearest, ties to even
        err = adj - float(v)
        out[i] = out[n - 1 - i] = v
        total += v
    out[n // 2] = (1 << bits) - 2 * total
    return out


def _quantize(w, bits: int):
    """In-graph :func:`fixed_taps_numpy` of a 1-D float tensor ``w`` (static odd length).

    Runs in ``w``'s float dtype (float64 where the backend has it and the weights are float64,
    else float32). ``w * 2**bits`` is exact and ``adj - round(adj)`` is exact (Sterbenz), so the
    only rounding is one addition per tap: the same bits on every backend.
    """
    n = int(w.shape[0])
    dtype = "float64" if keras.backend.standardize_dtype(w.dtype) == "float64" else "float32"
    w = ops.cast(w, dtype)
    one = float(1 << bits)
    err = ops.zeros((), dtype=dtype)
    side = []
    for i in range(n // 2):
        adj = w[i] * one + err
        v = ops.round(adj)  # half to even, like cvRound
        err = adj - v
        side.append(ops.cast(v, "int32"))
    if not side:
        return ops.full((1,), 1 << bits, dtype="int32")
    side = ops.stack(side)
    centre = ops.reshape((1 << bits) - 2 * ops.sum(side), (1,))
    return ops.concatenate([side, centre, ops.flip(side, axis=0)], axis=0)


def _quantize_numpy(w: np.ndarray, bits: int) -> np.ndarray:
    """:func:`_quantize` on a concrete array, in NumPy, with the same bits (float64 arrays:
    exactly :func:`fixed_taps_numpy`; float32: the same float32 additions as the graph)."""
    dtype = np.float64 if w.dtype == np.float64 else np.float32
    w = w.astype(dtype)
    one = dtype(1 << bits)
    n = w.size
    out = np.zeros(n, dtype=np.int64)
    err = dtype(0)
    total = 0
    for i in range(n // 2):
        adj = dtype(w[i] * one + err)
        v = np.round(adj)  # half to even
        err = dtype(adj - v)
        out[i] = out[n - 1 - i] = int(v)
        total += int(v)
    out[n // 2] = (1 << bits) - 2 * total
    return out.astype(np.int32)


def _concrete(w) -> np.ndarray | None:
    """``w`` as a NumPy array when its value is known now (arrays, eager tensors and
    variables), ``None`` inside a traced function (so the graph reads the weights)."""
    if isinstance(w, (np.ndarray, np.generic, list, tuple, int, float)):
        return np.asarray(w)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            return None
    elif backend == "jax":
        import jax

        value = w.value if isinstance(w, keras.Variable) else w
        if isinstance(value, jax.core.Tracer):
            return None
    else:
        return None
    try:
        return np.asarray(ops.convert_to_numpy(w))
    except Exception:  # a symbolic value after all: take the graph path
        return None


def _taps_1d(w, bits: int, reference):
    ref = None if reference is None else np.asarray(reference, dtype=np.float64).reshape(-1)
    concrete = _concrete(w)
    if concrete is not None:
        # Known now (eager): the same arithmetic in NumPy, a few microseconds instead of a
        # few hundred eager ops.
        w_np = concrete.reshape(-1)
        if w_np.dtype != np.float64:
            w_np = w_np.astype(np.float32)
        _check_taps_length(w_np.size, ref)
        if ref is not None and np.array_equal(w_np, ref.astype(w_np.dtype)):
            return ops.convert_to_tensor(
                fixed_taps_numpy(ref, _DEPTH_OF_BITS[bits]).astype("int32")
            )
        return ops.convert_to_tensor(_quantize_numpy(w_np, bits))
    w = ops.reshape(ops.convert_to_tensor(w), (-1,))
    _check_taps_length(int(w.shape[0]), ref)
    if not keras.backend.standardize_dtype(w.dtype).startswith("float"):
        w = ops.cast(w, "float32")
    elif keras.backend.standardize_dtype(w.dtype) not in ("float32", "float64"):
        w = ops.cast(w, "float32")
    derived = _quantize(w, bits)
    if ref is None:
        return derived
    exact = fixed_taps_numpy(ref, _DEPTH_OF_BITS[bits]).astype("int32")
    same = ops.all(ops.equal(w, ops.cast(ref, w.dtype)))
    return ops.where(same, ops.convert_to_tensor(exact), derived)


def _check_taps_length(n: int, ref: np.ndarray | None) -> None:
    if n % 2 != 1:
        raise ValueError(
            f"fixed-point Gaussian kernels have an odd length. Received: kernel length {n}"
        )
    if ref is not None and ref.size != n:
        raise ValueError(
            f"reference taps must have the kernel's length {n}. Received: {ref.size} taps"
        )


def fixed_taps(kx, ky, depth: str, *, reference=None):
    """The integer taps ``cv2.GaussianBlur`` applies on a ``depth`` image, in-graph.

    ``kx`` (width) and ``ky`` (height) are the 1-D float taps, arrays or tensors (a layer's
    ``kernel_x[0]`` and ``kernel_y[0]``), of odd static length. Each is quantized as OpenCV's
    ``getGaussianKernelFixedPoint_ED`` does (see :func:`fixed_taps_numpy`: first half with error
    diffusion, mirrored, centre = ``2**F`` minus the rest), with keras.ops, so the taps follow
    the weights (``set_weights`` changes them) inside ``tf.function`` and ``jax.jit``. The
    weights must be those of a symmetric kernel summing to 1 for the result to mean a blur:
    like OpenCV, only the first half of each kernel is read.

    ``reference``: optional float64 ``(kx64, ky64)``, the exact taps of the configuration
    (:func:`integer_gaussian_kernels`). OpenCV quantizes the float64 taps; float32 weights
    reproduce its integer taps for every ``uint8`` configuration tried (ksize 1..31, 412 sigmas
    from 0.05 to 50) but not for a few ``uint16`` ones (5 of 6592, e.g. ksize 31 and
    sigma 2.986455), where a float32 weight sits too close to a rounding boundary of the
    16-bit quantization. With ``reference``, a kernel whose weights equal the reference rounded
    to the weights' dtype gets OpenCV's exact taps; other weights are quantized from the weights.

    Returns ``(qx, qy)``: int32 tensors, each summing to ``2**F`` (``F`` = 8 for ``"uint8"``,
    16 for ``"uint16"``).

    >>> qx, qy = fixed_taps(kernels.gaussian(3, 0), kernels.gaussian(5, 1.0), "uint8")
    >>> [int(v) for v in qx], [int(v) for v in qy]
    ([64, 128, 64], [14, 62, 104, 62, 14])
    """
    bits = FIXED_POINT_DEPTHS[_check_depth(depth)]
    rx, ry = (None, None) if reference is None else reference
    return _taps_1d(kx, bits, rx), _taps_1d(ky, bits, ry)


# -- the blur --------------------------------------------------------------------------------
def _window(z, axis: int, start: int, length):
    index = [slice(None)] * len(z.shape)
    index[axis] = slice(start, start + length)
    return z[tuple(index)]


def _length(x, axis: int):
    n = x.shape[axis]
    return int(n) if n is not None else ops.shape(x)[axis]


def _correlate(z, taps, axis: int, length):
    """Valid correlation of the padded ``z`` with symmetric integer ``taps`` along ``axis``.

    The taps of :func:`fixed_taps` are symmetric by construction, so each pair of mirrored
    positions is added before one multiply (half the multiplies). ``taps`` has ``z``'s dtype.
    """
    k = int(taps.shape[0])
    c = k // 2
    out = _window(z, axis, c, length) * taps[c]
    for i in range(c):
        pair = _window(z, axis, i, length) + _window(z, axis, k - 1 - i, length)
        out = out + pair * taps[i]
    return out


def _blur_uint8(x, qx, qy, h_axis, w_axis, h, w, border, value):
    kh, kw = int(qy.shape[0]), int(qx.shape[0])
    # Column pass in uint16: each side tap is <= 128 (the taps are symmetric and sum to 256),
    # so every pair term is <= 510 * 128 and every partial sum <= 255 * 256: exact. Half the
    # bytes of an int32 intermediate, which is what the speed of this pass depends on.
    z = ops.cast(pad_axis(ops.cast(x, "uint8"), h_axis, kh // 2, kh // 2, border, value), "uint16")
    r = _correlate(z, ops.cast(qy, "uint16"), h_axis, h)
    # Row pass in int32: < 255 * 2**16 (16 fraction bits); round half up. Outside the image,
    # a constant border's columns are `value * 256` after the column pass. Each border is
    # padded in the narrow dtype and then widened: XLA fuses a cast-then-concatenate badly
    # (4-10x slower here), and padding between the passes keeps XLA from fusing both passes
    # into one loop that recomputes the column pass for every row tap.
    z = ops.cast(pad_axis(r, w_axis, kw // 2, kw // 2, border, value << 8), "int32")
    a = _correlate(z, qx, w_axis, w)
    return ops.cast(ops.right_shift(a + (1 << 15), 16), "uint8")


def _blur_uint16(x, qx, qy, h_axis, w_axis, h, w, border, value):
    kh, kw = int(qy.shape[0]), int(qx.shape[0])
    # Both borders first (the corners see the 2-D border), in uint16, then widened.
    zp = pad_axis(ops.cast(x, "uint16"), h_axis, kh // 2, kh // 2, border, value)
    zp = ops.cast(pad_axis(zp, w_axis, kw // 2, kw // 2, border, value), "int32")
    # Column pass on the two bytes of the input: x = 256 * hi + lo, each sum < 2**24.
    hi = _correlate(ops.right_shift(zp, 8), qy, h_axis, h)
    lo = _correlate(ops.bitwise_and(zp, 255), qy, h_axis, h)
    # r = 256 * hi + lo < 2**32, as four bytes b3..b0.
    t = lo + ops.left_shift(ops.bitwise_and(hi, 255), 8)
    c = ops.right_shift(hi, 8) + ops.right_shift(t, 16)  # r >> 16, < 2**16
    limbs = (
        ops.bitwise_and(t, 255),
        ops.bitwise_and(ops.right_shift(t, 8), 255),
        ops.bitwise_and(c, 255),
        ops.right_shift(c, 8),
    )
    # Row pass on each byte: e_k = sum_i qx[i] * byte_k, each < 2**24;
    # a = 2**24 e3 + 2**16 e2 + 2**8 e1 + e0 (32 fraction bits).
    e0, e1, e2, e3 = (_correlate(b, qx, w_axis, w) for b in limbs)
    low = e0 + ops.left_shift(ops.bitwise_and(e1, 255), 8)  # bits 0..23 (+ carry)
    mid = (
        e2
        + ops.right_shift(e1, 8)
        + ops.left_shift(ops.bitwise_and(e3, 255), 8)
        + ops.right_shift(low, 16)
    )  # a >> 16, less the (e3 >> 8) << 16 part
    # a = 2**32 (e3 >> 8 + mid >> 16) + 2**16 (mid & 0xFFFF) + (low & 0xFFFF); round half up.
    out = ops.right_shift(e3, 8) + ops.right_shift(mid, 16)
    out = out + ops.bitwise_and(ops.right_shift(mid, 15), 1)
    return ops.cast(out, "uint16")


def _blur(x, qx, qy, *, depth, border, value, data_format):
    h_axis, w_axis = spatial_axes(data_format, len(x.shape))
    h, w = _length(x, h_axis), _length(x, w_axis)
    fn = _blur_uint8 if depth == "uint8" else _blur_uint16
    return fn(x, qx, qy, h_axis, w_axis, h, w, border, value)


@functools.cache
def _compiled_blur(backend: str, depth: str, border: str, value: int, data_format: str):
    fn = functools.partial(_blur, depth=depth, border=border, value=value, data_format=data_format)
    return xla_jit(fn, backend)


def _use_xla(x, data_format: str) -> bool:
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return False
    h_axis, w_axis = spatial_axes(data_format)
    c_axis = 3 if data_format == "channels_last" else 1
    dims = (x.shape[h_axis], x.shape[w_axis], x.shape[c_axis])
    if None in dims:
        return False
    return int(dims[0]) * int(dims[1]) * int(dims[2]) >= STENCIL_MIN_ELEMENTS


def _check_border_value(border_value: object, depth: str) -> int:
    top = _DEPTH_MAX[depth]
    try:
        v = float(border_value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = float("nan")
    if not (v == v and v == int(v) and 0 <= v <= top):
        raise ValueError(
            f"border_value must be an integer from 0 to {top} for depth={depth!r} (OpenCV's "
            f"GaussianBlur pads with 0). Received: border_value={border_value!r}"
        )
    return int(v)


def gaussian_blur_fixed(
    x,
    kx,
    ky,
    *,
    depth: str,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
    reference=None,
):
    """OpenCV's fixed-point Gaussian blur of an integer image batch, byte for byte.

    OpenCV equivalent: ``cv2.GaussianBlur(img, ksize, sigmaX, sigmaY=..., borderType=...)``
    on each ``uint8`` (``depth="uint8"``) or ``uint16`` (``depth="uint16"``) image of the
    batch, where ``kx``/``ky`` are the float taps of that call (:func:`integer_gaussian_kernels`,
    or a layer's ``kernel_x[0]``/``kernel_y[0]``). The taps are quantized with
    :func:`fixed_taps` (``reference`` as there), then an exact integer row pass, column pass and
    one rounding (half up), see the module docstring. Correlation (the taps are symmetric
    anyway). Not differentiable (integer output).

    Args:
        x: ``(B, H, W, C)`` (``(B, C, H, W)`` for ``channels_first``), any integer or float
            dtype holding values of ``depth`` (``0..255`` or ``0..65535``; other values are not
            checked and give meaningless bytes). Any size from 1x1 (smaller than the kernel
            too) and any channel count; height and width may be dynamic (``tf.function``).
        kx, ky: 1-D float taps along the width and the height, odd lengths.
        depth: ``"uint8"`` or ``"uint16"``, the dtype of the result.
        border: ``"reflect_101"`` (default), ``"reflect"``, ``"replicate"``, ``"constant"``
            (OpenCV's four) or ``"wrap"`` (ours: ``numpy.pad(mode="wrap")`` then the same
            valid arithmetic).
        border_value: the constant border's value, an integer in the depth's range.
            ``cv2.GaussianBlur`` always pads with 0; another value equals padding the image with
            it (``cv2.copyMakeBorder``) and cropping the blur of the padded image.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        reference: optional float64 ``(kx64, ky64)``; see :func:`fixed_taps`.

    Returns:
        A tensor of dtype ``depth`` and the shape of ``x``.

    On TensorFlow and JAX with a static height, width and channel count and at least
    ``fixedfilters.ops.STENCIL_MIN_ELEMENTS`` values per image, the computation runs compiled by
    XLA (``tf.function(jit_compile=True)`` / ``jax.jit``, traced once per input shape); smaller
    images and a dynamic height or width run as plain ops (same bits).

    >>> import numpy as np
    >>> img = np.array([[[[0], [0], [255], [0]]]], dtype=np.uint8)  # one 1x4 image
    >>> k = kernels.gaussian(3, 0)
    >>> np.asarray(gaussian_blur_fixed(img, k, k, depth="uint8")).ravel().tolist()
    [0, 64, 128, 128]

    (``cv2.GaussianBlur(img[0, :, :, 0], (3, 3), 0)`` gives the same.)
    """
    depth = _check_depth(depth)
    border = normalize_border(border)
    value = _check_border_value(border_value, depth) if border == "constant" else 0
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"data_format must be one of {_DATA_FORMATS}. Received: data_format={data_format!r}"
        )
    x = ops.convert_to_tensor(x)
    if len(x.shape) != 4:
        raise ValueError(
            "x must be a 4-D image batch (B, H, W, C) or (B, C, H, W). "
            f"Received: x with shape {tuple(x.shape)}"
        )
    qx, qy = fixed_taps(kx, ky, depth, reference=reference)
    if _use_xla(x, data_format):
        return _compiled_blur(keras.backend.backend(), depth, border, value, data_format)(x, qx, qy)
    return _blur(x, qx, qy, depth=depth, border=border, value=value, data_format=data_format)
