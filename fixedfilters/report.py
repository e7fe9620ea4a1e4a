"""What is a non-trainable parameter? One row per weight, with the answer for that weight.

Keras splits its parameters into "trainable" and "non-trainable", but three different things
hide behind "non-trainable", and they behave very differently when you call ``fit``.
:func:`weight_report` gives every weight of a model exactly one of four kinds:

``"trainable"``
    Updated by the optimizer at the next ``fit``: the variable is trainable and so is the
    model (these are exactly ``model.trainable_weights``).
``"frozen"``
    Would be trained, but a ``trainable`` flag on its layer or on a parent is off. A user's
    choice, and reversible: ``model.trainable = True`` (or :func:`fixedfilters.set_trainable`)
    makes it train again. A frozen layer's statistics are frozen too: Keras runs a
    ``BatchNormalization`` with ``trainable=False`` in inference mode, so its moving mean and
    variance stop updating.
``"fixed"``
    The taps of a fixedfilters layer (any weight of a :class:`~fixedfilters.FixedLayer` or of a
    layer inside one). Never trained, whatever flag is set: fixed by design.
``"statistic"``
    Non-trainable state that changes during training without gradients, such as
    ``BatchNormalization``'s moving mean and variance (in Keras's own example, 20 of a
    ``BatchNormalization`` layer's 40 parameters). Any other weight created with
    ``trainable=False`` outside a fixed layer is counted here too (e.g. ``Normalization``'s
    mean and variance, set by ``adapt()``).

Only ``layer.weights`` are reported, as ``model.count_params()`` counts them (random seeds and
metric state are not parameters), so the four totals always sum to ``model.count_params()``;
``totals["trainable"]`` is Keras's "Trainable params" and the other three split its
"Non-trainable params". Nested models and layers holding sub-layers are walked; a shared
layer's weights are reported once.

>>> import keras, fixedfilters as ff
>>> model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(10, trainable=False)])
>>> ff.weight_report(model).totals
{'trainable': 0, 'frozen': 1010, 'fixed': 0, 'statistic': 0}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

import keras

from fixedfilters.layers.base import FixedLayer

__all__ = ["KINDS", "WeightRow", "WeightReport", "weight_report", "summary"]

#: The four kinds of parameter, in report order.
KINDS: tuple[str, ...] = ("trainable", "frozen", "fixed", "statistic")

_LEGEND = (
    "Kinds: trainable = updated by the next fit; frozen = a trainable flag is off (reversible);\n"
    "       fixed = fixedfilters taps, never trained; statistic = updated without gradients\n"
    "       (e.g. BatchNormalization's moving mean and variance)."
)


class WeightRow(NamedTuple):
    """One weight of a model: where it lives, its size and its kind (one of :data:`KINDS`)."""

    layer: str
    """Name of the layer that owns the weight."""
    path: str
    """The variable's path, e.g. ``"sequential/dense/kernel"``."""
    shape: tuple[int, ...]
    count: int
    """Number of scalars (``prod(shape)``)."""
    kind: str
    layer_class: str
    """Class name of the owning layer."""


class WeightReport:
    """The per-weight breakdown returned by :func:`weight_report`.

    ``rows`` lists one :class:`WeightRow` per weight (in ``model.weights`` order), ``totals``
    maps each kind (always all four, in the order of :data:`KINDS`) to its parameter count and
    ``total`` is their sum (``model.count_params()``). ``str(report)`` is an aligned table.
    """

    def __init__(self, rows: list[WeightRow], name: str = "model"):
        self.rows = list(rows)
        self.name = name
        self.totals: dict[str, int] = {kind: 0 for kind in KINDS}
        for row in self.rows:
            self.totals[row.kind] += row.count

    @property
    def total(self) -> int:
        """Sum of all parameters (equals ``model.count_params()``)."""
        return sum(self.totals.values())

    def by_kind(self, kind: str) -> list[WeightRow]:
        """The rows of one kind."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}. Received: kind={kind!r}")
        return [row for row in self.rows if row.kind == kind]

    def to_dict(self) -> dict:
        """A JSON-friendly dict: ``{"model", "rows": [...], "totals": {...}, "total"}``."""
        return {
            "model": self.name,
            "rows": [
                {**row._asdict(), "shape": list(row.shape)}  # lists for JSON
                for row in self.rows
            ],
            "totals": dict(self.totals),
            "total": self.total,
        }

    def __iter__(self) -> Iterator[WeightRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{kind}={count:,}" for kind, count in self.totals.items())
        return f"<WeightReport {self.name!r}: {len(self.rows)} weights, {parts}>"

    def __str__(self) -> str:
        header = ("Layer", "Weight", "Shape", "Params", "Kind")
        body = [
            (
                f"{row.layer} ({row.layer_class})",
                row.path,
                str(row.shape),
                f"{row.count:,}",
                row.kind,
            )
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        right = {3}  # numbers right-aligned

        def line(cells) -> str:
            out = [
                cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                for i, cell in enumerate(cells)
            ]
            return "  ".join(out).rstrip()

        rule = "-" * len(line(["-" * w for w in widths]))
        lines = [f"Weight report: {self.name!r}", rule, line(header), rule]
        lines += [line(r) for r in body] if body else ["(no weights)"]
        lines.append(rule)
        total = self.total
        for kind, count in self.totals.items():
            share = f"{100.0 * count / total:5.1f}%" if total else "  -"
            lines.append(f"  {kind:<10} {count:>12,}  {share}")
        lines.append(f"  {'total':<10} {total:>12,}")
        lines.append(_LEGEND)
        return "\n".join(lines)


def _own_weights(layer) -> list:
    """The weights a layer holds itself (not those of its sub-layers), de-duplicated."""
    seen, out = set(), []
    for v in list(layer._trainable_variables) + list(layer._non_trainable_variables):
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _walk(layer, ancestors: tuple = (), seen_layers: set | None = None):
    """Yield ``(variable, owner, ancestors)`` depth-first, in the order of ``layer.weights``."""
    if seen_layers is None:
        seen_layers = set()
    if id(layer) in seen_layers:
        return
    seen_layers.add(id(layer))
    for v in _own_weights(layer):
        yield v, layer, ancestors
    for sub in layer._layers:
        yield from _walk(sub, (*ancestors, layer), seen_layers)


def _check_layer(model: object, argument: str = "model") -> None:
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"{argument} must be a keras Model or Layer. Received: {argument}={model!r} "
            f"of type {type(model).__name__}"
        )


def _classify(model) -> list[tuple[object, object, str]]:
    """``(variable, owner layer, kind)`` for every weight of ``model``, each exactly once."""
    trainable_ids = {id(v) for v in model.trainable_weights}
    out, seen = [], set()
    for v, owner, ancestors in _walk(model):
        if id(v) in seen:
            continue
        seen.add(id(v))
        chain = (*ancestors, owner)
        created_trainable = any(v is w for w in owner._trainable_variables)
        if any(isinstance(layer, FixedLayer) for layer in chain):
            kind = "fixed"
        elif id(v) in trainable_ids:
            kind = "trainable"
        elif created_trainable or not all(layer.trainable for layer in chain):
            kind = "frozen"
        else:
            kind = "statistic"
        out.append((v, owner, kind))
    # Anything Keras counts that the walk missed (should not happen): attribute to the model.
    for v in model.weights:
        if id(v) not in seen:
            seen.add(id(v))
            kind = "trainable" if id(v) in trainable_ids else "statistic"
            out.append((v, model, kind))
    return out


def weight_report(model: keras.layers.Layer) -> WeightReport:
    """One row per weight of ``model`` (layer, path, shape, count, kind) and totals per kind.

    ``kind`` is ``"trainable"``, ``"frozen"``, ``"fixed"`` or ``"statistic"`` (see the module
    docstring). ``report.totals`` always holds all four kinds and sums to
    ``model.count_params()``; ``str(report)`` is a readable table. Nested models and layers
    that hold sub-layers are walked. The model must be built.

    >>> import keras, fixedfilters as ff
    >>> model = keras.Sequential(
    ...     [keras.Input((100,)), keras.layers.Dense(10), keras.layers.BatchNormalization()]
    ... )
    >>> ff.weight_report(model).totals
    {'trainable': 1030, 'frozen': 0, 'fixed': 0, 'statistic': 20}
    """
    _check_layer(model)
    if not model.built:
        raise ValueError(
            f"weight_report needs a built model, but {model.name!r} is not built yet (its "
            "weights do not exist). Give it an input shape (keras.Input(...)), call it on a "
            "batch, or call model.build(input_shape) first."
        )
    rows = [
        WeightRow(
            layer=owner.name,
            path=str(getattr(v, "path", v.name)),
            shape=tuple(int(d) for d in v.shape),
            count=int(math.prod(v.shape)),
            kind=kind,
            layer_class=type(owner).__name__,
        )
        for v, owner, kind in _classify(model)
    ]
    return WeightReport(rows, name=model.name)


def summary(
    model: keras.layers.Layer,
    *,
    print_fn: Callable[..., object] | None = None,
    **kwargs,
) -> WeightReport:
    """Print Keras's ``model.summary()`` followed by the :func:`weight_report` breakdown.

    ``kwargs`` go to ``model.summary`` (``line_length``, ``expand_nested``, ...); ``print_fn``
    (default :func:`print`) receives both. Returns the report.

    >>> import keras, fixedfilters as ff
    >>> model = keras.Sequential([keras.Input((32, 32, 1)), ff.edge_stem()])
    >>> report = ff.summary(model, print_fn=lambda *a, **k: None)
    >>> report.totals["fixed"] == model.count_params()
    True
    """
    report = weight_report(model)
    if hasattr(model, "summary"):
        model.summary(print_fn=print_fn, **kwargs)
    (print_fn or print)(str(report))
    return report
