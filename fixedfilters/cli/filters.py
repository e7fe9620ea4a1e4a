"""The filters of ``fixedfilters apply``: one table, one entry per filter layer.

Each :class:`FilterSpec` names its layer (a name in ``fixedfilters``, imported only when the
filter runs), its options as the layer's keyword arguments with the layer's defaults (shown by
``fixedfilters list``; a test checks them against the layer's signature), the OpenCV call it
matches, and how its output becomes an 8-bit PNG. Every keyword's command-line form lives once in
:data:`OPTIONS` (flag ``--sigma-x`` for the keyword ``sigma_x``), so the parser, ``list``, the
``apply --help`` text and the checks of which option belongs to which filter all come from here.

Adding a filter is one :class:`FilterSpec` in :data:`FILTERS` (plus an :class:`Option` for any
keyword no other filter has yet). Nothing here imports Keras or TensorFlow.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from fixedfilters.cli._common import InputError, UsageError

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

#: Border names (the first is the default); the layers also accept OpenCV-style aliases.
BORDER_NAMES = ("reflect_101", "reflect", "replicate", "constant", "wrap")

#: The default text of an option the filter cannot run without.
REQUIRED = "(required)"


# --------------------------------------------------------------------------------------------
# Option values from text
# --------------------------------------------------------------------------------------------
def parse_ksize(text: str) -> int | tuple[int, int]:
    """``"5"`` -> 5; ``"7x5"`` or ``"7,5"`` -> ``(7, 5)`` (OpenCV order: width, height)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or WIDTHxHEIGHT, got {text!r}"
        ) from None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise argparse.ArgumentTypeError(f"expected an integer or WIDTHxHEIGHT, got {text!r}")


def parse_size(text: str) -> tuple[int, int]:
    """``"7x5"`` or ``"7,5"`` -> ``(7, 5)``: a size in OpenCV's order (width, height)."""
    value = parse_ksize(text)
    if not isinstance(value, tuple):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}")
    return value


def parse_anchor(text: str) -> tuple[int, int]:
    """``"X,Y"`` -> ``(x, y)``, the anchor inside the kernel (``-1,-1``: the centre)."""
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two integers), got {text!r}") from None


def load_kernel(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a 2-D kernel from ``.npy`` or from text (CSV: commas, or whitespace, one row a line).

    Raises:
        UsageError: the file is missing, unreadable, or not a 2-D array of numbers.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            kernel = np.load(path, allow_pickle=False)
        else:
            text = path.read_text(encoding="utf-8-sig")
            rows = [line for line in text.splitlines() if line.strip() and line[0] != "#"]
            delimiter = "," if any("," in line for line in rows) else None
            kernel = np.loadtxt(rows, delimiter=delimiter, ndmin=2, dtype=np.float64)
    except FileNotFoundError:
        raise UsageError(f"--kernel {path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise UsageError(f"--kernel {path}: not a 2-D array of numbers ({err})") from None
    if kernel.ndim == 1:
        kernel = kernel[None, :]
    return kernel


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """How one layer keyword is given on the command line (flag: ``--`` + key, ``_`` -> ``-``).

    ``type`` parses the text (argparse ``type``; ``None``: the text itself); ``switch=True`` makes
    a flag without a value that passes ``True`` (with ``negatable=True`` also ``--no-KEY``,
    passing ``False``: for a keyword whose default is ``True``); ``load`` turns the parsed value
    into the layer's argument when the filter runs (e.g. a kernel file into an array; it raises
    UsageError).
    """

    help: str
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    switch: bool = False
    negatable: bool = False
    load: Callable[[Any], Any] | None = None


#: Every layer keyword any filter takes, in the order ``apply --help`` lists them.
OPTIONS: dict[str, Option] = {
    "dx": Option("order of the x derivative", int, "N"),
    "dy": Option("order of the y derivative", int, "N"),
    "ksize": Option(
        "kernel size: N, or WIDTHxHEIGHT where the layer takes a pair", parse_ksize, "N"
    ),
    "sigma_x": Option("Gaussian sigma in x (0: from ksize)", float, "S"),
    "sigma_y": Option("Gaussian sigma in y (0: sigma_x)", float, "S"),
    "scale": Option("factor applied to the result", float, "F"),
    "delta": Option("added to the result after scale", float, "D"),
    "kernel": Option(
        "filter2d kernel or morphology structuring element (0/1), .npy or CSV",
        None,
        "FILE",
        load=load_kernel,
    ),
    "anchor": Option("anchor inside the kernel (default: centre)", parse_anchor, "X,Y"),
    "border": Option(
        f"one of {', '.join(BORDER_NAMES)} (default: the filter's, see `list`)", None, "NAME"
    ),
    "border_value": Option("fill value of --border constant", float, "V"),
    "threshold1": Option("Canny hysteresis threshold (either order)", float, "T"),
    "threshold2": Option("Canny hysteresis threshold (either order)", float, "T"),
    "aperture_size": Option("Canny's Sobel aperture: 3, 5 or 7", int, "K"),
    "l2_gradient": Option("Canny: sqrt(dx**2 + dy**2) instead of |dx| + |dy|", switch=True),
    "op": Option(
        "morphology operation: erode, dilate, open, close, gradient, tophat, blackhat",
        None,
        "OP",
    ),
    "shape": Option("structuring element: rect, cross or ellipse (default rect)", None, "NAME"),
    "iterations": Option("times the erosion/dilation is applied", int, "N"),
    "alpha": Option("convertscaleabs: factor before the absolute value", float, "A"),
    "beta": Option("convertscaleabs: added after alpha", float, "B"),
    "normalize": Option(
        "box: divide by the window area (the mean); --no-normalize: the sum",
        switch=True,
        negatable=True,
    ),
    "sigma": Option("Gabor envelope's standard deviation", float, "S"),
    "theta": Option("Gabor orientation (radians)", float, "RAD"),
    "lambd": Option("Gabor wavelength (pixels)", float, "L"),
    "gamma": Option("Gabor aspect ratio", float, "G"),
    "psi": Option("Gabor phase (radians; default pi/2, an odd kernel)", float, "RAD"),
    "dstsize": Option("pyramid output size WIDTHxHEIGHT (OpenCV's rules)", parse_size, "WxH"),
}


def flag(key: str) -> str:
    """The command-line flag of a layer keyword: ``sigma_x`` -> ``--sigma-x``."""
    return "--" + key.replace("_", "-")


@dataclass(frozen=True)
class FilterSpec:
    """One FILTER of ``apply``: its layer, options (with the layer's defaults) and OpenCV call.

    ``params``: ``(layer keyword, default as text)`` pairs, every keyword the layer takes (the
    default :data:`REQUIRED` for one without a default). ``picture``: how a float output becomes
    the 8-bit PNG: ``"abs"`` is ``cv2.convertScaleAbs(out)`` (derivatives), ``"round"`` is
    ``saturate(round(out))`` (blurs); a uint8 output is written as it is. ``pairs``: keywords
    that accept ``WIDTHxHEIGHT``. ``uint8_kwargs``: extra layer arguments for 8-bit inputs
    written as PNG (so the layer returns OpenCV's own 8-bit result). ``reach``: for a *local*
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
    uint8_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
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
    "uint8_kwargs": MappingProxyType({"output_dtype": "uint8"}),
}


# Box and blur: local, one pass, the border applied once (tiled); 8-bit images in uint8
# (cv2.boxFilter(img, -1, ...)'s own integer rounding).
_BOX_SPEC: dict[str, Any] = {
    "picture": "round",
    "pairs": frozenset({"ksize"}),
    "uint8_kwargs": MappingProxyType({"output_dtype": "uint8"}),
    "reach": lambda layer: max(np.atleast_1d(layer.ksize)),
}
# Pyramids change the shape: whole images (reach None); 8-bit images in uint8 (OpenCV's
# (sum + 128) >> 8 and (sum + 32) >> 6).
_PYR_SPEC: dict[str, Any] = {
    "picture": "round",
    "uint8_kwargs": MappingProxyType({"output_dtype": "uint8"}),
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
            # 8-bit images: cv2.GaussianBlur(img_uint8)'s own bytes (OpenCV's fixed point)
            uint8_kwargs=MappingProxyType({"output_dtype": "uint8"}),
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
            "cv2.filter2D(img, cv2.CV_32F, kernel, anchor=anchor, delta=delta, borderType=border)",
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
            (("ksize", "3"), ("border", "replicate"), ("border_value", "0.0")),
            "cv2.medianBlur(img, ksize) (border replicate, the only one it has)",
            picture="round",
            # 8-bit images: computed in uint8, cv2.medianBlur's own bytes (a median is exact)
            uint8_kwargs=MappingProxyType({"output_dtype": "uint8"}),
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
            "correlation with cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi)",
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
            "borderType=border)",
            picture="round",
            pairs=frozenset({"ksize"}),
            uint8_kwargs=MappingProxyType({"output_dtype": "uint8"}),
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
