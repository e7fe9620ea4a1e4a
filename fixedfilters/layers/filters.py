"""The fixed filter layers: Sobel, Scharr, Laplacian, GaussianBlur, Filter2D, SobelMagnitude.

Weight layout
-------------
Separable layers (``Sobel``, ``Scharr``, ``Laplacian``, ``GaussianBlur``, ``SobelMagnitude``)
hold two non-trainable weights:

* ``kernel_x``, shape ``(terms, kw)``: the horizontal 1-D factor of each term;
* ``kernel_y``, shape ``(terms, kh)``: the vertical 1-D factor of each term.

Term ``t`` correlates each plane with ``outer(kernel_y[t], kernel_x[t])``, exactly the pair
``cv2.getDerivKernels`` / ``cv2.getGaussianKernel`` return. Sobel, Scharr and GaussianBlur have
one term; Laplacian has two (``d2/dx2`` and ``d2/dy2``), summed; SobelMagnitude has two (``d/dx``
and ``d/dy``), combined as ``sqrt(gx**2 + gy**2)``. ``Filter2D`` holds one weight, ``kernel`` of
shape ``(kh, kw)``. ``scale`` and ``delta`` are configuration, applied after the correlation:
``out = scale * correlate(x) + delta`` as in OpenCV.

Output dtypes
-------------
Every layer takes ``output_dtype=`` (see :mod:`fixedfilters.layers.base`): ``None`` keeps the
float result; ``"uint8"``, ``"int16"``, ``"uint16"`` return OpenCV's integer result for the
matching ``ddepth`` (``saturate_cast``: round half to even, clamp), ``"float32"``/``"float64"``
its float result. Which combinations exist is OpenCV's own table (checked against ``cv2`` 5.1),
``_output_dtypes`` below. Integer outputs carry no gradient.
"""

from __future__ import annotations

import functools

import numpy as np
from keras import ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.exact import (
    FILTER2D_DFT_MIN_TAPS,
    deriv_is_exact_in_float,
    deriv_opencv_compiled,
    filter2d_f32,
    fma_f32,
    gaussian_blur_f32,
    laplacian_ipp,
    laplacian_opencv_compiled,
    laplacian_uses_ipp,
    saturate_cast,
)
from fixedfilters.layers.base import SAME_DEPTH, FixedFilter, check_real, follow_taps, taps_equal
from fixedfilters.ops import correlate2d, sep_filter, xla_jit
from fixedfilters.structuring import check_anchor

_ALL_OUT = ("uint8", "int16", "uint16", "float32", "float64")
# cv2.Sobel / cv2.Scharr / cv2.Laplacian(ksize >= 5): input depth -> accepted ddepth
_DERIV_OUT = {
    "uint8": _ALL_OUT,
    "uint16": _ALL_OUT,
    "int16": _ALL_OUT,
    "float32": _ALL_OUT,
    "float64": ("uint8", "int16", "uint16", "float64"),
}
# cv2.filter2D (and cv2.Laplacian with ksize 1 or 3, which calls it)
_FILTER2D_OUT = {
    "uint8": _ALL_OUT,
    "uint16": ("uint16", "float32", "float64"),
    "int16": ("int16", "float32", "float64"),
    "float32": ("float32",),
    "float64": ("float64",),
}

__all__ = [
    "SeparableFilter",
    "Sobel",
    "Scharr",
    "Laplacian",
    "GaussianBlur",
    "Filter2D",
    "SobelMagnitude",
]


class SeparableFilter(FixedFilter):
    """A sum (or magnitude) of separable correlations, taps in ``kernel_x``/``kernel_y``.

    Subclasses set ``self._terms`` (a list of ``(kx, ky)`` 1-D NumPy arrays, all ``kx`` of one
    length and all ``ky`` of one length) and ``self._combine`` (``"sum"`` or ``"magnitude"``).
    """

    _combine = "sum"

    def __init__(self, *, scale: float = 1.0, delta: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_real("scale", scale)
        self.delta = check_real("delta", delta)

    def _initial_taps(self) -> dict[str, np.ndarray]:
        return {
            "kernel_x": np.stack([kx for kx, _ in self._terms]),
            "kernel_y": np.stack([ky for _, ky in self._terms]),
        }

    @property
    def kernel_x(self):
        """The ``(terms, kw)`` weight of horizontal factors (after ``build``)."""
        return self._taps["kernel_x"]

    @property
    def kernel_y(self):
        """The ``(terms, kh)`` weight of vertical factors (after ``build``)."""
        return self._taps["kernel_y"]

    def _filter(self, x):
        # All terms, their combination and scale/delta in one call (one fused pass per axis on
        # the stencil path).
        return sep_filter(
            x,
            self.kernel_x,
            self.kernel_y,
            data_format=self.data_format,
            method=self._compute_path(x),
            **self._sep_options(),
        )

    def _sep_options(self) -> dict:
        """This filter's keywords for :func:`fixedfilters.ops.sep_filter` (and ``_bank``)."""
        return dict(
            combine=self._combine,
            scale=self.scale,
            delta=self.delta,
            border=self.border,
            border_value=self.border_value,
        )

    def kernel2d(self) -> np.ndarray:
        """The 2-D kernel (sum of terms) from the current weights, ``scale`` not applied.

        For ``SobelMagnitude`` (not linear) this is ``None``.
        """
        if self._combine != "sum":
            return None
        if not self.built:
            taps = self._initial_taps()
            kx, ky = taps["kernel_x"], taps["kernel_y"]
        else:
            kx, ky = (np.asarray(ops.convert_to_numpy(w)) for w in (self.kernel_x, self.kernel_y))
        return sum(np.outer(ky[t], kx[t]) for t in range(kx.shape[0]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(scale=self.scale, delta=self.delta)
        return config


@register_keras_serializable(package="fixedfilters")
class Sobel(SeparableFilter):
    """Sobel derivative of order ``(dx, dy)``, like ``cv2.Sobel``.

    OpenCV equivalent: ``cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize=ksize, scale=scale,
    delta=delta, borderType=...)`` on every (image, channel) plane. ``ksize`` is 1, 3, 5, ...,
    31, or -1 for the 3x3 Scharr kernel. Correlation (no kernel flip), border
    ``"reflect_101"`` (``cv2.BORDER_DEFAULT``) unless ``border`` says otherwise.

    Input ``(batch, height, width, channels)``; output of the same shape, float32 (float64 with
    ``dtype="float64"``).

    ``output_dtype`` is OpenCV's ``ddepth``: ``"int16"`` is ``cv2.Sobel(img, cv2.CV_16S, ...)``,
    ``"uint8"`` on a uint8 image ``ddepth=-1``; uint8, uint16, int16 and float32 inputs accept
    ``"uint8"``, ``"int16"``, ``"uint16"``, ``"float32"``, ``"float64"``; float64 inputs all but
    ``"float32"`` (as ``cv2``). On uint8, uint16 and int16 images the integer results are
    ``cv2.Sobel``'s bytes for every ``scale`` and ``delta``, border, channel count and size
    (tests/test_exact_deriv.py compares by equality). OpenCV folds ``scale`` into one float32
    tap (the smoothing one) and sums in float32 in its own order (fused multiply-adds in its
    vector body, its scalar tail rounded its own way); uint8 -> int16 with integer taps goes
    through int32 and adds ``cvRound(delta)`` (so ``delta=0.5`` adds 0); one-channel images
    with ksize 3, 5 or Scharr, a first or second derivative along one axis and a
    constant/replicate/reflect_101 border go to IPP, which saturates the raw derivative to
    int16 before ``float32(scale * D + delta)``. :func:`fixedfilters.exact.deriv_opencv`
    repeats each path (read in OpenCV's source, checked against ``cv2`` 5.1 on x86-64 with
    AVX2/FMA); which path applies follows ``dx``, ``dy``, ``ksize``, ``scale``, ``delta`` and the
    dtypes. OpenCV's arithmetic is that of its own taps: it runs while the weights hold them;
    after ``set_weights`` with other taps the integer output is the float result from the
    weights rounded half to even and saturated (decided in the graph). A float input with an
    integer output is the float result rounded half to even and saturated: OpenCV's bytes
    whenever that float result is exact (integer values, dyadic ``scale``/``delta``), else
    within 1. On JAX without ``JAX_ENABLE_X64`` the float32 fused multiply-adds are emulated
    with two roundings (a non-dyadic ``scale``/``delta`` can then differ by 1 on ties).
    Integer outputs have no gradient.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.tile(np.arange(5, dtype="float32"), (5, 1))[None, :, :, None]
    >>> ff.Sobel(dx=1, dy=0)(x)[0, 2, :, 0].numpy().tolist()
    [0.0, 8.0, 8.0, 8.0, 0.0]
    """

    def __init__(
        self,
        dx: int = 1,
        dy: int = 0,
        ksize: int = 3,
        *,
        scale: float = 1.0,
        delta: float = 0.0,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        kx, ky = kernels.sobel(dx, dy, ksize)
        super().__init__(
            scale=scale, delta=delta, border=border, border_value=border_value, **kwargs
        )
        self.dx, self.dy, self.ksize = int(dx), int(dy), int(ksize)
        self._terms = [(kx, ky)]

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        return _DERIV_OUT.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        src = standardize_dtype(x.dtype)
        channels = int(x.shape[3 if self.data_format == "channels_last" else 1])
        if src not in ("uint8", "uint16", "int16") or deriv_is_exact_in_float(
            self.dx, self.dy, self.ksize, self.scale, self.delta, src, output_dtype,
            channels, self.border,
        ):  # fmt: skip
            # the float32 result is exact and every OpenCV path rounds it the same way
            return super()._filter_exact(x, output_dtype)
        # OpenCV's own arithmetic (IPP, its int32 path or its float32 sepFilter2D with the
        # scale folded into a float32 tap) is that of its integer taps: it runs while the
        # weights hold them, else the generic result from the weights (base.follow_taps).
        return follow_taps(
            taps_equal([self.kernel_x, self.kernel_y], list(self._initial_taps().values())),
            lambda: self._deriv_opencv(x, src, output_dtype),
            lambda: super(Sobel, self)._filter_exact(x, output_dtype),
        )

    def _deriv_opencv(self, x, src: str, output_dtype: str):
        """OpenCV's arithmetic, chosen as cv2.Sobel chooses (fixedfilters.exact)."""
        return deriv_opencv_compiled(
            x,
            self.kernel_x[0],
            self.kernel_y[0],
            dx=self.dx,
            dy=self.dy,
            ksize=self.ksize,
            scale=self.scale,
            delta=self.delta,
            src_dtype=src,
            dst_dtype=output_dtype,
            **self._common,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(dx=self.dx, dy=self.dy, ksize=self.ksize)
        return config


@register_keras_serializable(package="fixedfilters")
class Scharr(Sobel):
    """First derivative with the 3x3 Scharr kernel, like ``cv2.Scharr``.

    OpenCV equivalent: ``cv2.Scharr(img, cv2.CV_32F, dx, dy, scale=scale, delta=delta,
    borderType=...)`` (the same as ``cv2.Sobel(..., ksize=-1)``). ``dx + dy`` must be 1.
    Correlation, border ``"reflect_101"`` by default; shapes as in :class:`Sobel`.

    >>> import fixedfilters as ff
    >>> ff.Scharr(dx=0, dy=1).kernel2d().tolist()
    [[-3.0, -10.0, -3.0], [0.0, 0.0, 0.0], [3.0, 10.0, 3.0]]
    """

    _fixed_args = {
        "ksize": (
            (-1,),
            "Scharr is the Sobel derivative with ksize=-1 (cv2.Scharr); use "
            "Sobel(dx, dy, ksize) for another aperture",
        ),
    }

    def __init__(
        self,
        dx: int = 1,
        dy: int = 0,
        *,
        scale: float = 1.0,
        delta: float = 0.0,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        super().__init__(
            dx,
            dy,
            -1,
            scale=scale,
            delta=delta,
            border=border,
            border_value=border_value,
            **kwargs,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("ksize")
        return config


@register_keras_serializable(package="fixedfilters")
class Laplacian(SeparableFilter):
    """Laplacian ``d2/dx2 + d2/dy2``, like ``cv2.Laplacian``.

    OpenCV equivalent: ``cv2.Laplacian(img, cv2.CV_32F, ksize=ksize, scale=scale, delta=delta,
    borderType=...)``. ``ksize=1`` is the 3x3 kernel ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``;
    ksize 3..31 (odd) sums the two Sobel second derivatives of that size. Held as two
    separable terms. Correlation, border ``"reflect_101"`` by default; shapes as in
    :class:`Sobel`.

    ``output_dtype`` is OpenCV's ``ddepth``, with OpenCV's table: ksize 1 and 3 go through
    ``cv2.filter2D`` (uint8 input: any of ``"uint8"``, ``"int16"``, ``"uint16"``, ``"float32"``,
    ``"float64"``; uint16/int16 input: itself, ``"float32"``, ``"float64"``; float input: itself),
    ksize 5 and up accept all five for every input. Integer results are OpenCV's bytes for
    every ``scale`` and ``delta`` on uint8, uint16 and int16 images: ksize 1 and 3 through
    OpenCV's float32 ``filter2D`` sum (:func:`fixedfilters.exact.filter2d_f32`, the scale
    folded into the float32 kernel), except where OpenCV hands ksize 3 to IPP (one-channel
    uint8 to ``"uint8"``/``"int16"``, border constant, replicate or reflect_101: the integer
    Laplacian, then a float32 fused ``D * scale + delta``;
    :func:`fixedfilters.exact.laplacian_ipp`); ksize >= 5 as OpenCV does it
    (:func:`fixedfilters.exact.laplacian_opencv`): both second derivatives in a work depth
    (int16 for uint8 and ksize 5, else float32 with OpenCV's summation order), added there,
    then ``convertTo(scale, delta)``, a float32 fused multiply-add (while the weights hold
    OpenCV's taps; other weights: the float result from them, rounded and saturated). Float
    inputs: the float result rounded and saturated (exact when that result is). No gradient
    through integer outputs.

    >>> import fixedfilters as ff
    >>> ff.Laplacian(ksize=3).kernel2d().tolist()
    [[2.0, 0.0, 2.0], [0.0, -8.0, 0.0], [2.0, 0.0, 2.0]]
    """

    def __init__(
        self,
        ksize: int = 1,
        *,
        scale: float = 1.0,
        delta: float = 0.0,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        terms = kernels.laplacian_terms(ksize)
        super().__init__(
            scale=scale, delta=delta, border=border, border_value=border_value, **kwargs
        )
        self.ksize = int(ksize)
        self._terms = list(terms)

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        table = _FILTER2D_OUT if self.ksize <= 3 else _DERIV_OUT
        if self.ksize > 3 and input_dtype == "float64":
            return _ALL_OUT
        return table.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        channels = int(x.shape[3 if self.data_format == "channels_last" else 1])
        src = standardize_dtype(x.dtype)
        if laplacian_uses_ipp(self.ksize, channels, src, output_dtype, self.border):
            # OpenCV hands this call to IPP: integer Laplacian, then fma(D, scale, delta)
            terms = [(self.kernel_x[t], self.kernel_y[t]) for t in range(2)]
            return laplacian_ipp(
                x, terms, scale=self.scale, delta=self.delta, dst_dtype=output_dtype,
                **self._common,
            )  # fmt: skip
        if self.ksize <= 3:
            # OpenCV: filter2D with the 3x3 float32 kernel * scale (float32), delta.
            k2 = None
            for t in range(int(self.kernel_x.shape[0])):
                term = ops.outer(self.kernel_y[t], self.kernel_x[t])
                k2 = term if k2 is None else k2 + term
            k2 = fma_f32(k2, self.scale, 0.0)
            v = filter2d_f32(x, k2, anchor=(1, 1), delta=self.delta, **self._common)
            return saturate_cast(v, output_dtype)
        src = standardize_dtype(x.dtype)
        if src in ("uint8", "uint16", "int16"):
            # OpenCV: d2x + d2y in a work depth (int16 for uint8 and ksize 5: its integer
            # taps), then convertTo(ddepth, scale, delta); while the weights hold those taps,
            # else the generic result from the weights (base.follow_taps)
            return follow_taps(
                taps_equal([self.kernel_x, self.kernel_y], list(self._initial_taps().values())),
                lambda: laplacian_opencv_compiled(
                    x,
                    self.kernel_x,
                    self.kernel_y,
                    ksize=self.ksize,
                    scale=self.scale,
                    delta=self.delta,
                    src_dtype=src,
                    dst_dtype=output_dtype,
                    **self._common,
                ),
                lambda: FixedFilter._filter_exact(self, x, output_dtype),
            )
        # float input: the exact float result, then convertTo's float32 fma
        work = self._float_dtype_for(x)
        options = dict(self._sep_options(), scale=1.0, delta=0.0)
        xf = ops.cast(x, work)
        raw = sep_filter(
            xf,
            self.kernel_x,
            self.kernel_y,
            data_format=self.data_format,
            method=self._compute_path(xf),
            **options,
        )
        return saturate_cast(fma_f32(raw, self.scale, self.delta), output_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(ksize=self.ksize)
        return config


@register_keras_serializable(package="fixedfilters")
class GaussianBlur(SeparableFilter):
    """Gaussian blur, like ``cv2.GaussianBlur``.

    OpenCV equivalent: ``cv2.GaussianBlur(img, ksize, sigmaX=sigma_x, sigmaY=sigma_y,
    borderType=...)`` on float32 planes. ``ksize`` is an odd int (square) or an OpenCV-ordered
    ``(width, height)`` pair; 0 (or ``(0, 0)``, or 0 in one entry) derives that size from the
    sigma as OpenCV does for float images (``round(sigma * 8 + 1) | 1``). ``sigma_y=0`` means
    ``sigma_y = sigma_x``; a sigma <= 0 derives it from the size (OpenCV's fixed tables for sizes
    up to 7). Correlation, border ``"reflect_101"`` by default; shapes as in :class:`Sobel`.

    ``output_dtype`` is the output depth of ``cv2.GaussianBlur``, which is always the input's:
    ``"uint8"`` on uint8 input, ``"uint16"`` on uint16, ``"int16"`` on int16, ``"float32"``,
    ``"float64"``. ``output_dtype="uint8"`` returns ``cv2.GaussianBlur(img_uint8, ...)``'s bytes:
    OpenCV's bit-exact fixed-point path (taps quantized with its error-diffusion rule, fixed-point
    row and column passes, one rounding; :mod:`fixedfilters.fixedpoint`), which OpenCV 5.1 takes
    for every uint8 and uint16 image; ``"uint16"`` on uint16 likewise. ``"int16"`` on int16 is
    OpenCV's float32 ``sepFilter2D`` repeated operation for operation (its summation order and
    fused multiply-adds, :func:`fixedfilters.exact.gaussian_blur_f32`; a plain float32 blur
    differs by 1 on about 1 value in 1,000), rounded half to even and saturated; it reads the
    layer's weights. The fixed-point path runs while the weights hold the Gaussian taps the
    layer was built with; after ``set_weights`` with other taps the output is the float result
    from the weights, rounded half to even and saturated (decided in the graph). With
    ``output_dtype="uint8"`` a 0 entry of ``ksize`` uses OpenCV's 8-bit size rule
    ``round(sigma * 6 + 1) | 1``. Integer outputs have no gradient.

    >>> import fixedfilters as ff
    >>> ff.GaussianBlur(3).kernel2d().tolist()
    [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]
    """

    _refused_args = {
        "scale": "cv2.GaussianBlur has no scale (its taps sum to 1; scale the output instead)",
        "delta": "cv2.GaussianBlur has no delta (add to the output instead)",
    }

    def __init__(
        self,
        ksize: int | tuple[int, int] = 3,
        sigma_x: float = 0.0,
        sigma_y: float = 0.0,
        *,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        if isinstance(ksize, list) or (isinstance(ksize, np.ndarray) and ksize.ndim == 1):
            ksize = tuple(ksize)
        size = _uint8_gaussian_size(ksize, sigma_x, sigma_y, kwargs.get("output_dtype"))
        kx, ky = kernels.gaussian_blur_kernels(size, sigma_x, sigma_y)
        super().__init__(border=border, border_value=border_value, **kwargs)
        self.ksize = ksize if isinstance(ksize, tuple) else int(ksize)
        if isinstance(self.ksize, tuple):
            self.ksize = (int(self.ksize[0]), int(self.ksize[1]))
        self.sigma_x = float(sigma_x)
        self.sigma_y = float(sigma_y)
        self._terms = [(kx, ky)]
        self._resolved_ksize = (len(kx), len(ky))

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        return SAME_DEPTH.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        if output_dtype in ("uint8", "uint16"):
            from fixedfilters import fixedpoint

            if fixedpoint.uses_fixed_point(
                self._resolved_ksize, self.sigma_x, self.sigma_y, output_dtype
            ):
                # The taps come from the weights; `reference` (OpenCV's float64 taps for this
                # configuration) lets unchanged float32 weights quantize exactly as OpenCV's
                # double-precision error diffusion does.
                reference = fixedpoint.integer_gaussian_kernels(
                    self._resolved_ksize, self.sigma_x, self.sigma_y, output_dtype
                )
                # OpenCV's fixed point is the result of its Gaussian taps: it runs while the
                # weights hold them, else the generic result from the weights (the float path
                # rounded half to even and saturated), decided in the graph.
                taps = self._initial_taps()
                return follow_taps(
                    taps_equal(
                        [self.kernel_x, self.kernel_y], [taps["kernel_x"], taps["kernel_y"]]
                    ),
                    lambda: fixedpoint.gaussian_blur_fixed(
                        x,
                        self.kernel_x[0],
                        self.kernel_y[0],
                        depth=output_dtype,
                        border=self.border,
                        border_value=self.border_value,
                        data_format=self.data_format,
                        reference=reference,
                    ),
                    lambda: super(GaussianBlur, self)._filter_exact(x, output_dtype),
                )
        src = standardize_dtype(x.dtype)
        if src == "int16":
            # OpenCV's float32 sepFilter2D, operation for operation (its symmetric-kernel row
            # sums), then saturate_cast: while the weights hold the Gaussian taps; other weights
            # give the float result from them, rounded and saturated (decided in the graph)
            taps = self._initial_taps()
            return follow_taps(
                taps_equal([self.kernel_x, self.kernel_y], [taps["kernel_x"], taps["kernel_y"]]),
                lambda: saturate_cast(
                    gaussian_blur_f32(
                        x, self.kernel_x[0], self.kernel_y[0], src_dtype=src, **self._common
                    ),
                    output_dtype,
                ),
                lambda: super(GaussianBlur, self)._filter_exact(x, output_dtype),
            )
        return super()._filter_exact(x, output_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("scale", "delta"):
            config.pop(key)
        config.update(
            ksize=list(self.ksize) if isinstance(self.ksize, tuple) else self.ksize,
            sigma_x=self.sigma_x,
            sigma_y=self.sigma_y,
        )
        return config


@register_keras_serializable(package="fixedfilters")
class SobelMagnitude(SeparableFilter):
    """Gradient magnitude ``sqrt(gx**2 + gy**2)`` of the first-order Sobel derivatives.

    OpenCV equivalent: ``cv2.magnitude(cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=ksize),
    cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=ksize))`` with the same ``borderType``. ``ksize`` as
    in :class:`Sobel` (-1 for Scharr). Correlation, border ``"reflect_101"`` by default; shapes
    as in :class:`Sobel`. With ``ksize=1`` the 1-tap factor (``[1]``) is held as ``[0, 1, 0]``
    so both terms share one shape (a zero tap reads a border pixel that does not count).

    ``output_dtype``: ``"float32"`` or ``"float64"`` (``cv2.magnitude`` is float-only; float64
    input: ``"float64"``).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.tile(np.arange(4, dtype="float32"), (3, 1))[None, :, :, None]
    >>> ff.SobelMagnitude(ksize=1)(x)[0, 1, :, 0].numpy().tolist()
    [0.0, 2.0, 2.0, 0.0]
    """

    _combine = "magnitude"
    _refused_args = {
        "scale": "cv2.magnitude has no scale (scale the output instead)",
        "delta": "cv2.magnitude has no delta (add to the output instead)",
    }

    def __init__(
        self,
        ksize: int = 3,
        *,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        gx = kernels.sobel(1, 0, ksize)
        gy = kernels.sobel(0, 1, ksize)
        super().__init__(border=border, border_value=border_value, **kwargs)
        self.ksize = int(ksize)
        # ksize=1: d/dx is ([-1, 0, 1], [1]) and d/dy ([1], [-1, 0, 1]); embed the 1-tap
        # factors as [0, 1, 0] so the two terms stack into (2, 3) weights.
        n = max(len(gx[0]), len(gx[1]), len(gy[0]), len(gy[1]))
        self._terms = [tuple(_embed(k, n) for k in term) for term in (gx, gy)]

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        if input_dtype == "float64":
            return ("float64",)
        return ("float32", "float64") if input_dtype in _DERIV_OUT else ()

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("scale", "delta"):
            config.pop(key)
        config.update(ksize=self.ksize)
        return config


def _embed(taps: np.ndarray, n: int) -> np.ndarray:
    """``taps`` centred in ``n`` taps with zeros around (same correlation, same anchor)."""
    pad = (n - len(taps)) // 2
    return np.pad(np.asarray(taps, np.float64), (pad, n - len(taps) - pad))


def _uint8_gaussian_size(ksize, sigma_x, sigma_y, output_dtype):
    """``ksize`` with 0 entries resolved by OpenCV's 8-bit rule when the output is uint8."""
    if output_dtype is None or np.dtype(output_dtype) != np.uint8:
        return ksize
    width, height = kernels._check_ksize_pair("ksize", ksize)
    sx = kernels._check_finite("sigma_x", sigma_x)
    sy = kernels._check_finite("sigma_y", sigma_y)
    sy = sy if sy > 0 else sx
    if width == 0 and sx > 0:
        width = kernels.gaussian_ksize(sx, uint8=True)
    if height == 0 and sy > 0:
        height = kernels.gaussian_ksize(sy, uint8=True)
    return (width, height)


@register_keras_serializable(package="fixedfilters")
class Filter2D(FixedFilter):
    """Correlation with any 2-D kernel, like ``cv2.filter2D``.

    OpenCV equivalent: ``cv2.filter2D(img, cv2.CV_32F, kernel, anchor=anchor, delta=delta,
    borderType=...)``. Correlation (the kernel is not flipped), ``anchor`` is ``(x, y)`` in the
    kernel (default: the centre ``(kw // 2, kh // 2)``, even sizes included; -1 in an entry means
    the centre of that axis, as in OpenCV). Border
    ``"reflect_101"`` by default. The kernel is held as the weight ``kernel`` ``(kh, kw)``.
    Shapes as in :class:`Sobel`.

    ``output_dtype`` is OpenCV's ``ddepth`` with ``cv2.filter2D``'s table: uint8 input accepts
    ``"uint8"``, ``"int16"``, ``"uint16"``, ``"float32"``, ``"float64"``; uint16 and int16 input
    themselves, ``"float32"`` and ``"float64"``; float input only itself. Integer results are
    OpenCV's bytes: OpenCV sums ``delta + k[i, j] * x`` in float32, taps in row-major order,
    fused multiply-adds in its SIMD body and separate roundings in each row's scalar tail, then
    rounds half to even and saturates; :func:`fixedfilters.exact.filter2d_f32` repeats exactly
    that, so even taps like ``1/9`` match (with integer or dyadic taps every order is exact).

    Not OpenCV's bytes: **uint8 input with 50 taps or more** (``kh * kw >= 50``:
    :data:`fixedfilters.exact.FILTER2D_DFT_MIN_TAPS`; 7x8, 1x50, 9x9 and up). There
    ``cv2.filter2D`` (5.1, x86-64) correlates in the Fourier domain, which is not reproduced;
    the layer rounds and saturates its own float32 direct correlation (fast: the float path).
    Measured against ``cv2`` on skimage's astronaut, camera and coffee and a random
    256x256x3 image (``tests/test_gabor.py`` checks the bound): never more than 1 apart; the
    share of values that differ was 0 for Gabor 9x9 to uint8/int16 (0.006% to uint16),
    up to 0.003% (uint8) / 0.014% (int16, uint16) for Gabor 13x13, 0.004% / 0.056% for
    21x21, 0.005% / 0.18% for 31x31, and at most 0.0006% for random kernels from 7x8 to
    25x25. uint16 and int16 inputs keep OpenCV's direct sum at every size (exact). Also not
    reproduced: a CPU without FMA (OpenCV then rounds each product; a pixel within a float32
    rounding of a .5 tie can differ by 1). Integer outputs have no gradient.

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    >>> ff.Filter2D([[0, 0], [0, 1]], anchor=(0, 0))(x)[0, :, :, 0].numpy().tolist()
    [[4.0, 5.0, 4.0], [7.0, 8.0, 7.0], [4.0, 5.0, 4.0]]
    """

    def __init__(
        self,
        kernel,
        *,
        anchor: tuple[int, int] | None = None,
        delta: float = 0.0,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        k = kernels._check_kernel2d(kernel)
        super().__init__(border=border, border_value=border_value, **kwargs)
        self._kernel_init = k
        self.anchor = check_anchor(anchor, k.shape)
        self.delta = check_real("delta", delta)

    def _initial_taps(self) -> dict[str, np.ndarray]:
        return {"kernel": self._kernel_init}

    @property
    def kernel(self):
        """The ``(kh, kw)`` kernel weight (after ``build``)."""
        return self._taps["kernel"]

    def kernel2d(self) -> np.ndarray:
        """The 2-D kernel from the current weights."""
        if not self.built:
            return self._kernel_init.copy()
        return np.asarray(ops.convert_to_numpy(self.kernel), dtype=np.float64)

    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        return _FILTER2D_OUT.get(input_dtype, ())

    def _filter_exact(self, x, output_dtype: str):
        kh, kw = (int(n) for n in self.kernel.shape)
        if standardize_dtype(x.dtype) == "uint8" and kh * kw >= FILTER2D_DFT_MIN_TAPS:
            # OpenCV correlates in the Fourier domain here: not reproduced. The float32 direct
            # correlation, rounded and saturated (fast; within 1 of OpenCV, see the docstring)
            v = self._filter(ops.cast(x, "float32"))
            return saturate_cast(v, output_dtype)
        v = filter2d_f32(x, self.kernel, anchor=self.anchor, delta=self.delta, **self._common)
        return saturate_cast(v, output_dtype)

    def _filter(self, x):
        kernel = ops.cast(self.kernel, x.dtype)
        method = self._compute_path(x)  # from the build shape (FixedFilter._compute_path)
        if method == "stencil" and _merged_direct_applies(x, kernel, self.data_format):
            out = merged_direct_2d(x, kernel, anchor=self.anchor, **self._common)
        else:
            out = correlate2d(x, kernel, anchor=self.anchor, method=method, **self._common)
        if self.delta != 0.0:
            out = out + ops.cast(self.delta, out.dtype)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(kernel=self.kernel2d().tolist(), anchor=list(self.anchor), delta=self.delta)
        return config


# -- Filter2D's float path: a direct 2-D pass in a merged (N, H, W * C) layout ------------------
def _merged_direct_applies(x, kernel, data_format: str) -> bool:
    """Whether :func:`merged_direct_2d` takes ``x``: TensorFlow or JAX, static height, width
    and channels, at most ``CORRELATE2D_STENCIL_MAX_TAPS`` taps."""
    import keras

    from fixedfilters.ops import CORRELATE2D_STENCIL_MAX_TAPS, spatial_axes

    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    if keras.backend.backend() not in ("tensorflow", "jax") or len(x.shape) != 4:
        return False
    h_axis, w_axis = spatial_axes(data_format)
    c_axis = 3 if data_format == "channels_last" else 1
    dims = (x.shape[h_axis], x.shape[w_axis], x.shape[c_axis])
    return None not in dims and kh * kw <= CORRELATE2D_STENCIL_MAX_TAPS


def _barrier(backend: str):
    """XLA's optimization barrier (identity, gradient included) for ``backend``.

    It keeps the width-padded copy one buffer: without it XLA's simplifier splits the
    concatenate under each of the ``kw`` column slices into partial copies (measured 3.1x
    slower for Gabor 7x7 at 8x512x512x3).
    """
    if backend == "jax":
        import jax

        return jax.lax.optimization_barrier
    import tensorflow as tf
    from tensorflow.compiler.tf2xla.python import xla

    @tf.custom_gradient
    def barrier(t):
        return xla.optimization_barrier(t)[0], lambda dy: dy

    return barrier


def _merged_direct(x, kernel, spec):
    import keras

    from fixedfilters.borders import border_index, constant_mask
    from fixedfilters.ops import _split

    border, value, (ax, ay), data_format = spec
    shape = tuple(x.shape)
    # channels innermost and merged with the width: (N, H, W * C), a free reshape; channels-
    # first input is (B * C, H, W) planes
    if data_format == "channels_last":
        h, w, c = int(shape[1]), int(shape[2]), int(shape[3])
    else:
        h, w, c = int(shape[2]), int(shape[3]), 1
    z = ops.reshape(x, (-1, h, w * c))
    k = ops.cast(kernel, x.dtype)
    kh, kw = int(k.shape[0]), int(k.shape[1])
    if kw > 1:
        # the width border: [left | z | right] columns (every channel of a column) gathered
        # through the index map, materialized once (the barrier) so that each row of taps
        # reads contiguous, vectorizable slices of one buffer
        after = kw - 1 - ax
        idx = border_index(w, ax, after, border)
        cols = (idx[:, None] * c + np.arange(c)[None, :]).reshape(-1).astype("int32")
        inside = np.repeat(constant_mask(w, ax, after), c)
        parts = []
        for lo, hi in ((0, ax * c), ((ax + w) * c, (ax + w + after) * c)):
            if hi > lo:
                strip = ops.take(z, cols[lo:hi], axis=2)
                if border == "constant":
                    strip = ops.where(inside[lo:hi], strip, ops.cast(value, strip.dtype))
                parts.append(strip)
            if lo == 0:
                parts.append(z)
        z = _barrier(keras.backend.backend())(ops.concatenate(parts, axis=2))

    def valid(piece):
        m = int(piece.shape[1]) - kh + 1
        acc = None
        for i in range(kh):
            for j in range(kw):
                term = piece[:, i : i + m, j * c : j * c + w * c] * k[i, j]
                acc = term if acc is None else acc + term
        return acc

    # the height border: top and bottom rows from thin strips through the index map,
    # concatenated around the interior rows (a non-minor axis: fused into the one pass)
    out = _split(z, 1, kh, ay, border, value, valid)
    return ops.reshape(out, (-1,) + shape[1:])


@functools.cache
def _compiled_merged(backend: str, spec: tuple):
    """:func:`_merged_direct` for ``spec``, compiled once (traced again per input shape)."""
    return xla_jit(functools.partial(_merged_direct, spec=spec), backend)


def merged_direct_2d(
    x,
    kernel,
    *,
    anchor: tuple[int, int],
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str = "channels_last",
):
    """``cv2.filter2D(plane, cv2.CV_32F, kernel, anchor=anchor, borderType=...)`` on every
    plane, as one XLA-compiled direct 2-D pass (TensorFlow or JAX, static shapes).

    Each output value is the sum of ``kh * kw`` shifted slices times a tap (correlation, no
    flip), computed in a ``(N, H, W * C)`` view of the batch: the channels merge with the
    width, so a shift by one column is a shift by ``C`` on the innermost axis and the loop
    vectorizes over ``W * C`` values (in ``(N, H, W, C)`` it ran over ``C = 3`` or ``1``).
    The width border is one padded copy (``(W + kw - 1) * C`` values a row), the height border
    thin strips concatenated around the interior rows; no other intermediate. Measured at
    8x512x512x3 float32, Gabor 7x7, on 2 busy cores (median of 7, one process): 1.85x
    ``cv2.filter2D`` against 10.7x for the ``(N, H, W, C)`` pass (``ops.correlate2d``), and
    1.56x for the 49-tap pass alone on a ready padded copy. Also measured and dropped: the
    height padded too (one slice-sum over a fully padded copy, 2.3x), on that layout a
    point-symmetric kernel with paired taps ``(x[p + d] + x[p - d]) * k[d]`` (3.6x: the extra
    adds cost more than the saved products, since XLA fuses each product and its add into one
    FMA), and row partial sums then column shifts (4.7x).
    """
    import keras

    from fixedfilters.borders import normalize_border

    border = normalize_border(border)
    spec = (border, float(border_value), (int(anchor[0]), int(anchor[1])), data_format)
    backend = keras.backend.backend()
    return _compiled_merged(backend, spec)(x, ops.cast(kernel, x.dtype))
