"""FilterBank (several fixed filters side by side) and ``edge_stem`` (a ready front end)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops
from keras.saving import register_keras_serializable

from fixedfilters import kernels
from fixedfilters.layers.base import FixedFilter, FixedLayer, check_input_shape
from fixedfilters.layers.filters import GaussianBlur, Laplacian, Sobel, SobelMagnitude

__all__ = ["FilterBank", "edge_stem"]


@register_keras_serializable(package="fixedfilters")
class FilterBank(FixedLayer):
    """Apply several fixed filters to the same input and concatenate them on the channel axis.

    Filter-major: with ``C`` input channels, output channel ``i * C + c`` is filter ``i`` on
    input channel ``c``, i.e. ``concatenate([f(x) for f in filters], axis=channels)``. Each
    filter keeps its own border and taps (its weights are this layer's weights, nested under
    the filter's name). Every filter must use the same ``data_format``.

    Input ``(batch, height, width, C)``; output ``(batch, height, width, len(filters) * C)``.

    >>> import fixedfilters as ff
    >>> bank = ff.FilterBank([ff.Sobel(1, 0), ff.Sobel(0, 1), ff.Laplacian()])
    >>> bank.compute_output_shape((None, 32, 32, 3))
    (None, 32, 32, 9)
    """

    def __init__(self, filters: Sequence[FixedFilter], **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, (FixedFilter, dict, str)) or not isinstance(filters, (list, tuple)):
            raise TypeError(
                "filters must be a list of fixedfilters layers (Sobel, GaussianBlur, ...). "
                f"Received: filters={filters!r}"
            )
        built = []
        for i, f in enumerate(filters):
            if isinstance(f, dict):
                f = keras.saving.deserialize_keras_object(f)
            if not isinstance(f, FixedFilter):
                raise TypeError(
                    "every entry of filters must be a fixedfilters layer (Sobel, GaussianBlur, "
                    f"...). Received: filters[{i}]={f!r}"
                )
            built.append(f)
        if not built:
            raise ValueError("filters must hold at least one filter. Received: filters=[]")
        formats = {f.data_format for f in built}
        if len(formats) != 1:
            raise ValueError(
                "every filter of a FilterBank must use the same data_format. "
                f"Received: data_formats={sorted(formats)}"
            )
        self.filters = built
        self.data_format = built[0].data_format

    def build(self, input_shape) -> None:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        for f in self.filters:
            if not f.built:
                f.build(input_shape)

    def call(self, inputs):
        axis = -1 if self.data_format == "channels_last" else 1
        return ops.concatenate([f(inputs) for f in self.filters], axis=axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = -1 if self.data_format == "channels_last" else 1
        if shape[axis] is not None:
            shape[axis] = shape[axis] * len(self.filters)
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["filters"] = [keras.saving.serialize_keras_object(f) for f in self.filters]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["filters"] = [keras.saving.deserialize_keras_object(f) for f in config["filters"]]
        return cls(**config)


def edge_stem(
    ksize: int = 3,
    *,
    blur_ksize: int | tuple[int, int] = 3,
    sigma: float = 0.0,
    border: str = "reflect_101",
    border_value: float = 0.0,
    data_format: str | None = None,
    name: str = "edge_stem",
) -> keras.Sequential:
    """A ready fixed front end: Gaussian blur, then Sobel x, Sobel y, magnitude and Laplacian.

    Returns a ``keras.Sequential`` of ``GaussianBlur(blur_ksize, sigma)`` followed by a
    ``FilterBank([Sobel(1, 0, ksize), Sobel(0, 1, ksize), SobelMagnitude(ksize),
    Laplacian(ksize)])``: ``C`` input channels become ``4 * C`` (filter-major). Every weight is
    fixed; prepend it to any model::

        model = keras.Sequential([keras.Input((64, 64, 1)), ff.edge_stem(), head...])

    OpenCV equivalent, per plane: ``b = cv2.GaussianBlur(img, (blur_ksize, blur_ksize), sigma)``
    then ``cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=ksize)``, ``cv2.Sobel(b, ..., 0, 1, ...)``,
    their ``cv2.magnitude`` and ``cv2.Laplacian(b, cv2.CV_32F, ksize=ksize)``, all with the same
    border.
    """
    try:  # validate here, so that the message names edge_stem's arguments
        kernels.gaussian_blur_kernels(blur_ksize, sigma)
    except (TypeError, ValueError) as err:
        raise type(err)(
            f"edge_stem: blur_ksize and sigma must describe a valid Gaussian blur ({err}). "
            f"Received: blur_ksize={blur_ksize!r}, sigma={sigma!r}"
        ) from None
    common = dict(border=border, border_value=border_value, data_format=data_format)
    return keras.Sequential(
        [
            GaussianBlur(blur_ksize, sigma, name=f"{name}_blur", **common),
            FilterBank(
                [
                    Sobel(1, 0, ksize, name=f"{name}_sobel_x", **common),
                    Sobel(0, 1, ksize, name=f"{name}_sobel_y", **common),
                    SobelMagnitude(ksize, name=f"{name}_magnitude", **common),
                    Laplacian(ksize, name=f"{name}_laplacian", **common),
                ],
                name=f"{name}_bank",
            ),
        ],
        name=name,
    )
