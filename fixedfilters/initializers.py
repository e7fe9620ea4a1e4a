"""Keras initializers holding the same taps as the fixed layers, for *trainable* convolutions.

Use these when a convolution should start as a Sobel/Scharr/Laplacian/Gaussian (or any kernel)
and then be trained — the opposite of the fixed layers, whose taps never change::

    conv = keras.layers.Conv2D(3, 3, padding="same", use_bias=False,
                               kernel_initializer=fixedfilters.initializers.Sobel(1, 0))
    dw = keras.layers.DepthwiseConv2D(5, padding="same", use_bias=False,
                                      depthwise_initializer=
                                      fixedfilters.initializers.Gaussian(5, depthwise=True))

Layout of a ``Conv2D`` kernel ``(kh, kw, in, out)``: with ``in == out`` the taps sit on the
diagonal (output channel ``c`` filters input channel ``c`` only, as OpenCV does per channel);
with ``in == 1`` every output gets the same taps; any other shape is a ValueError. With
``depthwise=True`` (for ``DepthwiseConv2D``, kernel ``(kh, kw, channels, multiplier)``) every
channel and multiplier gets the taps. Note ``padding="same"`` pads with zeros, not OpenCV's
default border: only the fixed layers reproduce OpenCV at the edges.
"""

from __future__ import annotations

import numpy as np
from keras import initializers as _keras_initializers
from keras import ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels

__all__ = ["FilterInitializer", "Sobel", "Scharr", "Laplacian", "Gaussian", "Kernel"]


class FilterInitializer(_keras_initializers.Initializer):
    """Base: subclasses provide ``kernel2d()``, the ``(kh, kw)`` float64 taps."""

    def __init__(self, *, depthwise: bool = False):
        if not isinstance(depthwise, bool):
            raise TypeError(f"depthwise must be a bool. Received: depthwise={depthwise!r}")
        self.depthwise = depthwise

    def kernel2d(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, shape, dtype=None):
        k = self.kernel2d()
        shape = tuple(int(s) for s in shape)
        name = type(self).__name__
        if len(shape) != 4 or shape[:2] != k.shape:
            raise ValueError(
                f"{name} initializes a 4-D convolution kernel (kh, kw, in, out) with "
                f"(kh, kw) = {k.shape}. Received: shape={shape}. Give the layer "
                f"kernel_size={k.shape}."
            )
        _, _, cin, cout = shape
        out = np.zeros(shape, dtype=np.float64)
        if self.depthwise or cin == 1:
            out[...] = k[:, :, None, None]
        elif cin == cout:
            for c in range(cin):
                out[:, :, c, c] = k
        else:
            raise ValueError(
                f"{name} fills a Conv2D kernel only when input channels == output channels "
                "(diagonal: each channel filtered on its own) or there is one input channel "
                "(the same taps for every output); for DepthwiseConv2D pass depthwise=True. "
                f"Received: shape={shape} (in={cin}, out={cout})"
            )
        return ops.convert_to_tensor(out.astype(dtype or "float32"))

    def get_config(self) -> dict:
        return {"depthwise": self.depthwise}


@register_keras_serializable(package="fixedfilters.initializers")
class Sobel(FilterInitializer):
    """Taps of ``cv2.Sobel(..., dx, dy, ksize)``: ``outer(ky, kx)`` of ``kernels.sobel``."""

    def __init__(self, dx: int = 1, dy: int = 0, ksize: int = 3, *, depthwise: bool = False):
        super().__init__(depthwise=depthwise)
        self._kx, self._ky = kernels.sobel(dx, dy, ksize)
        self.dx, self.dy, self.ksize = int(dx), int(dy), int(ksize)

    def kernel2d(self) -> np.ndarray:
        return np.outer(self._ky, self._kx)

    def get_config(self) -> dict:
        return {**super().get_config(), "dx": self.dx, "dy": self.dy, "ksize": self.ksize}


@register_keras_serializable(package="fixedfilters.initializers")
class Scharr(Sobel):
    """Taps of ``cv2.Scharr(..., dx, dy)`` (3x3)."""

    def __init__(self, dx: int = 1, dy: int = 0, *, depthwise: bool = False, **kwargs):
        kwargs.pop("ksize", None)
        super().__init__(dx, dy, -1, depthwise=depthwise)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("ksize")
        return config


@register_keras_serializable(package="fixedfilters.initializers")
class Laplacian(FilterInitializer):
    """Taps of ``cv2.Laplacian(..., ksize)`` (3x3 for ksize 1 and 3)."""

    def __init__(self, ksize: int = 1, *, depthwise: bool = False):
        super().__init__(depthwise=depthwise)
        self._k = kernels.laplacian(ksize)
        self.ksize = int(ksize)

    def kernel2d(self) -> np.ndarray:
        return self._k.copy()

    def get_config(self) -> dict:
        return {**super().get_config(), "ksize": self.ksize}


@register_keras_serializable(package="fixedfilters.initializers")
class Gaussian(FilterInitializer):
    """Taps of ``cv2.GaussianBlur(..., ksize, sigma_x, sigma_y)``; ksize is (width, height)."""

    def __init__(
        self,
        ksize: int | tuple[int, int] = 3,
        sigma_x: float = 0.0,
        sigma_y: float = 0.0,
        *,
        depthwise: bool = False,
    ):
        super().__init__(depthwise=depthwise)
        if isinstance(ksize, list) or (isinstance(ksize, np.ndarray) and ksize.ndim == 1):
            ksize = tuple(int(k) for k in ksize)
        self._kx, self._ky = kernels.gaussian_blur_kernels(ksize, sigma_x, sigma_y)
        self.ksize, self.sigma_x, self.sigma_y = ksize, float(sigma_x), float(sigma_y)

    def kernel2d(self) -> np.ndarray:
        return np.outer(self._ky, self._kx)

    def get_config(self) -> dict:
        ksize = list(self.ksize) if isinstance(self.ksize, tuple) else self.ksize
        return {
            **super().get_config(),
            "ksize": ksize,
            "sigma_x": self.sigma_x,
            "sigma_y": self.sigma_y,
        }


@register_keras_serializable(package="fixedfilters.initializers")
class Kernel(FilterInitializer):
    """Any 2-D kernel ``(kh, kw)``, placed as given (correlation: no flip)."""

    def __init__(self, kernel, *, depthwise: bool = False):
        super().__init__(depthwise=depthwise)
        self._k = kernels._check_kernel2d(kernel)

    def kernel2d(self) -> np.ndarray:
        return self._k.copy()

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel": self._k.tolist()}
