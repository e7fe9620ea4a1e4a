"""Gabor filters: ``Gabor`` (one kernel, like ``cv2.getGaborKernel`` + ``cv2.filter2D``) and
``gabor_bank`` (a fixed V1-like front end: a ``FilterBank`` of orientations and wavelengths)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.layers.bank import FilterBank
from fixedfilters.layers.filters import Filter2D

__all__ = ["Gabor", "gabor_bank"]


@register_keras_serializable(package="fixedfilters")
class Gabor(Filter2D):
    """Correlation with a Gabor kernel, like ``cv2.getGaborKernel`` then ``cv2.filter2D``.

    OpenCV equivalent: ``cv2.filter2D(img, cv2.CV_32F, cv2.getGaborKernel(ksize, sigma, theta,
    lambd, gamma, psi, ktype=cv2.CV_64F), borderType=...)`` on every (image, channel) plane.
    Same argument order as ``cv2.getGaborKernel``: ``ksize`` is an int or OpenCV's ``(width,
    height)`` (always an odd number of taps: an even size ``s`` gives ``s + 1``; 0 derives it
    from ``sigma``), ``sigma`` the envelope's standard deviation, ``theta`` the orientation
    (radians), ``lambd`` the wavelength (pixels), ``gamma`` the aspect ratio, ``psi`` the phase
    (default ``pi / 2``: OpenCV's default, an odd kernel). The taps are
    :func:`fixedfilters.kernels.gabor` (bit-identical to OpenCV's), held as the fixed weight
    ``kernel`` ``(kh, kw)`` as in :class:`Filter2D`, and applied as correlation (no flip), anchor
    at the centre. Border ``"reflect_101"`` by default (any of :data:`fixedfilters.BORDERS`).

    Input ``(batch, H, W, C)``; output of the same shape (channels first likewise).
    ``output_dtype`` as in :class:`Filter2D`: integer outputs are OpenCV's bytes below 50 taps
    (e.g. ksize 7 and smaller); from 50 taps (9x9, 5x11, ...) on a uint8 image OpenCV
    correlates in the Fourier domain and the layer's rounded float32 correlation is within 1
    of it, on a small share of values
    (measured on photos: none for 9x9 to uint8/int16, up to 0.18% for 31x31 to int16; the
    numbers are in :class:`Filter2D`).

    >>> import fixedfilters as ff
    >>> g = ff.Gabor(5, sigma=1.5, theta=0.0, lambd=4.0, gamma=0.5, psi=0.0)
    >>> g.kernel2d().shape, round(float(g.kernel2d()[2, 2]), 3)
    ((5, 5), 1.0)
    """

    _refused_args = {
        "kernel": "its kernel is cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi); "
        "use Filter2D(kernel) for another kernel",
        "anchor": "a Gabor kernel is applied at its centre (cv2.filter2D's default anchor); "
        "use Filter2D(kernel, anchor=...) for another anchor",
        "delta": "Gabor is cv2.filter2D with delta=0; use Filter2D(kernel, delta=...) with "
        "fixedfilters.kernels.gabor(...) to add one",
    }

    def __init__(
        self,
        ksize: int | tuple[int, int],
        sigma: float,
        theta: float,
        lambd: float,
        gamma: float,
        psi: float = math.pi / 2,
        *,
        border: str = "reflect_101",
        border_value: float = 0.0,
        **kwargs,
    ):
        if isinstance(ksize, list) or (isinstance(ksize, np.ndarray) and ksize.ndim == 1):
            ksize = tuple(ksize)
        k = kernels.gabor(ksize, sigma, theta, lambd, gamma, psi)
        super().__init__(k, border=border, border_value=border_value, **kwargs)
        self.ksize = (int(ksize[0]), int(ksize[1])) if isinstance(ksize, tuple) else int(ksize)
        self.sigma = float(sigma)
        self.theta = float(theta)
        self.lambd = float(lambd)
        self.gamma = float(gamma)
        self.psi = float(psi)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("kernel", "anchor", "delta"):
            config.pop(key)
        config.update(
            ksize=list(self.ksize) if isinstance(self.ksize, tuple) else self.ksize,
            sigma=self.sigma,
            theta=self.theta,
            lambd=self.lambd,
            gamma=self.gamma,
            psi=self.psi,
        )
        return config


def _as_values(name: str, values: object) -> list[float]:
    if isinstance(values, (int, float, np.integer, np.floating)) and not isinstance(values, bool):
        return [float(values)]
    if isinstance(values, np.ndarray):
        values = values.ravel().tolist()
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)) or not values:
        raise TypeError(
            f"{name} must be a number or a non-empty sequence of numbers. "
            f"Received: {name}={values!r}"
        )
    return [kernels._check_finite(f"{name}[{i}]", v) for i, v in enumerate(values)]


def gabor_bank(
    ksize: int | tuple[int, int],
    sigma: float,
    thetas: Sequence[float] | float,
    lambdas: Sequence[float] | float,
    gamma: float = 0.5,
    psis: Sequence[float] | float = (math.pi / 2,),
    *,
    name: str = "gabor_bank",
    **layer_kwargs,
) -> FilterBank:
    """A :class:`FilterBank` of :class:`Gabor` filters: every (theta, lambda, psi) combination.

    Filter order: theta-major, then lambda, then psi -- filter ``f = (t * len(lambdas) + l) *
    len(psis) + p`` is ``Gabor(ksize, sigma, thetas[t], lambdas[l], gamma, psis[p])``, named
    ``f"{name}_t{t}_l{l}_p{p}"``. As in every ``FilterBank`` the channels are filter-major: with
    ``C`` input channels, output channel ``f * C + c`` is filter ``f`` on input channel ``c``.
    ``layer_kwargs`` (``border``, ``border_value``, ``data_format``, ``dtype``) go to every
    filter. Every weight is fixed. OpenCV equivalent of channel ``f * C + c``:
    ``cv2.filter2D(img[..., c], cv2.CV_32F, cv2.getGaborKernel(ksize, sigma, thetas[t],
    lambdas[l], gamma, psis[p], ktype=cv2.CV_64F), borderType=...)``.

    >>> import numpy as np, fixedfilters as ff
    >>> bank = ff.gabor_bank(7, 2.0, thetas=np.arange(4) * np.pi / 4, lambdas=[4.0, 8.0])
    >>> len(bank.filters), bank.compute_output_shape((None, 28, 28, 1))
    (8, (None, 28, 28, 8))
    """
    ts = _as_values("thetas", thetas)
    ls = _as_values("lambdas", lambdas)
    ps = _as_values("psis", psis)
    filters = [
        Gabor(ksize, sigma, t, lam, gamma, p, name=f"{name}_t{ti}_l{li}_p{pi}", **layer_kwargs)
        for ti, t in enumerate(ts)
        for li, lam in enumerate(ls)
        for pi, p in enumerate(ps)
    ]
    return FilterBank(filters, name=name)
