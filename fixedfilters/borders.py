"""Border modes: names, OpenCV equivalents, and index maps that work for any image size.

A border decides what a filter sees outside the image. Every mode except ``"constant"`` is an
*index map*: the padded row ``i`` (``-before <= i < n + after``) reads source row ``map(i)``.
Building borders from index maps, rather than from ``tf.pad``/``numpy.pad`` modes, gives the same
answer as OpenCV's ``cv2.borderInterpolate`` for every size, including images smaller than the
kernel (a 1x1 image, a 1xN strip), where a single reflection is not enough.

==================  ===============================  ======================  ================
name                OpenCV                           example (``abcd``)      numpy.pad mode
==================  ===============================  ======================  ================
``"reflect_101"``   ``cv2.BORDER_REFLECT_101``       ``dcb|abcd|cba``        ``"reflect"``
                    (= ``cv2.BORDER_DEFAULT``)
``"reflect"``       ``cv2.BORDER_REFLECT``           ``cba|abcd|dcb``        ``"symmetric"``
``"replicate"``     ``cv2.BORDER_REPLICATE``         ``aaa|abcd|ddd``        ``"edge"``
``"constant"``      ``cv2.BORDER_CONSTANT``          ``vvv|abcd|vvv``        ``"constant"``
``"wrap"``          (refused by OpenCV's filters)    ``bcd|abcd|abc``        ``"wrap"``
==================  ===============================  ======================  ================

This module imports only NumPy.
"""

from __future__ import annotations

import numpy as np

BORDERS: tuple[str, ...] = ("reflect_101", "reflect", "replicate", "constant", "wrap")
"""The border names every layer accepts, default first."""

DEFAULT_BORDER = "reflect_101"

# OpenCV's border constants, by value (cv2 itself is not imported here).
CV2_BORDER_TYPES: dict[str, int | None] = {
    "constant": 0,  # cv2.BORDER_CONSTANT
    "replicate": 1,  # cv2.BORDER_REPLICATE
    "reflect": 2,  # cv2.BORDER_REFLECT
    "wrap": None,  # cv2.BORDER_WRAP (3) exists, but OpenCV's filters refuse it
    "reflect_101": 4,  # cv2.BORDER_REFLECT_101 == cv2.BORDER_DEFAULT
}

NUMPY_PAD_MODES: dict[str, str] = {
    "reflect_101": "reflect",
    "reflect": "symmetric",
    "replicate": "edge",
    "constant": "constant",
    "wrap": "wrap",
}

_ALIASES = {
    "default": "reflect_101",
    "reflect101": "reflect_101",
    "reflect-101": "reflect_101",
    "border_default": "reflect_101",
    "border_reflect_101": "reflect_101",
    "border_reflect101": "reflect_101",
    "border_reflect": "reflect",
    "symmetric": "reflect",
    "border_replicate": "replicate",
    "edge": "replicate",
    "border_constant": "constant",
    "border_wrap": "wrap",
    "periodic": "wrap",
}


def normalize_border(border: object) -> str:
    """Return the canonical border name for ``border``.

    Accepts the names in :data:`BORDERS` (any case), a few spellings of them (``"default"``,
    ``"BORDER_REFLECT_101"``, ``"symmetric"``, ``"edge"``, ``"periodic"``), and OpenCV's integer
    constants (``cv2.BORDER_REFLECT_101`` is ``4``).

    >>> normalize_border("BORDER_DEFAULT")
    'reflect_101'
    """
    if isinstance(border, bool):
        raise TypeError(
            f"border must be one of {', '.join(map(repr, BORDERS))}. Received: border={border!r}"
        )
    if isinstance(border, (int, np.integer)):
        for name, code in CV2_BORDER_TYPES.items():
            if code is not None and code == int(border):
                return name
        raise ValueError(
            "border must be one of "
            f"{', '.join(map(repr, BORDERS))} or an OpenCV border constant "
            "(BORDER_CONSTANT=0, BORDER_REPLICATE=1, BORDER_REFLECT=2, BORDER_REFLECT_101=4). "
            f"Received: border={border!r}"
        )
    if not isinstance(border, str):
        raise TypeError(
            f"border must be a string, one of {', '.join(map(repr, BORDERS))}. "
            f"Received: border={border!r} of type {type(border).__name__}"
        )
    key = border.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in BORDERS:
        raise ValueError(
            f"border must be one of {', '.join(map(repr, BORDERS))}. Received: border={border!r}"
        )
    return key


def border_index(n: int, before: int, after: int, border: str) -> np.ndarray:
    """Source indices for padding an axis of length ``n`` by ``before`` and ``after``.

    Returns an int array of length ``before + n + after`` such that ``x[idx]`` is the padded
    axis, for every mode but ``"constant"`` (which has no source index; see
    :func:`constant_mask`). Matches ``cv2.borderInterpolate`` for any ``n >= 1``, however
    large the padding.

    >>> border_index(4, 3, 3, "reflect_101").tolist()
    [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    """
    border = normalize_border(border)
    if n < 1:
        raise ValueError(f"cannot pad an empty axis. Received: n={n}")
    i = np.arange(-before, n + after, dtype=np.int64)
    if border == "wrap":
        return np.mod(i, n)
    if border == "replicate" or border == "constant":
        return np.clip(i, 0, n - 1)
    if border == "reflect":
        j = np.mod(i, 2 * n)
        return np.where(j >= n, 2 * n - 1 - j, j)
    # reflect_101
    if n == 1:
        return np.zeros_like(i)
    period = 2 * n - 2
    j = np.mod(i, period)
    return np.where(j >= n, period - j, j)


def constant_mask(n: int, before: int, after: int) -> np.ndarray:
    """Boolean array, True where the padded position lies inside the image."""
    i = np.arange(-before, n + after, dtype=np.int64)
    return (i >= 0) & (i < n)


def pad_numpy(
    x: np.ndarray,
    pads: tuple[tuple[int, int], ...],
    border: str,
    border_value: float = 0.0,
) -> np.ndarray:
    """Pad ``x`` with a border, axis by axis, using the index maps (a NumPy reference)."""
    border = normalize_border(border)
    out = np.asarray(x)
    for axis, (before, after) in enumerate(pads):
        if before == 0 and after == 0:
            continue
        n = out.shape[axis]
        out = np.take(out, border_index(n, before, after, border), axis=axis)
        if border == "constant":
            shape = [1] * out.ndim
            shape[axis] = -1
            mask = constant_mask(n, before, after).reshape(shape)
            out = np.where(mask, out, np.asarray(border_value, dtype=out.dtype))
    return out
