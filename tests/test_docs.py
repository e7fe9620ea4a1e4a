"""The docstring examples of the core modules run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fixedfilters

# Every module of the package that carries docstring examples (found, not listed by hand, so a
# new module's examples run without anyone remembering to add it here).
_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(fixedfilters.__path__, "fixedfilters.")
    if not info.name.startswith("fixedfilters.cli")
)
_WITH_EXAMPLES = [
    name
    for name in _MODULES
    if any(t.examples for t in doctest.DocTestFinder().find(importlib.import_module(name)))
]


def test_the_layer_modules_have_examples():
    for name in ("fixedfilters.layers.filters", "fixedfilters.layers.canny"):
        assert name in _WITH_EXAMPLES


@pytest.mark.parametrize("name", _WITH_EXAMPLES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_layer_docstrings_name_their_opencv_equivalent():
    import fixedfilters as ff

    for layer in (
        ff.Sobel,
        ff.Scharr,
        ff.Laplacian,
        ff.GaussianBlur,
        ff.Filter2D,
        ff.SobelMagnitude,
    ):
        doc = layer.__doc__
        assert "cv2." in doc and "Correlation" in doc and "border" in doc, layer.__name__
