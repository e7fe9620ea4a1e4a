"""The fixed-filter layer base: taps held as non-trainable weights that never train.

Two mechanisms keep the taps fixed, and both are needed:

* every tap weight is created with ``add_weight(..., trainable=False)``, so it is non-trainable at
  the *variable* level: no optimizer ever sees it, whatever flag is set on the layer;
* the layer's own ``trainable`` flag is always ``False``. ``model.trainable = True`` (the
  fine-tuning idiom) propagates to every sub-layer, and would re-enable a plain
  ``Conv2D(trainable=False)``; on a fixed layer it is ignored, so ``model.summary()`` and
  ``layer.trainable_weights`` keep telling the truth.

Weights are plain Keras variables: ``get_weights``/``set_weights``, checkpoints and ``.keras``
files read and write them, and the output is always computed from them, on every path (float
and integer ``output_dtype``): ``set_weights`` with other taps changes the output. The exact
integer paths that repeat OpenCV's fixed-point arithmetic for one set of taps
(:func:`fixedfilters.layers.box.box_uint8`, the pyramids' integer sums, the fixed-point Gaussian)
run only while the weights still hold those taps; the test is made in the graph
(:func:`follow_taps`: an ``ops.cond`` on ``ops.all(weight == taps)``, decided at once when
eager) and costs a compare of a few taps per call. With other weights the layer returns the
generic result, its float path from the weights rounded half to even and saturated (OpenCV's
``saturate_cast``). ``Canny`` reads its Sobel taps as int32 (OpenCV's CV_16S derivative is
integer arithmetic: fractional taps are truncated toward zero). ``MedianBlur`` has no weights.

One rule for arguments
----------------------
A layer refuses, with a ``TypeError`` naming the layer, the argument and why, every argument it
would not use, including those a parent class takes (``BoxFilter`` is a separable filter but has
no ``scale``; ``Gabor`` is a ``Filter2D`` built from Gabor parameters, not from a ``kernel``).
A class declares them in two class attributes, merged along the class hierarchy and checked in
one place (:class:`_Arguments`, before any constructor runs):

``_refused_args: dict[str, str]``
    argument name -> why the layer does not take it (shown in the message).
``_fixed_args: dict[str, tuple[tuple, str]]``
    argument name -> (the values accepted, why): an argument the class sets itself (Scharr's
    ``ksize`` is -1, Erode's ``op`` is ``"erode"``). Passing one of the accepted values is
    allowed (it is removed before the constructor runs: the class supplies it), any other value
    is refused.

``get_config`` of every class emits only what its constructor takes, so ``from_config``
round trips and ``.keras`` files keep working.

Output dtypes (``output_dtype=``): OpenCV's ``ddepth``
------------------------------------------------------
Every :class:`FixedFilter` takes ``output_dtype`` (``None``, ``"uint8"``, ``"int16"``,
``"uint16"``, ``"float32"``, ``"float64"``; see :mod:`fixedfilters.exact`). ``None`` is the
behaviour from before: the layer's compute dtype (float32, or float64 under ``dtype="float64"``).
Otherwise the layer returns what the OpenCV call with the matching ``ddepth`` returns for the
*raw* input (uint8 stays uint8 until the filter has run), bit for bit for integer outputs.

How a subclass takes part (two hooks, both optional; the base does the rest):

``_output_dtypes(self, input_dtype) -> tuple[str, ...]``
    The output dtypes OpenCV accepts for this call on an input of ``input_dtype`` (a Keras dtype
    name: ``"uint8"``, ``"uint16"``, ``"int16"``, ``"float32"``, ...). Check each combination
    against ``cv2`` itself. The default accepts none, so a layer that has not opted in raises a
    clear ``ValueError`` for any ``output_dtype`` other than ``None``. :data:`SAME_DEPTH` is the
    table of a call whose output depth is its input depth (``cv2.GaussianBlur``, ``ddepth=-1``).
``_filter_exact(self, x, output_dtype)``
    Called with the raw input ``x`` (not cast) when ``output_dtype`` is an integer dtype. The
    default computes ``self._filter`` in float32 (float64 for a float64 input) and applies
    :func:`fixedfilters.exact.saturate_cast` (round half to even, clamp: OpenCV's
    ``saturate_cast``). That is exact whenever the float result is (integer or dyadic taps, small
    sums); override it where OpenCV does something else (fixed point, an intermediate saturated to
    int16, a float32 ``fma`` in ``convertTo``, the scale folded into a tap, ...).

Float outputs (``"float32"``/``"float64"``) run ``self._filter`` on the input cast to that dtype
(OpenCV computes ``ddepth=CV_64F`` in double) and keep their gradients. Integer outputs carry
no gradient: TensorFlow returns ``None`` for a gradient through them and ``jax.grad`` refuses
them; they are not a training path (document it in the layer's docstring). The check runs at
call time, where the input dtype is known: a ``ValueError`` names the layer, the input dtype and
what is allowed. ``output_dtype`` is in ``get_config``; the taps stay fixed weights, and an exact
path must derive everything it applies from them (``set_weights`` still changes the output).
"""

from __future__ import annotations

import numpy as np
from keras import KerasTensor, backend, dtype_policies, ops
from keras.backend import standardize_dtype
from keras.config import image_data_format
from keras.layers import Layer

from fixedfilters.borders import normalize_border
from fixedfilters.exact import check_output_dtype, is_integer_dtype, saturate_cast
from fixedfilters.kernels import _check_finite as check_real
from fixedfilters.ops import filter_method, spatial_axes

__all__ = [
    "follow_taps",
    "taps_equal",
    "FixedLayer",
    "FixedFilter",
    "SAME_DEPTH",
    "check_real",
    "check_data_format",
    "check_input_shape",
]

SAME_DEPTH = {d: (d,) for d in ("uint8", "uint16", "int16", "float32", "float64")}
"""``_output_dtypes`` table of a call whose output depth equals the input depth (``ddepth=-1``)."""


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


def _same_value(value: object, allowed: object) -> bool:
    """``value`` is ``allowed`` (``None``/bools by identity, so ``0 != False != None``)."""
    if value is None or allowed is None or isinstance(value, bool) or isinstance(allowed, bool):
        return value is allowed
    if isinstance(value, str) != isinstance(allowed, str):
        return False
    try:
        same = value == allowed
    except Exception:  # noqa: BLE001 - an odd object never equals a fixed value
        return False
    return same if isinstance(same, bool) else False


def _merged(cls: type, attribute: str) -> dict:
    """``attribute`` (a dict) merged along ``cls``'s MRO, the subclass's entries winning."""
    table: dict = {}
    for klass in reversed(cls.__mro__):
        table.update(vars(klass).get(attribute, {}))
    return table


class _Arguments(type(Layer)):
    """Metaclass of :class:`FixedLayer`: the one place arguments a layer does not use are
    refused, before ``__new__``/``__init__`` see them (see the module docstring)."""

    def __call__(cls, *args, **kwargs):
        fixed = _merged(cls, "_fixed_args")
        for name, reason in _merged(cls, "_refused_args").items():
            if name in kwargs and name not in fixed:
                raise TypeError(
                    f"{cls.__name__} has no {name!r} argument: {reason}. "
                    f"Received: {name}={kwargs[name]!r}"
                )
        for name, (values, reason) in fixed.items():
            if name not in kwargs:
                continue
            if not any(_same_value(kwargs[name], v) for v in values):
                shown = " or ".join(f"{name}={v!r}" for v in values)
                raise TypeError(
                    f"{cls.__name__} takes no {name!r} argument other than {shown}: {reason}. "
                    f"Received: {name}={kwargs[name]!r}"
                )
            del kwargs[name]  # the class sets it itself
        return super().__call__(*args, **kwargs)


def taps_equal(weights, taps):
    """A boolean scalar tensor: every weight equals its taps (NumPy arrays, same shapes)."""
    same = None
    for w, t in zip(weights, taps, strict=True):
        t = ops.convert_to_tensor(np.asarray(t, np.float64).astype(standardize_dtype(w.dtype)))
        eq = ops.all(ops.equal(w, t))
        same = eq if same is None else ops.logical_and(same, eq)
    return same


def follow_taps(same, exact, general):
    """``exact()`` if the boolean scalar ``same`` holds, else ``general()``.

    ``same`` is computed from the weights at call time (e.g. :func:`taps_equal`). Eager
    (TensorFlow eager, JAX outside a trace) it is decided at once and only one function runs;
    in a graph or a trace (``tf.function``, XLA, ``jax.jit``) it is an ``ops.cond``, so the
    branch follows a ``set_weights`` made after tracing. Both functions return tensors of one
    shape and dtype.
    """
    concrete = _concrete_bool(same)
    if concrete is not None:
        return exact() if concrete else general()
    return ops.cond(same, exact, general)


def _concrete_bool(t):
    """``bool(t)`` when ``t`` holds a value now, else None (a graph or a trace)."""
    name = backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        return bool(t.numpy()) if tf.executing_eagerly() else None
    if name == "jax":
        import jax

        return None if isinstance(t, jax.core.Tracer) else bool(t)
    return None


class FixedLayer(Layer, metaclass=_Arguments):
    """A layer that is never trainable: ``trainable`` reads ``False`` and ignores assignment.

    ``trainable=True`` in the constructor is an error; ``layer.trainable = True`` (directly or
    through ``model.trainable = True``) is ignored, so the fine-tuning idiom cannot unfreeze it.
    Under a mixed dtype policy the layer computes in the policy's variable dtype (float32).
    Arguments the layer does not use are refused (``_refused_args``/``_fixed_args``; see the
    module docstring).
    """

    _refused_args: dict[str, str] = {}
    _fixed_args: dict[str, tuple[tuple, str]] = {}

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
    ``output_dtype`` (default ``None``: the compute dtype) selects OpenCV's ``ddepth``; see the
    module docstring for the two hooks (``_output_dtypes``, ``_filter_exact``) a subclass uses.
    Integer outputs carry no gradient.
    """

    def __init__(
        self,
        *,
        border: str = "reflect_101",
        border_value: float = 0.0,
        data_format: str | None = None,
        output_dtype: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.border = normalize_border(border)
        self.border_value = check_real("border_value", border_value)
        self.data_format = check_data_format(data_format)
        self.output_dtype = check_output_dtype(output_dtype)
        if self.output_dtype is not None:
            # OpenCV's answer depends on the input depth: keep float64 inputs float64 (Keras
            # would cast floating inputs to the compute dtype before `call`).
            self.autocast = False

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
        out_dtype = self.output_dtype
        if out_dtype is not None:
            self._check_output_dtype(dtype)
        if out_dtype is None:
            work = self.compute_dtype
        elif is_integer_dtype(out_dtype):
            work = dtype  # the exact path reads the raw input
        else:
            work = out_dtype  # ddepth=CV_32F/CV_64F: OpenCV computes in that precision
        if dtype != work:
            x = ops.cast(x, work)
        if x.shape[0] == 0:
            # An empty batch: nothing to filter. (TensorFlow's oneDNN convolutions would hand
            # back their padded input, (0, H + 2r, W + 2r, C), instead.)
            return ops.zeros_like(x, dtype=out_dtype or work)
        if backend.backend() == "tensorflow" and None in tuple(x.shape)[1:]:
            x = _assert_nonempty_tf(x, self.data_format, type(self).__name__)
        if out_dtype is not None and is_integer_dtype(out_dtype):
            return self._filter_exact(x, out_dtype)
        return self._filter(x)

    def _filter(self, x):
        raise NotImplementedError

    def _compute_path(self, x) -> str:
        """``"stencil"`` or ``"conv"`` (:func:`fixedfilters.ops.filter_method`) for ``x``: from
        the shape the layer was built with, so eager calls, ``tf.function``, ``predict`` and an
        export run the same arithmetic; ``"conv"`` whenever ``x``'s height or width is unknown
        (a layer built on static sizes and then traced without them: the stencil needs them).
        The one place every family decides its path."""
        h_axis, w_axis = spatial_axes(self.data_format)
        if len(x.shape) == 4 and None in (x.shape[h_axis], x.shape[w_axis]):
            return "conv"
        built_shape = (self.get_build_config() or {}).get("input_shape")
        return filter_method(built_shape or x, self.data_format)

    # -- output dtypes (OpenCV's ddepth) -------------------------------------------------------
    def _output_dtypes(self, input_dtype: str) -> tuple[str, ...]:
        """Output dtypes OpenCV accepts for this call on ``input_dtype`` (default: none)."""
        return ()

    def _check_output_dtype(self, input_dtype: str) -> None:
        allowed = tuple(self._output_dtypes(input_dtype))
        if self.output_dtype not in allowed:
            what = f"one of {allowed}" if allowed else f"no output_dtype for {input_dtype} input"
            raise ValueError(
                f"{type(self).__name__}: output_dtype={self.output_dtype!r} is not available for "
                f"input dtype {input_dtype}; OpenCV accepts {what} (or None for the float "
                f"result). Received: output_dtype={self.output_dtype!r}, input "
                f"dtype={input_dtype}"
            )

    def _float_dtype_for(self, x) -> str:
        """float64 for a float64 input, else float32 (OpenCV's working depth for 8/16-bit)."""
        return "float64" if standardize_dtype(x.dtype) == "float64" else "float32"

    def _filter_exact(self, x, output_dtype: str):
        """The integer result (``output_dtype``) from the raw input ``x``.

        Default: ``saturate_cast(self._filter(x as float32), output_dtype)`` (float64 for a
        float64 input): exact whenever the float result is exact.
        """
        v = self._filter(ops.cast(x, self._float_dtype_for(x)))
        return saturate_cast(v, output_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        spec = super().compute_output_spec(inputs)
        if self.output_dtype is None:
            return spec
        return KerasTensor(spec.shape, dtype=self.output_dtype)

    @property
    def _common(self) -> dict:
        return dict(
            border=self.border, border_value=self.border_value, data_format=self.data_format
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            border=self.border,
            border_value=self.border_value,
            data_format=self.data_format,
            output_dtype=self.output_dtype,
        )
        return config
