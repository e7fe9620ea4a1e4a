"""Images of any size through one compiled shape: overlapping tiles of a fixed size.

For a *local* filter (each output pixel depends only on the input within ``reach`` pixels of it,
e.g. every separable filter and Filter2D), an image is padded with the layer's own border
(:func:`fixedfilters.borders.pad_numpy`: the same index maps the layer uses) and cut into tiles
of ``tile x tile`` output pixels plus a halo of ``reach`` on every side. The tiles of
consecutive images fill batches of a fixed size, so the layer always sees one input shape
``(batch, tile + 2 * reach, tile + 2 * reach, channels)``: it takes its fast XLA path and compiles
once per channel count and dtype, however many image sizes a folder holds. The halo is cropped
from each result tile, so the layer's border on a tile's edge never reaches the output, and every
output pixel is computed from the same inputs, with the same arithmetic, as on the whole image.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np

from fixedfilters.borders import pad_numpy

__all__ = ["TileBatcher"]


class _Pending:
    """One image being assembled from its result tiles."""

    def __init__(self, key: Any, shape: tuple[int, int], tiles: int):
        self.key = key
        self.shape = shape
        self.left = tiles
        self.output: np.ndarray | None = None


class TileBatcher:
    """Feed images with :meth:`add`; get ``(key, output)`` back in order from both methods.

    ``call(batch) -> numpy array`` runs the layer on ``(batch, side, side, channels)`` (one
    stream per channel count and dtype: create a TileBatcher for each). ``reach``: the filter's
    radius or more; ``border``/``border_value``: the layer's.
    """

    def __init__(
        self,
        call: Callable[[np.ndarray], np.ndarray],
        *,
        reach: int,
        border: str,
        border_value: float = 0.0,
        tile: int = 128,
        batch: int = 8,
    ):
        self.call = call
        self.reach = int(reach)
        self.border = border
        self.border_value = border_value
        self.tile = int(tile)
        self.batch = int(batch)
        self.side = self.tile + 2 * self.reach
        self._tiles: list[np.ndarray] = []
        self._where: list[tuple[_Pending, int, int]] = []
        self._images: collections.deque[_Pending] = collections.deque()

    def add(self, key: Hashable, image: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
        """Queue ``image`` (height x width x channels); yield the images completed meanwhile."""
        height, width = image.shape[:2]
        t, r = self.tile, self.reach
        rows, cols = -(-height // t), -(-width // t)
        pads = ((r, r + rows * t - height), (r, r + cols * t - width), (0, 0))
        padded = pad_numpy(image, pads, self.border, self.border_value)
        pending = _Pending(key, (height, width), rows * cols)
        self._images.append(pending)
        for i in range(rows):
            for j in range(cols):
                self._tiles.append(padded[i * t : i * t + self.side, j * t : j * t + self.side])
                self._where.append((pending, i * t, j * t))
                if len(self._tiles) == self.batch:
                    self._run()
        yield from self._completed()

    def finish(self) -> Iterator[tuple[Any, np.ndarray]]:
        """Run the last, partly filled batch; yield every remaining image."""
        if self._tiles:
            self._run()
        yield from self._completed()

    def _run(self) -> None:
        tiles, where = self._tiles, self._where
        self._tiles, self._where = [], []
        stack = np.stack(tiles)
        if len(tiles) < self.batch:  # always the same shape: fill with copies of the last tile
            fill = np.broadcast_to(stack[-1:], (self.batch - len(tiles), *stack.shape[1:]))
            stack = np.concatenate([stack, fill])
        results = self.call(stack)
        t, r = self.tile, self.reach
        for result, (pending, y, x) in zip(results, where, strict=False):
            height, width = pending.shape
            if pending.output is None:
                pending.output = np.empty((height, width, *result.shape[2:]), result.dtype)
            h, w = min(t, height - y), min(t, width - x)
            pending.output[y : y + h, x : x + w] = result[r : r + h, r : r + w]
            pending.left -= 1

    def _completed(self) -> Iterator[tuple[Any, np.ndarray]]:
        while self._images and self._images[0].left == 0:
            done = self._images.popleft()
            assert done.output is not None
            yield done.key, done.output
