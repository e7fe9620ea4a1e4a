"""``ConvertScaleAbs``: ``cv2.convertScaleAbs`` as a fixed layer (uint8 out, OpenCV's bytes)."""

from __future__ import annotations

from keras import KerasTensor, ops
from keras.backend import standardize_dtype
from keras.saving import register_keras_serializable

from fixedfilters.exact import fma_f32, saturate_cast
from fixedfilters.layers.base import FixedLayer, check_real

__all__ = ["ConvertScaleAbs"]


@register_keras_serializable(package="fixedfilters")
class ConvertScaleAbs(FixedLayer):
    """``|alpha * x + beta|`` saturated to uint8, bit for bit ``cv2.convertScaleAbs``.

    OpenCV equivalent: ``cv2.convertScaleAbs(img, alpha=alpha, beta=beta)``, the usual way to
    turn a ``cv2.Sobel(img, cv2.CV_16S, ...)`` derivative into an 8-bit image. OpenCV's
    arithmetic, read from ``modules/core/src/convert_scale.simd.hpp`` and checked against
    ``cv2`` 5.1: the input is loaded as float32 (float64 and int32 values rounded to float32),
    ``alpha`` and ``beta`` are float32, ``x * alpha + beta`` is one fused multiply-add (a single
    rounding, emulated in float64: :func:`fixedfilters.exact.fma_f32`), then the absolute value,
    rounding half to even and saturation to 0..255 (NaN gives 255, as in ``cv2``).

    Pointwise: any input shape and layout (no border, no taps, nothing to train), any real
    dtype (uint8, int8, uint16, int16, int32, float32, float64, bool); output uint8 of the same
    shape. The output has no gradient (TensorFlow returns ``None``; ``jax.grad`` refuses it).

    >>> import numpy as np, fixedfilters as ff
    >>> x = np.array([[-300, -2, 0, 5, 130]], dtype="int16")
    >>> ff.ConvertScaleAbs(alpha=0.5)(x).numpy().tolist()
    [[150, 1, 0, 2, 65]]
    """

    def __init__(self, alpha: float = 1.0, beta: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_real("alpha", alpha)
        self.beta = check_real("beta", beta)
        # Keep the raw input dtype (Keras would cast float64 inputs to the compute dtype).
        self.autocast = False

    def call(self, inputs):
        x = ops.convert_to_tensor(inputs)
        dtype = standardize_dtype(x.dtype)
        if dtype == "string" or dtype.startswith("complex"):
            raise TypeError(
                "ConvertScaleAbs converts real-valued images (integer, bool or float). "
                f"Received: input dtype={dtype}"
            )
        return saturate_cast(ops.abs(fma_f32(x, self.alpha, self.beta)), "uint8")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        return KerasTensor(tuple(inputs.shape), dtype="uint8")

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha, beta=self.beta)
        return config
