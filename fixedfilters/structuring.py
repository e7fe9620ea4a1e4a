"""Structuring elements for morphology, equal to ``cv2.getStructuringElement``, in pure NumPy.

An element is a ``(height, width)`` array of 0/1 (uint8, like OpenCV's): the pixels a morphological
operation takes the minimum (erosion) or maximum (dilation) over, placed so that the element's
*anchor* ``(x, y)`` sits on the output pixel. Nothing here imports TensorFlow, Keras or OpenCV.

:func:`rectangles` splits an element into axis-aligned rectangles whose union is the element; a
min (max) over the element is the min (max) of separable min (max) filters over those rectangles.
"""

from __future__ import annotations

import reprlib

import numpy as np

from fixedfilters.kernels import _is_int, _ksize_entries, _received

__all__ = ["SHAPES", "structuring_element", "check_anchor", "check_element", "rectangles"]

#: Element shapes, with OpenCV's constant for each (``cv2.MORPH_RECT`` is 0, ...).
SHAPES: dict[str, int] = {"rect": 0, "cross": 1, "ellipse": 2}

#: Largest element side accepted (OpenCV sets no limit; this one only catches unit mistakes).
MAX_ELEMENT_SIZE = 4095

_KSIZE_TEXT = "a positive integer or a (width, height) pair of positive integers"


def check_ksize(value: object, name: str = "ksize") -> tuple[int, int]:
    """Return OpenCV's ``(width, height)`` from an int or a ``(width, height)`` pair (>= 1)."""
    width, height = _ksize_entries(name, value, _KSIZE_TEXT)
    if width < 1 or height < 1 or max(width, height) > MAX_ELEMENT_SIZE:
        raise ValueError(
            f"{name} must be {_KSIZE_TEXT} (at most {MAX_ELEMENT_SIZE}). "
            f"{_received(**{name: value})}"
        )
    return width, height


def check_anchor(anchor: object, shape: tuple[int, int]) -> tuple[int, int]:
    """OpenCV's ``normalizeAnchor``: ``(x, y)`` inside a ``(kh, kw)`` element; ``None`` or -1
    in an entry means the centre ``kw // 2`` (``kh // 2``) of that axis."""
    kh, kw = shape
    if anchor is None:
        return kw // 2, kh // 2
    ok = (
        isinstance(anchor, (tuple, list)) or (isinstance(anchor, np.ndarray) and anchor.ndim == 1)
    ) and len(anchor) == 2
    if not ok or not all(_is_int(a) for a in anchor):
        raise TypeError(
            f"anchor must be None or a pair of ints (x, y). Received: anchor={anchor!r}"
        )
    ax, ay = (int(a) for a in anchor)
    ax = kw // 2 if ax == -1 else ax
    ay = kh // 2 if ay == -1 else ay
    if not (0 <= ax < kw and 0 <= ay < kh):
        raise ValueError(
            f"anchor (x, y) must lie inside the {kh}x{kw} element: 0 <= x < {kw}, 0 <= y < {kh} "
            f"(-1 for the centre). Received: anchor={tuple(int(a) for a in anchor)!r}"
        )
    return ax, ay


def check_shape(shape: object) -> str:
    """Return the element shape name for ``"rect"``/``"cross"``/``"ellipse"`` or OpenCV's
    ``cv2.MORPH_RECT`` (0), ``cv2.MORPH_CROSS`` (1), ``cv2.MORPH_ELLIPSE`` (2)."""
    if _is_int(shape):
        for name, code in SHAPES.items():
            if code == int(shape):
                return name
    elif isinstance(shape, str):
        key = shape.strip().lower()
        key = key[len("morph_") :] if key.startswith("morph_") else key
        if key in SHAPES:
            return key
    raise ValueError(
        "shape must be 'rect', 'cross' or 'ellipse' (or cv2.MORPH_RECT, cv2.MORPH_CROSS, "
        f"cv2.MORPH_ELLIPSE). Received: shape={shape!r}"
    )


def structuring_element(
    shape: str | int, ksize: int | tuple[int, int], anchor: tuple[int, int] | None = None
) -> np.ndarray:
    """The element ``cv2.getStructuringElement(shape, ksize, anchor)`` builds, as uint8 0/1.

    ``shape`` is ``"rect"``, ``"cross"`` or ``"ellipse"`` (or ``cv2.MORPH_*``); ``ksize`` an int
    or OpenCV's ``(width, height)``; ``anchor`` ``(x, y)`` only places the cross (default: the
    centre). Returns a ``(height, width)`` array. As in OpenCV, a 1x1 element is a rectangle, and
    the ellipse is inscribed in the box with half-axes ``width // 2`` and ``height // 2``
    (row ``i`` spans ``c +- round(c * sqrt(1 - (i - r)**2 / r**2))``, rounding half to even).

    >>> structuring_element("ellipse", 5).tolist()
    [[0, 0, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 1, 0, 0]]
    >>> structuring_element("cross", (3, 2), anchor=(0, 0)).tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    name = check_shape(shape)
    width, height = check_ksize(ksize)
    ax, ay = check_anchor(anchor, (height, width))
    if (width, height) == (1, 1):
        name = "rect"
    elem = np.zeros((height, width), np.uint8)
    if name == "rect":
        elem[:] = 1
    elif name == "cross":
        elem[ay, :] = 1
        elem[:, ax] = 1
    else:
        r, c = height // 2, width // 2
        inv_r2 = 1.0 / (r * r) if r else 0.0
        for i in range(height):
            dy = i - r
            if abs(dy) <= r:
                # saturate_cast<int>(double) rounds half to even (cvRound)
                dx = int(np.rint(c * np.sqrt((r * r - dy * dy) * inv_r2)))
                elem[i, max(c - dx, 0) : min(c + dx + 1, width)] = 1
    return elem


def check_element(kernel: object, name: str = "kernel") -> np.ndarray:
    """Return a user's structuring element as a uint8 0/1 ``(kh, kw)`` array.

    Accepts a 2-D array of 0/1 (bool or numbers; OpenCV reads any non-zero as 1, here only 1 is
    accepted so a typo is not silently a 1) with at least one 1.
    """
    shown = reprlib.repr(kernel)
    if kernel is None or isinstance(kernel, (str, bytes)):
        raise TypeError(f"{name} must be a 2-D array of 0 and 1. Received: {name}={shown}")
    try:
        k = np.array(kernel)
        kf = k.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a 2-D array of 0 and 1. Received: {name}={shown} ({err})"
        ) from None
    if k.ndim != 2 or k.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array (kh, kw) of 0 and 1. "
            f"Received: {name}={shown} with shape {k.shape}"
        )
    if not np.all((kf == 0) | (kf == 1)):
        raise ValueError(f"{name} must hold only 0 and 1. Received: {name}={shown}")
    if not np.any(kf == 1):
        raise ValueError(
            f"{name} must have at least one 1 (an empty element has no minimum or maximum; "
            f"OpenCV returns an undefined result for it). Received: {name}={shown}"
        )
    if max(k.shape) > MAX_ELEMENT_SIZE:
        raise ValueError(
            f"{name} sides must be at most {MAX_ELEMENT_SIZE}. Received: {name} of shape {k.shape}"
        )
    return (kf == 1).astype(np.uint8)


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of ones in a 1-D 0/1 array."""
    padded = np.concatenate([[0], (row != 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _row_rectangles(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    rects = []
    kh = mask.shape[0]
    for r in range(kh):
        for c0, c1 in _runs(mask[r]):
            r0, r1 = r, r + 1
            while r0 > 0 and mask[r0 - 1, c0:c1].all():
                r0 -= 1
            while r1 < kh and mask[r1, c0:c1].all():
                r1 += 1
            if (r0, r1, c0, c1) not in rects:
                rects.append((r0, r1, c0, c1))
    return rects


def rectangles(element: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Axis-aligned rectangles ``(row0, row1, col0, col1)`` (half-open) covering ``element``.

    Each run of ones in a row is extended up and down as far as the element allows; the
    transposed construction (column runs extended sideways) is used instead when it needs
    fewer rectangles. A full rectangle gives one; a cross two (a bar each way); an ellipse
    about half its height. The rectangles may overlap (harmless for a min or a max).

    >>> rectangles(structuring_element("cross", 3))
    [(0, 3, 1, 2), (1, 2, 0, 3)]
    """
    mask = np.asarray(element) != 0
    by_rows = _row_rectangles(mask)
    by_cols = [(c0, c1, r0, r1) for r0, r1, c0, c1 in _row_rectangles(mask.T)]
    return by_cols if len(by_cols) < len(by_rows) else by_rows
