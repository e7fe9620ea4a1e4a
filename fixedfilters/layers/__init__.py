"""Fixed filter layers (one module per family; all non-trainable by design)."""

from fixedfilters.layers.bank import FilterBank, edge_stem
from fixedfilters.layers.base import FixedFilter, FixedLayer
from fixedfilters.layers.filters import (
    Filter2D,
    GaussianBlur,
    Laplacian,
    Scharr,
    SeparableFilter,
    Sobel,
    SobelMagnitude,
)
from fixedfilters.layers.median import MedianBlur

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
    "FilterBank",
    "edge_stem",
    "MedianBlur",
]
