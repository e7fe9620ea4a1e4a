"""Transfer learning safely: ``FreezeGuard`` (a callback) and ``set_trainable``.

Keras has two traps that silently break a transfer-learning pipeline:

* **The stale compile.** Keras builds the train step once per ``compile()``: the first
  ``fit()`` traces it with the variables trainable *then*. Freeze a layer after a ``fit()`` and
  the next ``fit()`` still trains it (unfreeze one and it stays frozen) until ``compile()`` is
  called again. Keras 3 documents this, but says nothing when it happens.
* **The propagating flag.** ``model.trainable = True`` (the fine-tuning idiom) sets the flag on
  every layer below, re-enabling a plain ``Conv2D(trainable=False)``. The fixedfilters layers
  ignore it (their taps are fixed by design), but nothing else does.

:class:`FreezeGuard` turns the first trap into an error at the start of ``fit`` and checks,
at the end of every epoch, that every fixed tap is bit-identical to its value at the start.
:func:`set_trainable` changes flags on the layers you choose (never on fixed layers) and
recompiles with the model's own compile configuration, so the change takes effect.

>>> import keras, numpy as np, fixedfilters as ff
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="body"),
...                           keras.layers.Dense(1, name="head")])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x, y = np.ones((8, 4)), np.ones((8, 1))
>>> _ = model.fit(x, y, verbose=0, callbacks=[ff.FreezeGuard()])
>>> ff.set_trainable(model, False, layers="body")
[TrainableChange(layer='body', old=True, new=False)]
>>> _ = model.fit(x, y, verbose=0, callbacks=[ff.FreezeGuard()])  # recompiled: passes
"""

from __future__ import annotations

import fnmatch
import inspect
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import keras
import numpy as np

from fixedfilters.layers.base import FixedLayer
from fixedfilters.report import _check_layer, _classify

__all__ = [
    "FreezeGuard",
    "StaleCompileError",
    "StaleCompileWarning",
    "FixedWeightChangedError",
    "TrainableChange",
    "TrainableChanges",
    "set_trainable",
]

_RECOMPILE_HINT = (
    "Call model.compile(...) again after changing `trainable` flags (or change them with "
    "fixedfilters.set_trainable(model, ...), which recompiles for you)."
)


class StaleCompileError(RuntimeError):
    """``fit`` would run a train step built for other ``trainable`` flags than the current ones."""


class StaleCompileWarning(UserWarning):
    """Warning form of :class:`StaleCompileError` (``FreezeGuard(on_stale="warn")``)."""


class FixedWeightChangedError(RuntimeError):
    """A fixed weight (fixedfilters taps) is no longer bit-identical to its value at the start."""


# --------------------------------------------------------------------------------------------
# What the compiled train step updates
# --------------------------------------------------------------------------------------------


class _StepRecord(NamedTuple):
    """What a traced train step was built for: its function, the variables it updates and the
    ``trainable`` flags of the layers whose statistics it updates."""

    function: weakref.ref
    variables: frozenset[int]
    stat_flags: tuple[tuple[int, bool], ...]


# model -> the _StepRecord of its current train function (weak: records die with the model).
_RECORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trainable_ids(model) -> frozenset[int]:
    return frozenset(id(v) for v in model.trainable_weights)


def _stat_flags(model) -> tuple[tuple[int, bool], ...]:
    """``(id(layer), layer.trainable)`` of every non-fixed layer that owns a statistic."""
    out = {}
    for v, owner, kind in _classify(model):
        if kind in ("statistic", "frozen") and not any(v is w for w in owner._trainable_variables):
            out[id(owner)] = bool(owner.trainable)
    return tuple(sorted(out.items()))


def _is_traced(function) -> bool | None:
    """Whether a TF train function has been traced (``None``: cannot tell, e.g. eager mode).

    Keras's TF trainer wraps its ``tf.function`` in a plain closure; the traced graph bakes in
    ``model.trainable_weights`` as they were at the first call.
    """
    found = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            obj = cell.cell_contents
        except ValueError:  # empty cell
            continue
        counter = getattr(obj, "experimental_get_tracing_count", None)
        if callable(counter):
            found.append(int(counter()))
    if not found:
        return None
    return any(found)


def _optimizer_variables(optimizer) -> list | None:
    """The variables an optimizer was built for (``None`` if it is not built)."""
    for opt in (optimizer, getattr(optimizer, "inner_optimizer", None)):
        if opt is not None and getattr(opt, "built", False):
            variables = getattr(opt, "_trainable_variables", None)
            if variables is not None:
                return list(variables)
    return None


def _describe(model, ids: Iterable[int]) -> str:
    """``"layer (path, path)"`` groups for the given variable ids."""
    wanted = set(ids)
    groups: dict[str, list[str]] = {}
    for v, owner, _ in _classify(model):
        if id(v) in wanted:
            groups.setdefault(owner.name, []).append(str(getattr(v, "path", v.name)))
    return "; ".join(f"{name} ({', '.join(paths)})" for name, paths in groups.items())


def _check_optimizer(model, current: frozenset[int]) -> str | None:
    """A message if the (already built) optimizer cannot update some trainable variable."""
    built_for = _optimizer_variables(getattr(model, "optimizer", None))
    if built_for is None:
        return None
    unknown = current - {id(v) for v in built_for}
    if not unknown:
        return None
    return (
        f"The optimizer of model {model.name!r} was built for other variables than the ones "
        "now trainable (the same optimizer instance was passed to compile() again), so it "
        f"cannot update: {_describe(model, unknown)}. Pass a new optimizer instance to "
        "model.compile(...), or use fixedfilters.set_trainable(model, ...), which recompiles "
        "with a fresh optimizer of the same configuration."
    )


_FRESH = "fresh"


def _built_for(model, function_before_fit: object):
    """What the train step about to run was built for.

    Returns ``_FRESH`` (it is built now, for the current flags), ``None`` (unknown) or a
    ``(variables, stat_flags, how)`` triple (``stat_flags`` may be ``None``: unknown).

    ``function_before_fit`` is ``model.train_function`` as it was before ``fit`` made one
    (``None`` after ``compile()``). A train step is fresh when it did not exist before or has
    not been traced yet (eager steps read the flags at every step). An existing, traced one was
    built for the variables a FreezeGuard recorded for it, or, without a record, for the
    variables the optimizer was built with: Keras builds the optimizer with
    ``model.trainable_variables`` in the first ``fit`` after ``compile()``, just before the
    first trace.
    """
    function = getattr(model, "train_function", None)
    if (
        function is None
        or function_before_fit is None
        or function is not function_before_fit
        or bool(getattr(model, "run_eagerly", False))
        or _is_traced(function) is False
    ):
        return _FRESH
    record = _RECORDS.get(model)
    if record is not None and record.function() is function:
        return record.variables, record.stat_flags, "as recorded by FreezeGuard"
    built_for = _optimizer_variables(getattr(model, "optimizer", None))
    if built_for is not None:
        return (
            frozenset(id(v) for v in built_for),
            None,
            "judging by the variables its optimizer was built for",
        )
    return None


def _stale_message(model, built) -> str | None:
    """The error message if the train step described by ``built`` is stale, else ``None``."""
    current = _trainable_ids(model)
    if built is _FRESH:
        return _check_optimizer(model, current)
    if built is None:
        return None
    captured, stat_flags, how = built
    if captured != current:
        lines = [
            f"The `trainable` flags of model {model.name!r} changed since its train step was "
            f"built ({how}), and Keras does not notice: until compile() is called again, fit() "
            "keeps training the old set of variables."
        ]
        gone, new = captured - current, current - captured
        if gone:
            lines.append(
                f"Frozen since, but still updated by the old train step: {_describe(model, gone)}."
            )
        if new:
            lines.append(
                f"Made trainable since, but ignored by the old train step: {_describe(model, new)}."
            )
        lines.append(_RECOMPILE_HINT)
        return "\n".join(lines)
    if stat_flags is not None and stat_flags != _stat_flags(model):
        return (
            f"The `trainable` flag of a layer of model {model.name!r} that holds statistics "
            "(e.g. BatchNormalization's moving mean and variance) changed since its train step "
            "was built; the old step still updates them (or still does not).\n" + _RECOMPILE_HINT
        )
    return None


def _stale_check(model, function_before_fit: object) -> str | None:
    """A message if the train step ``fit`` is about to run was built for other flags."""
    return _stale_message(model, _built_for(model, function_before_fit))


def _record(model, built=_FRESH) -> None:
    """Remember what the current train function updates (the current flags if fresh)."""
    function = getattr(model, "train_function", None)
    if function is None or built is None:
        return
    if built is _FRESH:
        variables, stat_flags = _trainable_ids(model), _stat_flags(model)
    else:
        variables, stat_flags, _ = built
        if stat_flags is None:
            stat_flags = _stat_flags(model)
    try:
        _RECORDS[model] = _StepRecord(weakref.ref(function), variables, stat_flags)
    except TypeError:  # not weak-referenceable: no record, the optimizer fallback remains
        pass


# --------------------------------------------------------------------------------------------
# FreezeGuard
# --------------------------------------------------------------------------------------------


class FreezeGuard(keras.callbacks.Callback):
    """A callback that makes ``fit`` fail loudly instead of training the wrong weights.

    * **At the start of ``fit``** (and of every epoch) it checks that the train step about to
      run was built for the current ``trainable`` flags. Keras builds the train step once per
      ``compile()``, so a layer frozen after a ``fit()`` keeps training (and one unfrozen stays
      frozen) until ``compile()`` is called again. On such a stale step it raises
      :class:`StaleCompileError` telling you to call ``compile()`` again (``on_stale="warn"``:
      a :class:`StaleCompileWarning` instead). A first ``fit`` after ``compile()`` always
      passes.
    * **At the end of every epoch** (``check_fixed=True``) it compares every fixed weight (the
      taps of the fixedfilters layers) bit for bit with its value at the start of ``fit`` and
      raises :class:`FixedWeightChangedError` naming the layer and weight if one changed.

    >>> import keras, numpy as np, fixedfilters as ff
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), ff.Sobel(1, 0), keras.layers.Flatten(),
    ...                           keras.layers.Dense(1, name="head")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((4, 8, 8, 1)), np.ones((4, 1))
    >>> _ = model.fit(x, y, verbose=0, callbacks=[ff.FreezeGuard()])
    >>> model.get_layer("head").trainable = False          # no compile() afterwards
    >>> model.fit(x, y, verbose=0, callbacks=[ff.FreezeGuard()])
    Traceback (most recent call last):
    ...
    fixedfilters.training.StaleCompileError: The `trainable` flags of model ...
    """

    def __init__(self, *, on_stale: str = "raise", check_fixed: bool = True):
        super().__init__()
        if on_stale not in ("raise", "warn"):
            raise ValueError(f"on_stale must be 'raise' or 'warn'. Received: on_stale={on_stale!r}")
        if not isinstance(check_fixed, (bool, np.bool_)):
            raise TypeError(f"check_fixed must be a bool. Received: check_fixed={check_fixed!r}")
        self.on_stale = on_stale
        self.check_fixed = bool(check_fixed)
        self._function_before_fit = None
        self._warned = False
        self._snapshot: dict[int, tuple[str, str, object, np.ndarray]] = {}

    # Keras calls set_model when fit() creates its callback list, *before* it makes the train
    # function: what we see here tells whether fit() reuses an old train step.
    def set_model(self, model) -> None:
        super().set_model(model)
        self._function_before_fit = getattr(model, "train_function", None)

    def _stale(self, message: str | None) -> None:
        if message is None:
            return
        if self.on_stale == "raise":
            raise StaleCompileError(message)
        if not self._warned:  # once per fit
            self._warned = True
            warnings.warn(message, StaleCompileWarning, stacklevel=3)

    def on_train_begin(self, logs=None) -> None:
        model = self.model
        self._warned = False
        built = _built_for(model, self._function_before_fit)
        self._stale(_stale_message(model, built))
        _record(model, built)
        self._function_before_fit = getattr(model, "train_function", None)
        self._snapshot = {}
        if self.check_fixed:
            self._snapshot = {
                id(v): (owner.name, str(getattr(v, "path", v.name)), v, _to_numpy(v))
                for v, owner, kind in _classify(model)
                if kind == "fixed"
            }

    def on_epoch_begin(self, epoch, logs=None) -> None:
        # Flags changed between epochs (by another callback) without
        # model.make_train_function(force=True) are stale too.
        model = self.model
        function = getattr(model, "train_function", None)
        built = _built_for(model, function)
        self._stale(_stale_message(model, built))
        _record(model, built)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.check_fixed:
            self.verify_fixed(epoch=epoch)

    def verify_fixed(self, *, epoch: int | None = None) -> None:
        """Raise :class:`FixedWeightChangedError` if a fixed weight differs from the snapshot.

        The snapshot is taken at the start of ``fit``; this runs at the end of every epoch.
        """
        for layer, path, variable, before in self._snapshot.values():
            now = _to_numpy(variable)
            if now.shape == before.shape and now.dtype == before.dtype:
                differ = ~_bit_equal(now, before)
                if not differ.any():
                    continue
                diff = np.max(np.abs(now.astype(np.float64) - before.astype(np.float64)))
                detail = (
                    f" ({int(differ.sum())} of {now.size} values differ; max |change| = {diff:.6g})"
                )
            else:
                detail = f" (was {before.dtype}{before.shape}, now {now.dtype}{now.shape})"
            when = f" during epoch {epoch + 1}" if epoch is not None else " since fit() began"
            raise FixedWeightChangedError(
                f"Fixed weight {path!r} of layer {layer!r} changed{when}{detail}. The taps of "
                "a fixedfilters layer are never trained: something assigned to them "
                "(set_weights, variable.assign, a callback or a custom train_step)."
            )


def _bit_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: are the bytes of ``a`` and ``b`` identical (NaN-safe)?"""
    width = a.dtype.itemsize
    return np.all(
        a.reshape(-1).view(np.uint8).reshape(-1, width)
        == b.reshape(-1).view(np.uint8).reshape(-1, width),
        axis=1,
    )


def _to_numpy(variable) -> np.ndarray:
    value = variable.numpy() if hasattr(variable, "numpy") else keras.ops.convert_to_numpy(variable)
    return np.array(value, copy=True)


# --------------------------------------------------------------------------------------------
# set_trainable
# --------------------------------------------------------------------------------------------


class TrainableChange(NamedTuple):
    """One layer whose ``trainable`` flag :func:`set_trainable` changed."""

    layer: str
    old: bool
    new: bool


class TrainableChanges(list):
    """The list of :class:`TrainableChange` returned by :func:`set_trainable`.

    ``recompiled`` tells whether the model was recompiled.
    """

    recompiled: bool = False

    def __str__(self) -> str:
        if not self:
            text = "no trainable flag changed"
        else:
            text = ", ".join(
                f"{c.layer}: {'trainable' if c.old else 'frozen'} -> "
                f"{'trainable' if c.new else 'frozen'}"
                for c in self
            )
        return text + (" (recompiled)" if self.recompiled else "")


_Selector = str | type | Callable[[keras.layers.Layer], bool] | keras.layers.Layer


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _names_hint(candidates: list) -> str:
    names = [layer.name for layer in candidates]
    shown = ", ".join(repr(n) for n in names[:40])
    return shown + (f", ... ({len(names)} layers)" if len(names) > 40 else "")


def _select(model, layers: object, trainable: bool) -> list:
    """The layers chosen by ``layers`` (without fixed layers), in model order."""
    candidates = [
        layer for layer in _all_layers(model)[1:] if not isinstance(layer, keras.layers.InputLayer)
    ]
    if isinstance(layers, (str, type, keras.layers.Layer)) or callable(layers):
        selectors = [layers]
    elif isinstance(layers, Iterable) and not isinstance(layers, (bytes, Mapping)):
        selectors = list(layers)
        if not selectors:
            raise ValueError(
                "layers must name at least one layer (or be None for all layers). "
                "Received: layers=[]"
            )
    else:
        raise TypeError(
            "layers must be None, a layer name or glob pattern, a layer class, a layer, a "
            f"predicate (callable), or a list of these. Received: layers={layers!r}"
        )

    chosen: dict[int, object] = {}
    for sel in selectors:
        if isinstance(sel, str):
            if _is_glob(sel):
                hits = [lay for lay in candidates if fnmatch.fnmatchcase(lay.name, sel)]
                what = f"glob pattern {sel!r}"
            else:
                hits = [lay for lay in candidates if lay.name == sel]
                what = f"name {sel!r}"
                _refuse_fixed(hits, trainable, f"layers={sel!r}")
            if not hits:
                raise ValueError(
                    f"layers: the {what} matches no layer of model {model.name!r}. "
                    f"Available layer names: {_names_hint(candidates)}"
                )
        elif isinstance(sel, type):
            if not issubclass(sel, keras.layers.Layer):
                raise TypeError(
                    f"a class in layers must be a keras Layer subclass. Received: layers={sel!r}"
                )
            hits = [lay for lay in candidates if isinstance(lay, sel)]
            if not hits:
                raise ValueError(
                    f"layers: model {model.name!r} has no layer of class {sel.__name__}. "
                    f"Available layer names: {_names_hint(candidates)}"
                )
        elif isinstance(sel, keras.layers.Layer):
            hits = [lay for lay in candidates if lay is sel]
            if not hits:
                raise ValueError(f"layers: layer {sel.name!r} is not part of model {model.name!r}.")
            _refuse_fixed(hits, trainable, f"layers={sel.name!r}")
        elif callable(sel):
            hits = []
            for lay in candidates:
                answer = sel(lay)
                if not isinstance(answer, (bool, np.bool_)):
                    raise TypeError(
                        "a predicate in layers must return a bool. Received: "
                        f"{answer!r} for layer {lay.name!r}"
                    )
                if answer:
                    hits.append(lay)
        else:
            raise TypeError(
                "each entry of layers must be a layer name or glob pattern, a layer class, a "
                f"layer, or a predicate (callable). Received: {sel!r} of type "
                f"{type(sel).__name__}"
            )
        for lay in hits:
            chosen.setdefault(id(lay), lay)
    return [lay for lay in chosen.values() if not isinstance(lay, FixedLayer)]


def _refuse_fixed(hits: list, trainable: bool, argument: str) -> None:
    if trainable and hits and all(isinstance(lay, FixedLayer) for lay in hits):
        raise ValueError(
            f"{argument} is a fixedfilters layer ({type(hits[0]).__name__}); its taps are "
            "fixed by design and never trainable. For a convolution that starts from these "
            "taps and then trains, use keras.layers.Conv2D with an initializer from "
            "fixedfilters.initializers."
        )


def _all_layers(model) -> list:
    """The model and every layer inside it, once each, depth-first in model order."""
    out, seen = [], set()

    def visit(layer) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        out.append(layer)
        for sub in layer._layers:
            visit(sub)

    visit(model)
    return out


def _parents(model) -> dict[int, list]:
    """id(layer) -> the layers that hold it directly (several when shared)."""
    parents: dict[int, list] = {}
    seen = set()
    stack = [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        for sub in layer._layers:
            parents.setdefault(id(sub), []).append(layer)
            stack.append(sub)
    return parents


def _compile_arguments(model) -> set[str]:
    try:
        params = inspect.signature(model.compile).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, p in params.items() if p.kind is not p.VAR_KEYWORD}


def _fresh_optimizer(optimizer):
    """A new, unbuilt optimizer with the same configuration (learning rate included)."""
    try:
        return type(optimizer).from_config(optimizer.get_config())
    except Exception:  # noqa: BLE001 - fall back to Keras's own (de)serialization
        return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))


def _recompile(model, overrides: Mapping[str, object]) -> None:
    config = getattr(model, "_compile_config", None)
    if config is None:
        raise ValueError(
            f"model {model.name!r} was compiled without a recorded compile configuration; "
            "call set_trainable(..., recompile=False) and model.compile(...) yourself."
        )
    arguments = dict(getattr(config, "config", config))
    allowed = _compile_arguments(model)
    unknown = sorted(set(overrides) - allowed) if allowed else []
    if unknown:
        raise TypeError(
            f"recompile got arguments that model.compile() does not take: {unknown}. "
            f"Allowed: {sorted(allowed)}"
        )
    if "optimizer" not in overrides and getattr(model, "optimizer", None) is not None:
        arguments["optimizer"] = _fresh_optimizer(model.optimizer)
    arguments.update(overrides)
    if allowed:
        arguments = {k: v for k, v in arguments.items() if k in allowed}
    model.compile(**arguments)


def set_trainable(
    model: keras.Model,
    trainable: bool,
    *,
    layers: _Selector | Iterable[_Selector] | None = None,
    recompile: bool | Mapping[str, object] = True,
) -> TrainableChanges:
    """Freeze (``trainable=False``) or unfreeze layers, never fixed ones, and recompile.

    ``layers`` chooses the layers, nested ones included: ``None`` (all layers: the model's own
    flag), a layer name, a glob pattern on names (``"block2_*"``), a layer class
    (``keras.layers.Conv2D``: every instance), a layer, a predicate ``layer -> bool``, or a list
    mixing them. A name, pattern, class or layer that matches nothing is a ``ValueError``
    listing the available names. The flag propagates to the chosen layers' sub-layers, as
    Keras's ``layer.trainable = ...`` does. fixedfilters layers are never changed (naming one
    with ``trainable=True`` is a ``ValueError``). Unfreezing a nested layer also sets the own
    flag of the models that hold it, without touching their other layers.

    With ``recompile=True`` (default), a compiled model is recompiled with its existing
    compile configuration (loss, metrics, loss weights, ...) and a fresh optimizer of the same
    configuration (learning rate included), so that the change takes effect. ``recompile`` may
    be a mapping of ``compile()`` arguments that override the existing ones, e.g.
    ``recompile={"optimizer": keras.optimizers.Adam(1e-5)}`` to fine-tune with a low learning
    rate. Recompiling resets the optimizer's state.

    Returns the layers that hold weights and whose flag changed, in model order (a
    :class:`TrainableChanges` list of ``TrainableChange(layer, old, new)``, with
    ``.recompiled``); flags of weightless layers (pooling, activations) change too but change
    nothing.

    >>> import keras, fixedfilters as ff
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), ff.edge_stem(),
    ...                           keras.layers.Conv2D(2, 3, name="conv"), keras.layers.Flatten(),
    ...                           keras.layers.Dense(1, name="head")])
    >>> ff.set_trainable(model, False, layers=keras.layers.Conv2D)
    [TrainableChange(layer='conv', old=True, new=False)]
    >>> ff.weight_report(model).totals
    {'trainable': 73, 'frozen': 74, 'fixed': 42, 'statistic': 0}
    """
    _check_layer(model)
    if not isinstance(trainable, (bool, np.bool_)):
        raise TypeError(
            f"trainable must be True or False. Received: trainable={trainable!r} "
            f"of type {type(trainable).__name__}"
        )
    trainable = bool(trainable)
    if isinstance(recompile, Mapping):
        overrides = dict(recompile)
        if not all(isinstance(k, str) for k in overrides):
            raise TypeError(
                f"recompile keys must be compile() argument names. Received: {recompile!r}"
            )
    elif isinstance(recompile, (bool, np.bool_)):
        overrides = {} if recompile else None
    else:
        raise TypeError(
            "recompile must be True, False, or a mapping of compile() arguments. "
            f"Received: recompile={recompile!r}"
        )

    everything = _all_layers(model)
    before = {id(layer): bool(layer.trainable) for layer in everything}

    if layers is None:
        if not isinstance(model, FixedLayer):
            model.trainable = trainable  # propagates; fixed layers ignore it
    else:
        chosen = _select(model, layers, trainable)
        for layer in chosen:
            layer.trainable = trainable
        if trainable:
            # A trainable layer inside a frozen container: set the containers' own flags only,
            # so that their other layers stay as they are.
            parents = _parents(model)
            stack = [p for layer in chosen for p in parents.get(id(layer), [])]
            while stack:
                parent = stack.pop()
                if not isinstance(parent, FixedLayer) and not parent.trainable:
                    parent._trainable = True
                stack.extend(parents.get(id(parent), []))

    changes = TrainableChanges(
        TrainableChange(layer.name, before[id(layer)], bool(layer.trainable))
        for layer in everything
        if bool(layer.trainable) != before[id(layer)] and layer.weights  # weightless: no effect
    )
    if overrides is not None and getattr(model, "compiled", False):
        needed = bool(changes) or bool(overrides)
        if not needed:
            function = getattr(model, "train_function", None)
            needed = function is not None and _stale_check(model, function) is not None
        if needed:
            _recompile(model, overrides)
            changes.recompiled = True
    elif overrides:
        raise ValueError(
            f"recompile={recompile!r} asks to recompile with new arguments, but model "
            f"{model.name!r} has not been compiled yet: call model.compile(...) instead."
        )
    return changes
