"""Functional filtering ops on tensors, written against ``keras.ops`` (any Keras backend).

Everything here is *correlation* (no kernel flip), like ``cv2.filter2D``, ``cv2.sepFilter2D``,
``cv2.Sobel`` and ``cv2.GaussianBlur``. Each spatial axis is padded with a border built from an
index map (see :mod:`fixedfilters.borders`), so any image size works (1x1 included), then
correlated with a ``valid`` depthwise convolution (one plane per channel, as OpenCV filters each
channel on its own). Separable kernels run as two 1-D passes.

The taps may be tensors (a layer passes its weights), so what the weights say is what runs.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from fixedfilters.borders import border_index, normalize_border

__all__ = [
    "pad_axis",
    "sep_correlate",
    "correlate2d",
    "spatial_axes",
]


def spatial_axes(data_format: str, ndim: int = 4) -> tuple[int, int]:
    """(height axis, width axis) of an ``ndim``-rank image batch in ``data_format``."""
    if data_format == "channels_last":
        return ndim - 3, ndim - 2
    return ndim - 2, ndim - 1


def _axis_len(x, axis: int):
    n = x.shape[axis]
    return int(n) if n is not None else ops.shape(x)[axis]


def _index_map(n, before: int, after: int, border: str):
    """Index map for an axis of (static int or dynamic tensor) length ``n``."""
    if isinstance(n, (int, np.integer)):
        return border_index(int(n), before, after, border)
    # Dynamic length (a graph traced with unknown height/width): same formulas in-graph.
    n = ops.cast(n, "int32")
    i = ops.arange(-before, n + after, dtype="int32")
    if border == "wrap":
        return ops.mod(i, n)
    if border in ("replicate", "constant"):
        return ops.clip(i, 0, n - 1)
    if border == "reflect":
        j = ops.mod(i, 2 * n)
        return ops.where(j >= n, 2 * n - 1 - j, j)
    period = ops.maximum(2 * n - 2, 1)
    j = ops.mod(i, period)
    j = ops.where(j >= n, period - j, j)
    return ops.where(n == 1, ops.zeros_like(j), j)


def pad_axis(x, axis: int, before: int, after: int, border: str, border_value: float = 0.0):
    """Pad one axis of ``x`` with ``border`` (``before``/``after`` elements on each side)."""
    if before == 0 and after == 0:
        return x
    if border == "constant":
        widths = [(0, 0)] * len(x.shape)
        widths[axis] = (before, after)
        return ops.pad(x, widths, mode="constant", constant_values=border_value)
    idx = _index_map(_axis_len(x, axis), before, after, border)
    return ops.take(x, idx, axis=axis)


def _depthwise_kernel(taps, channels: int, shape: tuple[int, int], data_format: str):
    """Tile 2-D ``taps`` (reshaped to ``shape``) into a depthwise kernel for ``channels``."""
    k = ops.reshape(taps, (shape[0], shape[1], 1, 1))
    return ops.tile(k, (1, 1, channels, 1))


def _channels(x, data_format: str) -> int:
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if c is None:
        raise ValueError(
            "the channel dimension of the input must be known. "
            f"Received: input shape={tuple(x.shape)} with data_format={data_format!r}"
        )
    return int(c)


def _valid_pass(xp, taps, axis: str, channels: int, data_format: str):
    """Valid depthwise correlation of an already padded ``xp`` along one axis."""
    k = int(taps.shape[0])
    if k == 1:
        return xp * taps[0]
    shape = (k, 1) if axis == "height" else (1, k)
    kernel = _depthwise_kernel(taps, channels, shape, data_format)
    return ops.depthwise_conv(xp, kernel, strides=1, padding="valid", data_format=data_format)


def _pad2d(x, kh, kw, ax, ay, border, border_value, data_format):
    h_axis, w_axis = spatial_axes(data_format)
    xp = pad_axis(x, h_axis, ay, kh - 1 - ay, border, border_value)
    return pad_axis(xp, w_axis, ax, kw - 1 - ax, border, border_value)


def sep_correlate(
    x,
    kx,
    ky,
    *,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
):
    """Separable correlation with ``outer(ky, kx)``: ``ky`` down the height, ``kx`` across.

    Equivalent to ``cv2.sepFilter2D(img, -1, kx, ky, anchor=anchor, borderType=...)`` on each
    plane. Both axes are padded first, then two ``valid`` 1-D passes run, so the corners see
    exactly the 2-D border (this matters for ``"constant"`` with a non-zero ``border_value``).
    ``anchor`` is ``(x, y)``; default the centre of each kernel.
    """
    border = normalize_border(border)
    kh, kw = int(ky.shape[0]), int(kx.shape[0])
    ax, ay = (kw // 2, kh // 2) if anchor is None else anchor
    c = _channels(x, data_format)
    xp = _pad2d(x, kh, kw, ax, ay, border, border_value, data_format)
    y = _valid_pass(xp, ky, "height", c, data_format)
    return _valid_pass(y, kx, "width", c, data_format)


def correlate2d(
    x,
    kernel,
    *,
    border: str = "reflect_101",
    border_value: float = 0.0,
    anchor: tuple[int, int] | None = None,
    data_format: str = "channels_last",
):
    """Correlate every plane of ``x`` with the 2-D ``kernel`` (``cv2.filter2D`` semantics).

    ``anchor`` is ``(x, y)`` in the kernel, OpenCV's order; default the centre
    ``(kw // 2, kh // 2)``.
    """
    border = normalize_border(border)
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    ax, ay = (kw // 2, kh // 2) if anchor is None else anchor
    xp = _pad2d(x, kh, kw, ax, ay, border, border_value, data_format)
    dk = _depthwise_kernel(kernel, _channels(x, data_format), (kh, kw), data_format)
    return ops.depthwise_conv(xp, dk, strides=1, padding="valid", data_format=data_format)
