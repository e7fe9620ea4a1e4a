"""FreezeGuard and set_trainable: weights compared with NumPy before and after real fits."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import fixedfilters as ff
from fixedfilters.report import weight_report
from fixedfilters.training import (
    FixedWeightChangedError,
    FreezeGuard,
    StaleCompileError,
    StaleCompileWarning,
    TrainableChange,
    set_trainable,
)

layers = keras.layers


@pytest.fixture
def data(rng):
    x = rng.random((24, 8, 8, 1)).astype("float32")
    y = rng.random((24, 1)).astype("float32")
    return x, y


def make_model(compile_: bool = True, **compile_kwargs) -> keras.Model:
    """Fixed filter -> conv -> BN -> Dense body -> Dense head."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            ff.Sobel(1, 0, name="sobel"),
            layers.Conv2D(2, 3, name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.Flatten(name="flat"),
            layers.Dense(4, name="body"),
            layers.Dense(1, name="head"),
        ],
        name="net",
    )
    if compile_:
        options = dict(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        options.update(compile_kwargs)
        model.compile(**options)
    return model


def fit(model, data, *callbacks, epochs: int = 1):
    x, y = data
    return model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=list(callbacks))


def values(layer) -> list[np.ndarray]:
    return [np.array(v.numpy(), copy=True) for v in layer.weights]


def same(before: list[np.ndarray], layer) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(before, values(layer), strict=True))


# -- the stale-compile trap --------------------------------------------------------------------


def test_keras_trap_frozen_layer_keeps_training_until_compile(data):
    """The trap FreezeGuard exists for (Keras 3.15; if this fails, Keras fixed it)."""
    model = make_model()
    fit(model, data)
    model.get_layer("body").trainable = False
    before = values(model.get_layer("body"))
    fit(model, data)
    assert not same(before, model.get_layer("body")), "frozen layer no longer trains: trap gone"


def test_first_fit_after_compile_passes(data):
    model = make_model()
    fit(model, data, FreezeGuard(), epochs=2)
    fit(model, data, FreezeGuard())  # same flags: the existing train step is fine


def test_freeze_after_fit_without_compile_raises(data):
    model = make_model()
    fit(model, data, FreezeGuard())
    model.get_layer("body").trainable = False
    before = values(model.get_layer("body"))
    with pytest.raises(StaleCompileError, match=r"compile\(\)") as info:
        fit(model, data, FreezeGuard())
    message = str(info.value)
    assert "body" in message and "net/body/kernel" in message
    assert "set_trainable" in message
    assert same(before, model.get_layer("body"))  # raised before any step


def test_freeze_detected_without_a_guard_on_the_first_fit(data):
    model = make_model()
    fit(model, data)  # no guard: nothing recorded, the optimizer tells what was built
    model.get_layer("conv").trainable = False
    with pytest.raises(StaleCompileError, match="optimizer was built for"):
        fit(model, data, FreezeGuard())


def test_unfreeze_after_fit_without_compile_raises(data):
    model = make_model()
    model.get_layer("body").trainable = False
    model.compile(optimizer="sgd", loss="mse")
    fit(model, data, FreezeGuard())
    model.get_layer("body").trainable = True
    with pytest.raises(StaleCompileError, match="Made trainable since"):
        fit(model, data, FreezeGuard())


def test_freeze_then_compile_then_fit_passes_and_layer_stays_put(data):
    model = make_model()
    fit(model, data, FreezeGuard())
    model.get_layer("body").trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    body, head = model.get_layer("body"), model.get_layer("head")
    body_before, head_before = values(body), values(head)
    fit(model, data, FreezeGuard(), epochs=2)
    assert same(body_before, body)
    assert not same(head_before, head)


def test_compile_then_freeze_then_fit_passes(data):
    model = make_model()
    model.get_layer("conv").trainable = False  # before the first fit: the step is built now
    before = values(model.get_layer("conv"))
    fit(model, data, FreezeGuard())
    assert same(before, model.get_layer("conv"))


def test_guard_passes_after_set_trainable(data):
    model = make_model()
    fit(model, data, FreezeGuard())
    changes = set_trainable(model, False, layers="body")
    assert changes == [TrainableChange("body", True, False)] and changes.recompiled
    before = values(model.get_layer("body"))
    fit(model, data, FreezeGuard())
    assert same(before, model.get_layer("body"))
    set_trainable(model, True, layers="body")
    fit(model, data, FreezeGuard())
    assert not same(before, model.get_layer("body"))


def test_set_trainable_without_recompile_leaves_the_trap(data):
    model = make_model()
    fit(model, data)
    changes = set_trainable(model, False, layers="body", recompile=False)
    assert not changes.recompiled
    with pytest.raises(StaleCompileError):
        fit(model, data, FreezeGuard())


def test_warn_mode_warns_once_and_trains(data):
    model = make_model()
    fit(model, data)
    model.get_layer("body").trainable = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, data, FreezeGuard(on_stale="warn"), epochs=2)
    stale = [w for w in caught if issubclass(w.category, StaleCompileWarning)]
    assert len(stale) == 1 and "compile()" in str(stale[0].message)


def test_same_optimizer_instance_passed_again_is_caught(data):
    # Built for the head only, then asked to also train the body: Keras would fail at the
    # first step with "Unknown variable"; the guard says what to do.
    model = make_model()
    model.trainable = False
    model.get_layer("head").trainable = True
    model._trainable = True  # the model's own flag only
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    fit(model, data, FreezeGuard())
    model.get_layer("body").trainable = True
    model.compile(optimizer=model.optimizer, loss="mse")
    with pytest.raises(StaleCompileError, match="new optimizer instance"):
        fit(model, data, FreezeGuard())


def test_flags_changed_by_another_callback_between_epochs(data):
    class FreezeAtEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.get_layer("body").trainable = False

    model = make_model()
    with pytest.raises(StaleCompileError):
        fit(model, data, FreezeAtEpoch2(), FreezeGuard(), epochs=3)


def test_rebuilt_train_function_is_not_stale(data):
    class FreezeAndRebuild(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.get_layer("body").trainable = False
                self.model.make_train_function(force=True)  # Keras's documented remedy

    model = make_model()
    fit(model, data, FreezeAndRebuild(), FreezeGuard(), epochs=2)


def test_guard_arguments_are_checked():
    with pytest.raises(ValueError, match="on_stale must be 'raise' or 'warn'"):
        FreezeGuard(on_stale="ignore")
    with pytest.raises(TypeError, match="check_fixed must be a bool"):
        FreezeGuard(check_fixed="yes")


# -- fixed weights -----------------------------------------------------------------------------


def test_fixed_taps_unchanged_by_fit(data):
    model = make_model()
    before = values(model.get_layer("sobel"))
    model.trainable = True  # the fine-tuning idiom does not reach fixed taps
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    fit(model, data, FreezeGuard(), epochs=2)
    assert same(before, model.get_layer("sobel"))


class TamperWithTaps(keras.callbacks.Callback):
    def __init__(self, *, at_epoch: int, delta: float):
        super().__init__()
        self.at_epoch, self.delta = at_epoch, delta

    def on_epoch_end(self, epoch, logs=None):  # runs before the guard's (list order)
        if epoch == self.at_epoch:
            taps = self.model.get_layer("sobel").kernel_x
            taps.assign(taps.numpy() + np.float32(self.delta))


def test_guard_catches_a_fixed_weight_changed_by_hand(data):
    model = make_model()
    with pytest.raises(FixedWeightChangedError) as info:
        fit(model, data, TamperWithTaps(at_epoch=1, delta=1.0), FreezeGuard(), epochs=3)
    message = str(info.value)
    assert "'sobel'" in message and "net/sobel/kernel_x" in message
    assert "epoch 2" in message and "3 of 3 values differ" in message


def test_guard_catches_a_one_ulp_change(data):
    model = make_model()
    sobel = model.get_layer("sobel")

    class OneUlp(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            taps = sobel.kernel_y.numpy()
            taps[0, 0] = np.nextafter(taps[0, 0], np.float32(np.inf))
            sobel.kernel_y.assign(taps)

    with pytest.raises(FixedWeightChangedError, match="1 of 3 values differ"):
        fit(model, data, OneUlp(), FreezeGuard())


def test_set_weights_between_fits_is_not_an_epoch_change(data):
    # The snapshot is taken at the start of each fit.
    model = make_model()
    fit(model, data, FreezeGuard())
    sobel = model.get_layer("sobel")
    sobel.set_weights([w * 2 for w in sobel.get_weights()])
    fit(model, data, FreezeGuard())
    guard = FreezeGuard(check_fixed=False)
    fit(model, data, TamperWithTaps(at_epoch=0, delta=1.0), guard)  # not checked


# -- set_trainable selection -------------------------------------------------------------------


def nested_model() -> keras.Model:
    block = keras.Sequential(
        [
            keras.Input((8, 8, 4)),
            layers.Conv2D(4, 3, padding="same", name="block_conv1"),
            layers.BatchNormalization(name="block_bn"),
            layers.Conv2D(4, 3, padding="same", name="block_conv2"),
        ],
        name="block",
    )
    inputs = keras.Input((8, 8, 1))
    x = block(ff.edge_stem()(inputs))
    x = layers.Dense(3, name="head")(layers.GlobalAveragePooling2D(name="gap")(x))
    return keras.Model(inputs, x, name="nested")


def flags(model) -> dict[str, bool]:
    return {layer.name: layer.trainable for layer in model._flatten_layers(include_self=False)}


def test_select_by_name_glob_class_predicate_and_layer():
    model = nested_model()
    assert [c.layer for c in set_trainable(model, False, layers="block_conv1")] == ["block_conv1"]
    assert [c.layer for c in set_trainable(model, False, layers="block_conv*")] == ["block_conv2"]
    assert [c.layer for c in set_trainable(model, False, layers=layers.BatchNormalization)] == [
        "block_bn"
    ]
    assert [c.layer for c in set_trainable(model, False, layers=lambda la: la.name == "head")] == [
        "head"
    ]
    changes = set_trainable(model, True, layers=[model.get_layer("head"), "block_bn"])
    assert {(c.layer, c.old, c.new) for c in changes} == {
        ("head", False, True),
        ("block_bn", False, True),
    }
    report = weight_report(model)
    assert report.totals["frozen"] == sum(
        model.get_layer("block").get_layer(n).count_params() for n in ("block_conv1", "block_conv2")
    )


def test_select_all_and_never_fixed_layers():
    model = nested_model()
    stem = model.get_layer("edge_stem")
    changes = set_trainable(model, False)
    assert changes[0] == TrainableChange("nested", True, False)
    assert weight_report(model).totals["trainable"] == 0
    changes = set_trainable(model, True)
    fixed = [la for la in model._flatten_layers() if isinstance(la, ff.FixedLayer)]
    assert fixed and not any(la.trainable for la in fixed)
    assert not {c.layer for c in changes} & {la.name for la in fixed}
    assert weight_report(model).totals["fixed"] == stem.count_params() == 42
    # a nested model holding fixed layers: its own flag changes, the fixed layers' do not
    set_trainable(model, True, layers="edge_stem")
    assert not any(la.trainable for la in fixed)
    with pytest.raises(ValueError, match="fixed by design"):
        set_trainable(model, True, layers="edge_stem_blur")
    assert set_trainable(model, False, layers="edge_stem_blur") == []
    # patterns and classes skip fixed layers silently
    assert set_trainable(model, True, layers="edge_stem_*") == []
    assert set_trainable(model, True, layers=ff.Sobel) == []


def test_unfreeze_inside_frozen_container_keeps_siblings_frozen():
    model = nested_model()
    set_trainable(model, False, layers="block")
    changes = set_trainable(model, True, layers="block_conv2")
    assert {c.layer for c in changes} == {"block", "block_conv2"}
    block = model.get_layer("block")
    assert block.trainable and block.get_layer("block_conv2").trainable
    assert not block.get_layer("block_conv1").trainable
    trainable_ids = {id(v) for v in model.trainable_weights}
    assert {id(v) for v in block.get_layer("block_conv2").weights} <= trainable_ids
    assert not {id(v) for v in block.get_layer("block_conv1").weights} & trainable_ids


def test_selection_errors():
    model = nested_model()
    with pytest.raises(ValueError, match=r"name 'nope' matches no layer.*'block_conv1'"):
        set_trainable(model, False, layers="nope")
    with pytest.raises(ValueError, match="glob pattern 'x\\*' matches no layer"):
        set_trainable(model, False, layers="x*")
    with pytest.raises(ValueError, match="no layer of class LSTM"):
        set_trainable(model, False, layers=layers.LSTM)
    with pytest.raises(ValueError, match="not part of model"):
        set_trainable(model, False, layers=layers.Dense(2, name="stranger"))
    with pytest.raises(ValueError, match="at least one layer"):
        set_trainable(model, False, layers=[])
    with pytest.raises(TypeError, match="trainable must be True or False"):
        set_trainable(model, 1)
    with pytest.raises(TypeError, match="each entry of layers"):
        set_trainable(model, False, layers=[3])
    with pytest.raises(TypeError, match="layers must be None"):
        set_trainable(model, False, layers=3)
    with pytest.raises(TypeError, match="keras Layer subclass"):
        set_trainable(model, False, layers=int)
    with pytest.raises(TypeError, match="must return a bool"):
        set_trainable(model, False, layers=lambda la: la.name)
    with pytest.raises(TypeError, match="recompile must be"):
        set_trainable(model, False, recompile="yes")
    with pytest.raises(TypeError, match="model must be a keras Model"):
        set_trainable("model", False)
    with pytest.raises(ValueError, match="has not been compiled"):
        set_trainable(model, False, recompile={"loss": "mae"})


# -- recompiling -------------------------------------------------------------------------------


def test_recompile_keeps_configuration_with_a_fresh_optimizer(data):
    model = make_model(
        optimizer=keras.optimizers.Adam(3e-3, beta_1=0.8),
        loss="mae",
        metrics=["mse"],
        loss_weights=[2.0],
    )
    fit(model, data)
    model.optimizer.learning_rate.assign(1e-3)  # e.g. changed by a schedule callback
    old_optimizer = model.optimizer
    set_trainable(model, False, layers="conv")
    assert model.optimizer is not old_optimizer and not model.optimizer.built
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 1e-3)
    assert model.optimizer.beta_1 == 0.8
    config = model.get_compile_config()
    assert config["loss"] == "mae" and config["metrics"] == ["mse"]
    assert config["loss_weights"] == [2.0]
    logs = fit(model, data, FreezeGuard()).history
    assert set(logs) == {"loss", "mse"}


def test_recompile_overrides(data):
    model = make_model()
    fit(model, data)
    changes = set_trainable(
        model, False, layers="conv", recompile={"optimizer": keras.optimizers.SGD(1e-4)}
    )
    assert changes.recompiled
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 1e-4)
    assert "recompiled" in str(changes) and "conv: trainable -> frozen" in str(changes)
    with pytest.raises(TypeError, match="does not take"):
        set_trainable(model, True, recompile={"optimiser": "sgd"})


def test_no_change_no_recompile_unless_stale(data):
    model = make_model()
    fit(model, data)
    optimizer = model.optimizer
    changes = set_trainable(model, True, layers="head")  # already trainable
    assert changes == [] and not changes.recompiled and model.optimizer is optimizer
    model.get_layer("head").trainable = False  # by hand: the train step is now stale
    changes = set_trainable(model, False, layers="head")
    assert changes == [] and changes.recompiled
    fit(model, data, FreezeGuard())


def test_uncompiled_model_is_just_flagged():
    model = make_model(compile_=False)
    changes = set_trainable(model, False, layers="body")
    assert changes == [TrainableChange("body", True, False)] and not changes.recompiled
    assert not getattr(model, "compiled", False)
