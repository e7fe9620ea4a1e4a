"""Fixed filter layers (one module per family; all non-trainable by design)."""

from fixedfilters.layers.bank import FilterBank, edge_stem
from fixedfilters.layers.base import FixedFilter, FixedLayer
from fixedfilters.layers.box import Blur, BoxFilter, box_uint8
from fixedfilters.layers.canny import Canny
from fixedfilters.layers.convert import ConvertScaleAbs, convert_scale_abs
from fixedfilters.layers.filters import (
    Filter2D,
    GaussianBlur,
    Laplacian,
    Scharr,
    SeparableFilter,
    Sobel,
    SobelMagnitude,
)
from fixedfilters.layers.gabor import Gabor, gabor_bank
from fixedfilters.layers.median import MedianBlur
from fixedfilters.layers.morphology import Dilate, Erode, MorphologyEx
from fixedfilters.layers.pyramid import PyrDown, PyrUp, pyrdown_uint8, pyrup_uint8

__all__ = [
    "FixedLayer",
    "FixedFilter",
    "SeparableFilter",
    "Sobel",
    "Scharr",
    "Laplacian",
    "GaussianBlur",
    "Filter2D",
    "SobelMagnitude",
    "ConvertScaleAbs",
    "convert_scale_abs",
    "FilterBank",
    "edge_stem",
    "Erode",
    "Dilate",
    "MorphologyEx",
    "Canny",
    "MedianBlur",
    "BoxFilter",
    "Blur",
    "box_uint8",
    "Gabor",
    "gabor_bank",
    "PyrDown",
    "PyrUp",
    "pyrdown_uint8",
    "pyrup_uint8",
]
