"""The options of ``fixedfilters apply``: every layer keyword's command-line form, once.

:data:`OPTIONS` maps a layer keyword to its :class:`Option` (flag ``--sigma-x`` for the keyword
``sigma_x``), with the parsers of option values (``7x5`` sizes, ``X,Y`` anchors, kernel files).
The filter table (:mod:`fixedfilters.cli.filters`), the parser, ``list`` and ``apply --help``
all read them from here. Nothing here imports Keras or TensorFlow.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fixedfilters.cli._common import UsageError

__all__ = [
    "BORDER_NAMES",
    "OPTIONS",
    "REQUIRED",
    "Option",
    "flag",
    "load_kernel",
    "parse_anchor",
    "parse_ksize",
    "parse_size",
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
    if kernel.dtype.kind not in "biuf":  # complex, strings, objects: not a kernel
        raise UsageError(
            f"--kernel {path}: must hold real numbers. Received: an array of dtype {kernel.dtype}"
        )
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
