"""The fixed-filter layer base: taps held as non-trainable weights that never train.

Two mechanisms keep the taps fixed, and both are needed:

* every tap weight is created with ``add_weight(..., trainable=False)``, so it is non-trainable at
  the *variable* level: no optimizer ever sees it, whatever flag is set on the layer;
* the layer's own ``trainable`` flag is always ``False``. ``model.trainable = True`` (the
  fine-tuning idiom) propagates to every sub-layer, and would re-enable a plain
  ``Conv2D(trainable=False)``; on a fixed layer it is ignored, so ``model.summary()`` and
  ``layer.trainable_weights`` keep telling the truth.

Weights are plain Keras variables: ``get_weights``/``set_weights``, checkpoints and ``.keras``
files read and write them, and the output is always computed from them.
"""

from __future__ import annotations

import numpy as np
from keras import backend, dtype_policies, ops
from keras.backend import standardize_dtype
from keras.config import image_data_format
from keras.layers import Layer

from fixedfilters.borders import normalize_border
from fixedfilters.kernels import _check_finite as check_real

__all__ = ["FixedLayer", "FixedFilter", "check_real", "check_data_format", "check_input_shape"]


def check_data_format(data_format: object) -> str:
    """``None`` -> ``keras.config.image_data_format()``; otherwise validate the name."""
    if data_format is None:
        return image_data_format()
    if not isinstance(data_format, str) or data_format.lower() not in (
        "channels_last",
        "channels_first",
    ):
        raise ValueError(
            "data_format must be 'channels_last' or 'channels_first' (or None for "
            f"keras.config.image_data_format()). Received: data_format={data_format!r}"
        )
    return data_format.lower()


def check_input_shape(owner: str, input_shape, data_format: str) -> None:
    """Raise a ValueError naming the expected layout unless ``input_shape`` is a 4-D image."""
    shape = tuple(input_shape) if input_shape is not None else None
    expected = (
        "(batch, height, width, channels)"
        if data_format == "channels_last"
        else "(batch, channels, height, width)"
    )
    if shape is None or len(shape) != 4:
        raise ValueError(
            f"{owner} expects a 4-D input of shape {expected} "
            f"(data_format={data_format!r}). Received: input shape={shape}"
        )
    for dim in shape[1:]:
        if dim is not None and int(dim) == 0:
            raise ValueError(
                f"{owner} expects a non-empty image of shape {expected}. "
                f"Received: input shape={shape}"
            )


class _TapsInitializer:
    """Initializer returning fixed taps (not serialized: the taps live in the weights)."""

    def __init__(self, value: np.ndarray):
        self.value = np.asarray(value, dtype=np.float64)

    def __call__(self, shape, dtype=None):
        if tuple(shape) != self.value.shape:
            raise ValueError(f"expected shape {self.value.shape}, got {tuple(shape)}")
        return ops.convert_to_tensor(self.value.astype(dtype or "float32"))


def _policy_for(dtype: object):
    """The dtype policy of a fixed layer: a mixed policy computes in its variable dtype.

    Filter gains overflow float16 on ordinary images (a 7x7 Sobel on a 0..255 step reaches
    ~163,000; float16 stops at 65,504), so under ``mixed_float16``/``mixed_bfloat16`` the fixed
    layers keep computing in float32 and return float32; the next layer casts as usual.
    """
    policy = dtype_policies.get(dtype)
    if policy.compute_dtype != policy.variable_dtype:
        return dtype_policies.get(policy.variable_dtype)
    return policy


def _assert_nonempty_tf(x, data_format: str, owner: str):
    """Unknown height/width in a TensorFlow graph: fail with a clear message on an empty image
    at run time, instead of an out-of-range gather deep in the border code."""
    import tensorflow as tf

    h, w = (1, 2) if data_format == "channels_last" else (2, 3)
    shape = tf.shape(x)
    check = tf.debugging.assert_positive(
        shape[h] * shape[w],
        message=f"{owner} expects a non-empty image (height >= 1 and width >= 1)",
    )
    with tf.control_dependencies([check]):
        return tf.identity(x)


class FixedLayer(Layer):
    """A layer that is never trainable: ``trainable`` reads ``False`` and ignores assignment.

    ``trainable=True`` in the constructor is an error; ``layer.trainable = True`` (directly or
    through ``model.trainable = True``) is ignored, so the fine-tuning idiom cannot unfreeze it.
    Under a mixed dtype policy the layer computes in the policy's variable dtype (float32).
    """

    def __init__(self, **kwargs):
        trainable = kwargs.pop("trainable", False)
        if trainable:
            raise ValueError(
                f"{type(self).__name__} is a fixed filter and cannot be trainable. Received: "
                "trainable=True. For a convolution that starts from these taps and then trains, "
                "use a keras.layers.Conv2D with an initializer from fixedfilters.initializers."
            )
        kwargs["dtype"] = _policy_for(kwargs.get("dtype"))
        super().__init__(trainable=False, **kwargs)

    @property
    def trainable(self) -> bool:
        return False

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # Ignored on purpose: `model.trainable = True` must not unfreeze fixed taps.
        self._trainable = False
        for layer in getattr(self, "_layers", []):
            layer.trainable = False


class FixedFilter(FixedLayer):
    """Base class of the fixed filter layers (``trainable`` is always ``False``).

    Subclasses implement ``_initial_taps()`` (name -> NumPy array of the taps, created as
    non-trainable weights in ``build``) and ``_filter(x)`` (the computation, from the weights).
    Input: a 4-D batch ``(batch, height, width, channels)`` (or ``(batch, channels, height,
    width)`` with ``data_format="channels_first"``); integer inputs are cast to the compute dtype.
    """

    def __init__(
        self,
        *,
        border: str = "reflect_101",
        border_value: float = 0.0,
        data_format: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.border = normalize_border(border)
        self.border_value = check_real("border_value", border_value)
        self.data_format = check_data_format(data_format)

    # -- weights -----------------------------------------------------------------------------
    def _initial_taps(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def build(self, input_shape) -> None:
        self._check_input_shape(input_shape)
        self._taps = {}
        for name, value in self._initial_taps().items():
            self._taps[name] = self.add_weight(
                name=name,
                shape=value.shape,
                initializer=_TapsInitializer(value),
                trainable=False,
                autocast=False,
            )

    def _check_input_shape(self, input_shape) -> None:
        check_input_shape(type(self).__name__, input_shape, self.data_format)

    # -- computation -------------------------------------------------------------------------
    def call(self, inputs):
        x = inputs
        dtype = standardize_dtype(x.dtype)
        if dtype == "string" or dtype.startswith("complex"):
            raise TypeError(
                f"{type(self).__name__} filters real-valued images (integer, bool or float). "
                f"Received: input dtype={dtype}"
            )
        if dtype != self.compute_dtype:
            x = ops.cast(x, self.compute_dtype)
        if x.shape[0] == 0:
            # An empty batch: nothing to filter. (TensorFlow's oneDNN convolutions would hand
            # back their padded input, (0, H + 2r, W + 2r, C), instead.)
            return ops.zeros_like(x)
        if backend.backend() == "tensorflow" and None in tuple(x.shape)[1:]:
            x = _assert_nonempty_tf(x, self.data_format, type(self).__name__)
        return self._filter(x)

    def _filter(self, x):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def _common(self) -> dict:
        return dict(
            border=self.border, border_value=self.border_value, data_format=self.data_format
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            border=self.border, border_value=self.border_value, data_format=self.data_format
        )
        return config
