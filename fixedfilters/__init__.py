"""fixedfilters: OpenCV-exact fixed-filter layers for Keras 3.

Sobel, Scharr, Laplacian, Gaussian and any user kernel, held as non-trainable weights that never
change during training, with outputs equal to OpenCV's for the same call and border.

``import fixedfilters`` is quick: Keras and TensorFlow are imported when a layer, report or
training name is first used (``fixedfilters.Sobel``), as scikit-image does (SPEC 1: a module
``__getattr__``/``__dir__`` and an explicit ``__all__``). :mod:`fixedfilters.kernels` and
:data:`BORDERS` need only NumPy.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

from fixedfilters import kernels
from fixedfilters.borders import BORDERS

__version__ = "0.1.0"

# Every public name that needs Keras -> the module it comes from. Adding a name is one line here
# (static type checkers see it through the star imports under TYPE_CHECKING below, which follow
# each module's own __all__).
_LAZY: dict[str, str] = {
    "initializers": "fixedfilters.initializers",  # a module
    "FixedLayer": "fixedfilters.layers",
    "FixedFilter": "fixedfilters.layers",
    "Sobel": "fixedfilters.layers",
    "Scharr": "fixedfilters.layers",
    "Laplacian": "fixedfilters.layers",
    "GaussianBlur": "fixedfilters.layers",
    "Filter2D": "fixedfilters.layers",
    "SobelMagnitude": "fixedfilters.layers",
    "FilterBank": "fixedfilters.layers",
    "edge_stem": "fixedfilters.layers",
    "ConvertScaleAbs": "fixedfilters.layers",
    "convert_scale_abs": "fixedfilters.layers",
    "Erode": "fixedfilters.layers",
    "Dilate": "fixedfilters.layers",
    "MorphologyEx": "fixedfilters.layers",
    "structuring": "fixedfilters.structuring",
    "Canny": "fixedfilters.layers",
    "canny": "fixedfilters.layers.canny",
    "MedianBlur": "fixedfilters.layers",
    "BoxFilter": "fixedfilters.layers",
    "Blur": "fixedfilters.layers",
    "box_uint8": "fixedfilters.layers",
    "Gabor": "fixedfilters.layers",
    "gabor_bank": "fixedfilters.layers",
    "PyrDown": "fixedfilters.layers",
    "PyrUp": "fixedfilters.layers",
    "pyrdown_uint8": "fixedfilters.layers",
    "pyrup_uint8": "fixedfilters.layers",
    "weight_report": "fixedfilters.report",
    "summary": "fixedfilters.report",
    "WeightReport": "fixedfilters.report",
    "WeightRow": "fixedfilters.report",
    "FreezeGuard": "fixedfilters.training",
    "set_trainable": "fixedfilters.training",
    "StaleCompileError": "fixedfilters.training",
    "StaleCompileWarning": "fixedfilters.training",
    "FixedWeightChangedError": "fixedfilters.training",
    "TrainableChange": "fixedfilters.training",
    "TrainableChanges": "fixedfilters.training",
}

__all__ = ["__version__", "BORDERS", "kernels", *_LAZY]

if TYPE_CHECKING:  # static tools see every lazy name as if imported here
    from fixedfilters import initializers as initializers
    from fixedfilters.layers import *  # noqa: F403
    from fixedfilters.report import *  # noqa: F403
    from fixedfilters.training import *  # noqa: F403


def __getattr__(name: str) -> Any:
    """Import a lazy name's module on first use, then keep the name here (later: no call)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fixedfilters' has no attribute {name!r}")
    if module == f"{__name__}.{name}":
        value = importlib.import_module(module)
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# -- Keras must know the layer classes before it loads a `.keras` file --------------------------
# `import fixedfilters; keras.models.load_model("m.keras")` has to find the registered classes,
# and Keras imports only its own packages by module name. So the layer modules (which register
# themselves) are imported as soon as Keras is: right now if it already is, otherwise right after
# the first `import keras`, by a one-shot import hook. Until then nothing heavy is imported.
_REGISTERING = ("fixedfilters.layers", "fixedfilters.initializers")


def _register_with_keras() -> None:
    for module in _REGISTERING:
        importlib.import_module(module)


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``keras`` to register our layers after it."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # one shot; the real finders resolve keras
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register_with_keras()

        spec.loader.exec_module = exec_then_register
        return spec


if "keras" in sys.modules:
    _register_with_keras()
elif not any(isinstance(f, _AfterKerasImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _AfterKerasImport())
