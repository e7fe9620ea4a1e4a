"""weight_report / summary: the four kinds of parameter, with numbers Keras itself reports."""

from __future__ import annotations

import doctest
import json
import math

import keras
import numpy as np
import pytest

import fixedfilters
import fixedfilters as ff
from fixedfilters import report as report_module
from fixedfilters import training as training_module
from fixedfilters.report import KINDS, WeightReport, WeightRow, summary, weight_report

layers = keras.layers


def n_params(variables) -> int:
    return int(sum(math.prod(v.shape) for v in variables))


def check_consistent(model, report: WeightReport) -> None:
    """Totals sum to Keras's count; 'trainable' is exactly Keras's trainable weights."""
    assert list(report.totals) == list(KINDS)
    assert sum(report.totals.values()) == model.count_params() == report.total
    assert report.totals["trainable"] == n_params(model.trainable_weights)
    assert sum(report.totals[k] for k in ("frozen", "fixed", "statistic")) == n_params(
        model.non_trainable_weights
    )
    assert [row.path for row in report.rows] == [v.path for v in model.weights]
    assert len({row.path for row in report.rows}) == len(report.rows)


def by_path(report: WeightReport) -> dict[str, str]:
    return {row.path: row.kind for row in report.rows}


# -- Keras's own example (the transfer learning guide) -----------------------------------------


def test_keras_example_frozen_dense():
    model = keras.Sequential([keras.Input((100,)), layers.Dense(10, trainable=False)])
    report = weight_report(model)
    assert report.totals == {"trainable": 0, "frozen": 1010, "fixed": 0, "statistic": 0}
    check_consistent(model, report)


def test_keras_example_dense_made_trainable():
    model = keras.Sequential([keras.Input((100,)), layers.Dense(10, trainable=False)])
    model.layers[0].trainable = True
    report = weight_report(model)
    assert report.totals == {"trainable": 1010, "frozen": 0, "fixed": 0, "statistic": 0}
    check_consistent(model, report)


def test_keras_example_with_batch_normalization():
    model = keras.Sequential(
        [keras.Input((100,)), layers.Dense(10), layers.BatchNormalization(name="bn")]
    )
    report = weight_report(model)
    assert report.totals == {"trainable": 1030, "frozen": 0, "fixed": 0, "statistic": 20}
    check_consistent(model, report)
    kinds = {row.path.split("/")[-1]: row.kind for row in report.rows if row.layer == "bn"}
    assert kinds == {
        "gamma": "trainable",
        "beta": "trainable",
        "moving_mean": "statistic",
        "moving_variance": "statistic",
    }
    # Keras's own numbers: BN holds 40 parameters, 20 of them non-trainable
    bn = model.get_layer("bn")
    assert bn.count_params() == 40 and n_params(bn.non_trainable_weights) == 20


# -- every kind in one model -------------------------------------------------------------------


def mixed_model() -> keras.Model:
    inputs = keras.Input((12, 12, 1))
    x = ff.edge_stem()(inputs)  # 42 fixed taps
    x = layers.Conv2D(3, 3, trainable=False, name="frozen_conv")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="mixed")


def test_every_kind_present_and_totals_match_keras():
    model = mixed_model()
    report = weight_report(model)
    check_consistent(model, report)
    assert report.totals == {
        "trainable": 3 * 2 + 10 * 10 * 3 * 2 + 2,  # bn gamma/beta + head
        "frozen": 3 * 3 * 4 * 3 + 3,
        "fixed": 42,
        "statistic": 3 * 2,
    }
    assert all(report.totals[k] > 0 for k in KINDS)
    kinds = by_path(report)
    assert kinds["frozen_conv/kernel"] == "frozen"
    assert kinds["bn/moving_mean"] == "statistic"
    assert kinds["head/kernel"] == "trainable"
    fixed_rows = report.by_kind("fixed")
    assert {r.layer_class for r in fixed_rows} == {
        "GaussianBlur",
        "Sobel",
        "SobelMagnitude",
        "Laplacian",
    }
    assert all(r.count == math.prod(r.shape) for r in report.rows)


def test_model_trainable_true_trap_fixed_stays_fixed():
    # Keras's trap: model.trainable = True re-enables a plain Conv2D(trainable=False) ...
    model = mixed_model()
    model.trainable = False
    assert weight_report(model).totals["trainable"] == 0
    model.trainable = True
    report = weight_report(model)
    check_consistent(model, report)
    assert by_path(report)["frozen_conv/kernel"] == "trainable"
    # ... but the fixed taps stay fixed, and out of model.trainable_weights
    assert report.totals["fixed"] == 42 and report.totals["frozen"] == 0
    fixed_ids = {id(v) for v in model.get_layer("edge_stem").weights}
    assert not fixed_ids & {id(v) for v in model.trainable_weights}


def test_frozen_model_everything_but_fixed_is_frozen():
    model = mixed_model()
    model.trainable = False
    report = weight_report(model)
    check_consistent(model, report)
    assert report.totals == {
        "trainable": 0,
        "frozen": model.count_params() - 42,
        "fixed": 42,
        "statistic": 0,
    }


def test_statistic_updates_in_fit_but_frozen_statistics_do_not(rng):
    """The kinds tell the truth: fit changes 'statistic' weights, not 'frozen' ones."""
    x = rng.normal(3.0, 2.0, size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    for frozen in (False, True):
        model = keras.Sequential(
            [keras.Input((4,)), layers.BatchNormalization(name="bn"), layers.Dense(1)]
        )
        model.get_layer("bn").trainable = not frozen
        model.compile(optimizer="sgd", loss="mse")
        kinds = by_path(weight_report(model))
        bn = model.get_layer("bn")
        before = bn.moving_mean.numpy().copy()
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        moved = not np.array_equal(before, bn.moving_mean.numpy())
        assert kinds[bn.moving_mean.path] == ("frozen" if frozen else "statistic")
        assert moved is (not frozen)


# -- nested models, sub-layers, sharing --------------------------------------------------------


class Block(layers.Layer):
    """A plain layer holding sub-layers (a fixed filter, a Dense) and a weight of its own."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sobel = ff.Sobel(1, 0, name="block_sobel")
        self.dense = layers.Dense(3, name="block_dense")

    def build(self, input_shape):
        self.sobel.build(input_shape)
        self.dense.build((input_shape[0], input_shape[1] * input_shape[2]))
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        self.count = self.add_weight(shape=(2,), initializer="zeros", trainable=False, name="n")

    def call(self, x):
        y = self.sobel(x)
        y = keras.ops.reshape(y, (-1, y.shape[1] * y.shape[2]))
        return self.dense(y) * self.scale

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 3)


def test_nested_models_and_layers_with_sublayers():
    inner = keras.Sequential(
        [keras.Input((4,)), layers.Dense(4, name="inner_dense"), layers.BatchNormalization()],
        name="inner",
    )
    middle = keras.Sequential([keras.Input((4,)), inner, layers.Dense(2)], name="middle")
    inputs = keras.Input((6, 6, 1))
    block = Block(name="block")
    h = block(inputs)
    h = layers.Dense(4, name="to4")(h)
    out = middle(h)
    model = keras.Model(inputs, out, name="outer")
    inner.get_layer("inner_dense").trainable = False

    report = weight_report(model)
    check_consistent(model, report)
    kinds = by_path(report)
    assert kinds["block/block_sobel/kernel_x"] == "fixed"
    assert kinds["block/block_dense/kernel"] == "trainable"
    assert kinds["block/scale"] == "trainable"
    assert kinds["block/n"] == "statistic"
    assert kinds["inner/inner_dense/kernel"] == "frozen"
    owners = {row.path: row.layer for row in report.rows}
    assert owners["block/block_sobel/kernel_x"] == "block_sobel"
    assert owners["block/scale"] == "block"
    assert owners["inner/inner_dense/bias"] == "inner_dense"

    # Freezing the middle model freezes everything inside, statistics included.
    middle.trainable = False
    report = weight_report(model)
    check_consistent(model, report)
    assert {by_path(report)[v.path] for v in middle.weights} == {"frozen"}


def test_shared_layer_counted_once():
    shared = layers.Dense(5, name="shared")
    a, b = keras.Input((5,)), keras.Input((5,))
    model = keras.Model([a, b], layers.Add()([shared(a), shared(shared(b))]))
    report = weight_report(model)
    check_consistent(model, report)
    assert len(report.rows) == 2 and report.total == 30


def test_filter_bank_weights_are_fixed():
    bank = ff.FilterBank([ff.Sobel(1, 0), ff.Scharr(0, 1), ff.Laplacian(3)], name="bank")
    model = keras.Sequential([keras.Input((8, 8, 2)), bank, layers.Conv2D(1, 1)])
    report = weight_report(model)
    check_consistent(model, report)
    bank_paths = {v.path for v in bank.weights}
    assert {r.kind for r in report.rows if r.path in bank_paths} == {"fixed"}
    assert {r.kind for r in report.rows if r.path not in bank_paths} == {"trainable"}
    assert report.totals["fixed"] == n_params(bank.weights) == 6 + 6 + 12


# -- the table, summary, dict ------------------------------------------------------------------


def test_str_is_a_table_with_totals_and_legend():
    model = mixed_model()
    report = weight_report(model)
    text = str(report)
    for row in report.rows:
        assert row.path in text
    for kind, count in report.totals.items():
        assert any(line.split()[:2] == [kind, f"{count:,}"] for line in text.splitlines())
    assert f"{model.count_params():,}" in text
    assert "Kinds:" in text and "never trained" in text
    assert "WeightReport" in repr(report) and "fixed=42" in repr(report)


def test_summary_prints_keras_summary_then_report():
    model = mixed_model()
    lines: list[str] = []
    report = summary(model, print_fn=lambda text, *a, **k: lines.append(text))
    text = "\n".join(lines)
    assert "Total params" in text  # Keras's own summary
    assert text.index("Total params") < text.index("Weight report")
    assert str(report) in text
    assert report.totals == weight_report(model).totals


def test_summary_default_prints_to_stdout(capsys):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    summary(model)
    out = capsys.readouterr().out
    assert "Weight report" in out and "trainable" in out


def test_to_dict_is_json_serializable():
    model = mixed_model()
    data = weight_report(model).to_dict()
    data = json.loads(json.dumps(data))
    assert data["total"] == model.count_params()
    assert sum(data["totals"].values()) == data["total"]
    assert data["rows"][0].keys() >= {"layer", "path", "shape", "count", "kind"}
    assert isinstance(weight_report(model).rows[0], WeightRow)


def test_errors():
    with pytest.raises(TypeError, match="model must be a keras Model or Layer"):
        weight_report("not a model")
    with pytest.raises(ValueError, match="not built"):
        weight_report(keras.Sequential([layers.Dense(2)]))
    with pytest.raises(ValueError, match="kind must be one of"):
        weight_report(mixed_model()).by_kind("non-trainable")


def test_single_layer_and_empty_model():
    sobel = ff.Sobel(1, 0)
    sobel.build((None, 5, 5, 1))
    assert weight_report(sobel).totals["fixed"] == sobel.count_params() == 6
    empty = keras.Sequential([keras.Input((3,)), layers.Flatten()])
    report = weight_report(empty)
    assert report.total == 0 and "(no weights)" in str(report)


# -- .keras round trip with a FilterBank -------------------------------------------------------


def test_keras_file_round_trip_with_filter_bank(tmp_path, rng):
    inputs = keras.Input((10, 10, 1))
    x = ff.GaussianBlur(3, name="blur")(inputs)
    x = ff.FilterBank(
        [ff.Sobel(1, 0, name="sx"), ff.Sobel(0, 1, name="sy"), ff.Laplacian(3, name="lap")],
        name="bank",
    )(x)
    x = layers.Conv2D(2, 3, name="conv")(x)
    outputs = layers.Dense(1, name="head")(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs, name="bank_model")
    model.get_layer("conv").trainable = False
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(4, 10, 10, 1)).astype("float32")
    model.fit(x, rng.normal(size=(4, 1)), epochs=1, verbose=0)  # optimizer state is saved too

    path = tmp_path / "bank.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    assert type(loaded.get_layer("bank")) is ff.FilterBank
    assert [type(f).__name__ for f in loaded.get_layer("bank").filters] == [
        "Sobel",
        "Sobel",
        "Laplacian",
    ]
    for a, b in zip(model.weights, loaded.weights, strict=True):
        assert a.name == b.name and np.array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    original, restored = weight_report(model), weight_report(loaded)
    assert restored.totals == original.totals
    assert restored.totals["frozen"] == n_params(model.get_layer("conv").weights)

    def rows(report):
        return [(r.layer, r.path.split("/")[-1], r.shape, r.kind) for r in report.rows]

    assert rows(restored) == rows(original)
    assert restored.totals["fixed"] == n_params(loaded.get_layer("blur").weights) + n_params(
        loaded.get_layer("bank").weights
    )


# -- docstring examples ------------------------------------------------------------------------


@pytest.mark.parametrize("module", [report_module, training_module], ids=lambda m: m.__name__)
def test_docstring_examples(module, monkeypatch):
    # The examples use ff.<name>; make the names available whether or not __init__ exports them.
    for mod in (report_module, training_module):
        for name in mod.__all__:
            monkeypatch.setattr(fixedfilters, name, getattr(mod, name), raising=False)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0
