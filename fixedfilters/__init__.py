"""fixedfilters: OpenCV-exact fixed-filter layers for Keras 3.

Sobel, Scharr, Laplacian, Gaussian and any user kernel, held as non-trainable weights that never
change during training, with outputs equal to OpenCV's for the same call and border.
"""

from fixedfilters import initializers, kernels
from fixedfilters.borders import BORDERS
from fixedfilters.layers import (
    Blur,
    BoxFilter,
    Filter2D,
    FilterBank,
    FixedFilter,
    FixedLayer,
    Gabor,
    GaussianBlur,
    Laplacian,
    PyrDown,
    PyrUp,
    Scharr,
    Sobel,
    SobelMagnitude,
    box_uint8,
    edge_stem,
    gabor_bank,
    pyrdown_uint8,
    pyrup_uint8,
)
from fixedfilters.report import WeightReport, WeightRow, summary, weight_report
from fixedfilters.training import (
    FixedWeightChangedError,
    FreezeGuard,
    StaleCompileError,
    StaleCompileWarning,
    TrainableChange,
    TrainableChanges,
    set_trainable,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "BORDERS",
    "kernels",
    "initializers",
    "FixedLayer",
    "FixedFilter",
    "Sobel",
    "Scharr",
    "Laplacian",
    "GaussianBlur",
    "Filter2D",
    "SobelMagnitude",
    "FilterBank",
    "edge_stem",
    "BoxFilter",
    "Blur",
    "box_uint8",
    "Gabor",
    "gabor_bank",
    "PyrDown",
    "PyrUp",
    "pyrdown_uint8",
    "pyrup_uint8",
    "weight_report",
    "summary",
    "WeightReport",
    "WeightRow",
    "FreezeGuard",
    "set_trainable",
    "StaleCompileError",
    "StaleCompileWarning",
    "FixedWeightChangedError",
    "TrainableChange",
    "TrainableChanges",
]
