"""The filters of ``fixedfilters apply``: one table, one entry per filter layer.

Each :class:`FilterSpec` names its layer (a name in ``fixedfilters``, imported only when the
filter runs), its options as the layer's keyword arguments with the layer's defaults (shown by
``fixedfilters list``; a test checks them against the layer's signature, following ``**kwargs``
forwarded to parent classes), the OpenCV call it matches, and how its output becomes an 8-bit
PNG. Every keyword's command-line form lives once in :mod:`fixedfilters.cli.options` (flag
``--sigma-x`` for the keyword ``sigma_x``), so the parser, ``list``, the ``apply --help`` text
and the checks of which option belongs to which filter all come from there.

Adding a filter is one :class:`FilterSpec` in :data:`FILTERS` (plus an ``Option`` for any
keyword no other filter has yet). For PNGs equal to OpenCV's bytes for ``ddepth=-1``, list in
``depths`` the integer input dtypes the layer's ``_output_dtypes`` keeps (``"uint8"``,
``"uint16"``); test each against cv2.
Set ``reach`` only for a local, single-pass, shape-keeping filter whose output pixel depends
only on inputs within that reach, with its border applied once (separable filters, Filter2D,
box, median, Gabor); never for iterated or compound morphology, Canny (hysteresis) or pyramids:
those run whole images. Nothing here imports Keras or TensorFlow.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fixedfilters.cli._common import InputError, UsageError
from fixedfilters.cli.options import (
    BORDER_NAMES,
    OPTIONS,
    REQUIRED,
    Option,
    flag,
    load_kernel,
    parse_ksize,
)

__all__ = [
    "BORDER_NAMES",
    "FILTERS",
    "OPTIONS",
    "REQUIRED",
    "FilterSpec",
    "Option",
    "filter_kwargs",
    "flag",
    "load_kernel",
    "make_layer",
]


@dataclass(frozen=True)
class FilterSpec:
    """One FILTER of ``apply``: its layer, options (with the layer's defaults) and OpenCV call.

    ``params``: ``(layer keyword, default as text)`` pairs, every keyword the layer takes (the
    default :data:`REQUIRED` for one without a default). ``picture``: how a float output becomes
    the 8-bit PNG: ``"abs"`` is ``cv2.convertScaleAbs(out)`` (derivatives), ``"round"`` is
    ``saturate(round(out))`` (blurs); a uint8 (uint16) output is written as it is, as an 8-bit
    (16-bit) PNG. ``pairs``: keywords that accept ``WIDTHxHEIGHT``. ``depths``: the input
    dtypes for which the PNG comes from the layer built with ``output_dtype`` equal to the
    input's dtype (OpenCV's ``ddepth=-1``: its own integer result, saturated). ``abs_option``:
    ``--abs`` instead writes ``cv2.convertScaleAbs`` of the float32 result. ``fits(layer,
    shape)``: raises ValueError when the layer cannot take an image of ``shape`` (height x width
    x channels; e.g. a pyramid's ``dstsize``): that input fails, named. ``reach``: for a *local*
    filter of unchanged shape (an output pixel depends only on inputs within that many pixels),
    ``reach(layer)`` lets ``apply`` run any image size through one compiled tile shape
    (:mod:`fixedfilters.cli.tiles`); ``None`` (non-local: Canny's hysteresis; shape-changing:
    pyramids) runs each image whole, with unknown height and width. ``float_input=False``: the
    layer gets images in their stored dtype (e.g. Canny takes uint8), not as float32.
    ``prepare``: turns each image as read (``height x width x channels``) into the layer's input
    or raises :class:`~fixedfilters.cli._common.InputError` (that input fails, named on stderr).
    """

    name: str
    layer: str  # a name in fixedfilters
    summary: str
    params: tuple[tuple[str, str], ...]
    opencv: str
    picture: str = "abs"
    pairs: frozenset[str] = frozenset()
    depths: tuple[str, ...] = ()
    abs_option: bool = False
    fits: Callable[[Any, tuple[int, ...]], Any] | None = None
    reach: Callable[[Any], int] | None = None
    float_input: bool = True
    prepare: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def derivative(self) -> bool:
        """True when the 8-bit PNG is ``cv2.convertScaleAbs`` of the output."""
        return self.picture == "abs"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.params)


_BORDER = (("border", "reflect_101"), ("border_value", "0.0"))


# Morphology: OpenCV's default border (constant, a value that never wins the min/max), not
# _BORDER's. The morphology of an 8-bit image in uint8 is cv2's own result (exact min/max);
# iterated and compound ops re-apply the border at each stage, so no reach (whole images).
_MORPH = (
    ("ksize", "None"),
    ("shape", "None"),
    ("kernel", "None"),
    ("anchor", "None"),
    ("iterations", "1"),
    ("border", "constant"),
    ("border_value", "None"),
)
_MORPH_SPEC: dict[str, Any] = {
    "picture": "round",
    "pairs": frozenset({"ksize"}),
    "depths": ("uint8", "uint16"),
}


# Box and blur: local, one pass, the border applied once (tiled); 8-bit images in uint8
# (cv2.boxFilter(img, -1, ...)'s own integer rounding; the layer has no uint16 output: 16-bit
# images get the float result rounded and clipped to 8 bits, with a note).
_BOX_SPEC: dict[str, Any] = {
    "picture": "round",
    "pairs": frozenset({"ksize"}),
    "depths": ("uint8",),
    "reach": lambda layer: max(np.atleast_1d(layer.ksize)),
}


def pyramid_fits(layer: Any, shape: tuple[int, ...]) -> None:
    """ValueError (naming ``dstsize`` and OpenCV's rule) when ``--dstsize`` does not fit an
    image of ``shape`` (height x width x channels)."""
    layer.compute_output_shape((1, *shape))


# Pyramids change the shape: whole images (reach None); 8- and 16-bit images in their own depth
# (OpenCV's (sum + 128) >> 8 and (sum + 32) >> 6); --dstsize checked against each image.
_PYR_SPEC: dict[str, Any] = {
    "picture": "round",
    "depths": ("uint8", "uint16"),
    "fits": pyramid_fits,
}


def canny_input(image: np.ndarray) -> np.ndarray:
    """An image as cv2.Canny takes it: 8-bit, gray or BGR. BGRA loses its alpha (as
    ``cv2.imread(path, cv2.IMREAD_COLOR)`` would read it); other depths are an InputError."""
    if image.dtype != np.uint8:
        raise InputError(
            f"canny takes 8-bit images, as cv2.Canny does; this one is {image.dtype} "
            "(convert it to 8 bits first)"
        )
    if image.shape[-1] == 4:
        return image[:, :, :3]  # BGRA -> BGR, the colour channels as cv2.IMREAD_COLOR
    if image.shape[-1] not in (1, 3):
        raise InputError(
            f"canny takes gray or BGR(A) images; this one has {image.shape[-1]} channels"
        )
    return image


def taps_reach(layer: Any) -> int:
    """A bound on the reach of a FixedFilter: the longest side of its initial taps."""
    return max(max(np.shape(taps)) for taps in layer._initial_taps().values())


FILTERS: dict[str, FilterSpec] = {
    spec.name: spec
    for spec in (
        FilterSpec(
            "sobel",
            "Sobel",
            "Sobel derivative of order (dx, dy); --ksize -1 is the 3x3 Scharr kernel",
            (("dx", "1"), ("dy", "0"), ("ksize", "3"), ("scale", "1.0"), ("delta", "0.0"))
            + _BORDER,
            "cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize=ksize, scale=scale, delta=delta, "
            "borderType=border)",
            reach=taps_reach,
        ),
        FilterSpec(
            "scharr",
            "Scharr",
            "first derivative with the 3x3 Scharr kernel (dx + dy == 1)",
            (("dx", "1"), ("dy", "0"), ("scale", "1.0"), ("delta", "0.0")) + _BORDER,
            "cv2.Scharr(img, cv2.CV_32F, dx, dy, scale=scale, delta=delta, borderType=border)",
            reach=taps_reach,
        ),
        FilterSpec(
            "laplacian",
            "Laplacian",
            "Laplacian d2/dx2 + d2/dy2 (ksize 1: the 3x3 4-neighbour kernel)",
            (("ksize", "1"), ("scale", "1.0"), ("delta", "0.0")) + _BORDER,
            "cv2.Laplacian(img, cv2.CV_32F, ksize=ksize, scale=scale, delta=delta, "
            "borderType=border)",
            reach=taps_reach,
        ),
        FilterSpec(
            "gaussian",
            "GaussianBlur",
            "Gaussian blur; --ksize N or WIDTHxHEIGHT (0: from sigma), sigma 0: from ksize",
            (("ksize", "3"), ("sigma_x", "0.0"), ("sigma_y", "0.0")) + _BORDER,
            "cv2.GaussianBlur(img, (ksize, ksize), sigma_x, sigmaY=sigma_y, borderType=border)",
            picture="round",
            pairs=frozenset({"ksize"}),
            # 8/16-bit images: cv2.GaussianBlur(img)'s own integers (OpenCV's fixed point)
            depths=("uint8", "uint16"),
            reach=taps_reach,
        ),
        FilterSpec(
            "magnitude",
            "SobelMagnitude",
            "gradient magnitude sqrt(gx**2 + gy**2) of the first Sobel derivatives",
            (("ksize", "3"),) + _BORDER,
            "cv2.magnitude(cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=ksize), "
            "cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=ksize))",
            reach=taps_reach,
        ),
        FilterSpec(
            "filter2d",
            "Filter2D",
            "correlation with any kernel (--kernel FILE, .npy or CSV; required)",
            (("kernel", REQUIRED), ("anchor", "centre"), ("delta", "0.0")) + _BORDER,
            "cv2.filter2D(img, -1, kernel, anchor=anchor, delta=delta, borderType=border) "
            "(--abs: cv2.convertScaleAbs of it with ddepth cv2.CV_32F)",
            picture="round",
            depths=("uint8", "uint16"),  # ddepth=-1: OpenCV's saturated integers
            abs_option=True,
            reach=taps_reach,
        ),
        FilterSpec(
            "canny",
            "Canny",
            "Canny edges (0/255) of an 8-bit gray or BGR image (BGRA: alpha dropped)",
            (
                ("threshold1", REQUIRED),
                ("threshold2", REQUIRED),
                ("aperture_size", "3"),
                ("l2_gradient", "False"),
            ),
            "cv2.Canny(img, threshold1, threshold2, apertureSize=aperture_size, "
            "L2gradient=l2_gradient)",
            picture="round",
            float_input=False,  # uint8 in, as cv2.Canny; non-local (hysteresis): no reach
            prepare=canny_input,
        ),
        FilterSpec(
            "erode",
            "Erode",
            "erosion (minimum over the element; --ksize None: 3x3, --shape None: rect)",
            _MORPH,
            "cv2.erode(img, element, anchor=anchor, iterations=iterations, borderType=border, "
            "borderValue=border_value); element = cv2.getStructuringElement(shape, ksize) or "
            "kernel",
            **_MORPH_SPEC,
        ),
        FilterSpec(
            "dilate",
            "Dilate",
            "dilation (maximum over the element; --ksize None: 3x3, --shape None: rect)",
            _MORPH,
            "cv2.dilate(img, element, anchor=anchor, iterations=iterations, borderType=border, "
            "borderValue=border_value); element as erode",
            **_MORPH_SPEC,
        ),
        FilterSpec(
            "morphology",
            "MorphologyEx",
            "morphology --op erode, dilate, open, close, gradient, tophat or blackhat",
            (("op", "erode"),) + _MORPH,
            "cv2.morphologyEx(img, op, element, anchor=anchor, iterations=iterations, "
            "borderType=border, borderValue=border_value); element as erode",
            **_MORPH_SPEC,
        ),
        FilterSpec(
            "median",
            "MedianBlur",
            "median of each ksize x ksize window (ksize > 5: 8-bit images only, as OpenCV)",
            (("ksize", "3"), ("border", "replicate")),
            "cv2.medianBlur(img, ksize) (border replicate, the only one it has)",
            picture="round",
            # 8/16-bit images in their own depth: cv2.medianBlur's values (a median is exact)
            depths=("uint8", "uint16"),
            reach=lambda layer: layer.ksize // 2,  # local, one pass, replicate once
            float_input=False,  # the stored dtype: ksize > 5 takes uint8 (also with --raw)
        ),
        FilterSpec(
            "box",
            "BoxFilter",
            "sum or mean over a ksize window (--ksize N or WIDTHxHEIGHT, even sizes too)",
            (("ksize", "3"), ("normalize", "True"), ("anchor", "None")) + _BORDER,
            "cv2.boxFilter(img, -1, ksize, anchor=anchor, normalize=normalize, borderType=border)",
            **_BOX_SPEC,
        ),
        FilterSpec(
            "blur",
            "Blur",
            "mean over a ksize window (--ksize N or WIDTHxHEIGHT)",
            (("ksize", "3"), ("anchor", "None")) + _BORDER,
            "cv2.blur(img, ksize, anchor=anchor, borderType=border)",
            **_BOX_SPEC,
        ),
        FilterSpec(
            "gabor",
            "Gabor",
            "correlation with cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi) "
            "(8-bit: OpenCV's bytes below 50 taps, within 1 from 50 on, where cv2 uses a DFT)",
            (
                ("ksize", REQUIRED),
                ("sigma", REQUIRED),
                ("theta", REQUIRED),
                ("lambd", REQUIRED),
                ("gamma", REQUIRED),
                ("psi", str(math.pi / 2)),
            )
            + _BORDER,
            "cv2.filter2D(img, -1, cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi), "
            "borderType=border) (--abs: cv2.convertScaleAbs of it with ddepth cv2.CV_32F)",
            picture="round",
            pairs=frozenset({"ksize"}),
            depths=("uint8", "uint16"),
            abs_option=True,
            reach=taps_reach,
        ),
        FilterSpec(
            "pyrdown",
            "PyrDown",
            "5x5 Gaussian blur, then every second row and column: half the size",
            (("dstsize", "None"), ("border", "reflect_101")),
            "cv2.pyrDown(img, dstsize=dstsize, borderType=border)",
            **_PYR_SPEC,
        ),
        FilterSpec(
            "pyrup",
            "PyrUp",
            "zeros inserted, then 4x the 5x5 Gaussian blur: twice the size",
            (("dstsize", "None"), ("border", "reflect_101")),
            "cv2.pyrUp(img, dstsize=dstsize)",
            **_PYR_SPEC,
        ),
        FilterSpec(
            "convertscaleabs",
            "ConvertScaleAbs",
            "|alpha * x + beta| rounded and saturated to 8 bits (pointwise)",
            (("alpha", "1.0"), ("beta", "0.0")),
            "cv2.convertScaleAbs(img, alpha=alpha, beta=beta)",
            picture="round",
            float_input=False,  # the stored dtype, as cv2.convertScaleAbs takes it
        ),
    )
}


# --------------------------------------------------------------------------------------------
# From parsed options to a layer
# --------------------------------------------------------------------------------------------
def filter_kwargs(spec: FilterSpec, args: argparse.Namespace) -> dict[str, Any]:
    """The layer arguments of ``spec`` given on the command line (``args``), checked and loaded.

    Raises:
        UsageError: an option that does not belong to the filter, a missing required option, a
            pair (``7x5``) where the layer takes one integer, or a failed ``load`` (e.g. kernel).
    """
    kwargs: dict[str, Any] = {}
    for key in OPTIONS:
        value = getattr(args, key, None)
        if value is None:
            continue
        if key not in spec.keys:
            own = " ".join(flag(k) for k in spec.keys)
            raise UsageError(f"{flag(key)} does not apply to {spec.name} (its options: {own})")
        if isinstance(value, tuple) and OPTIONS[key].type is parse_ksize and key not in spec.pairs:
            raise UsageError(f"{flag(key)} must be one integer for {spec.name}")
        kwargs[key] = value
    for key, default in spec.params:
        if default == REQUIRED and key not in kwargs:
            hint = f" {OPTIONS[key].metavar}" if OPTIONS[key].metavar else ""
            raise UsageError(f"{spec.name} needs {flag(key)}{hint} ({OPTIONS[key].help})")
    for key, value in list(kwargs.items()):
        load = OPTIONS[key].load
        if load is not None:
            kwargs[key] = load(value)
    return kwargs


def make_layer(
    spec: FilterSpec, kwargs: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> Any:
    """Build the layer of ``spec`` (this imports Keras); its own checks become UsageErrors."""
    import fixedfilters

    try:
        return getattr(fixedfilters, spec.layer)(**kwargs, **(extra or {}))
    except (ValueError, TypeError) as error:
        raise UsageError(f"invalid {spec.name} options: {error}") from None
