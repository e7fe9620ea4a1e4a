"""The docstring examples of the core modules run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import fixedfilters.borders
import fixedfilters.layers.bank
import fixedfilters.layers.filters


@pytest.mark.parametrize(
    "module",
    [
        fixedfilters.borders,
        fixedfilters.layers.filters,
        fixedfilters.layers.bank,
    ],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module):
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
