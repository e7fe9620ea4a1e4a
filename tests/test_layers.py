"""Fixed in Keras's own terms: non-trainable weights, frozen through training, serialization."""

from __future__ import annotations

import inspect
import json

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import CASES, reference, tolerance


def _build(case, shape=(None, 16, 16, 3)):
    layer = case.make(border=case.default_border, border_value=0.0)
    layer.build(shape)
    return layer


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_weights_are_non_trainable_at_every_level(case):
    layer = _build(case)
    assert layer.trainable is False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == len(layer.weights)
    assert (len(layer.weights) > 0) == case.has_taps
    assert all(not w.trainable for w in layer.weights)
    layer.trainable = True  # ignored on purpose
    assert layer.trainable is False and layer.trainable_weights == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_config_round_trip_and_json(case, rng):
    layer = _build(case)
    config = layer.get_config()
    json.dumps(config)  # JSON-serializable
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = rng.standard_normal((1, 11, 9, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(clone(x)), np.asarray(layer(x)))
    # through Keras's registry, by the registered name
    ser = keras.saving.serialize_keras_object(layer)
    assert ser["registered_name"].startswith("fixedfilters>")
    again = keras.saving.deserialize_keras_object(ser)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(layer(x)))


def test_keras_file_round_trip(tmp_path, rng):
    model = keras.Sequential(
        [keras.Input((20, 24, 3))]
        + [case.make(border="replicate", border_value=0.0) for case in CASES[:6]]
    )
    x = rng.standard_normal((2, 20, 24, 3)).astype(np.float32)
    # change one weight so the file must carry the stored taps, not re-derive them
    w = model.layers[0].get_weights()
    w[0] = w[0] * 2.0
    model.layers[0].set_weights(w)
    want = np.asarray(model(x))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(x)), want)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]


def test_output_is_computed_from_the_weights(rng):
    x = rng.standard_normal((1, 12, 12, 1)).astype(np.float32)
    layer = ff.Sobel(1, 0, 3)
    before = np.asarray(layer(x))
    kx, ky = layer.get_weights()
    assert kx.shape == (1, 3) and ky.shape == (1, 3)
    layer.set_weights([kx * 3.0, ky])
    np.testing.assert_allclose(np.asarray(layer(x)), 3.0 * before, rtol=1e-6, atol=1e-4)
    f2d = ff.Filter2D(np.ones((3, 3)))
    f2d(x)
    f2d.set_weights([np.zeros((3, 3), np.float32)])
    assert np.all(np.asarray(f2d(x)) == 0)


def test_weight_layout_is_documented_shape():
    lap = ff.Laplacian(5)
    lap.build((None, 8, 8, 1))
    assert [w.shape for w in lap.weights] == [(2, 5), (2, 5)]
    assert [w.path.split("/")[-1] for w in lap.weights] == ["kernel_x", "kernel_y"]
    np.testing.assert_array_equal(lap.kernel2d(), ff.kernels.laplacian(5))


def _fit_model():
    front = [
        ff.GaussianBlur(5, 1.0, name="blur"),
        ff.Sobel(1, 0, 3, name="sobel_x"),
        ff.Laplacian(3, border="replicate", name="lap"),
    ]
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), *front]
        + [
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, name="head"),
        ]
    )
    return model, front


def _snapshot(layers):
    return [np.array(w) for layer in layers for w in layer.get_weights()]


def _front_matches_cv2(front, rng):
    x = rng.uniform(0, 255, (2, 16, 16, 1)).astype(np.float32)
    refs = {
        "blur": lambda p, b: cv2.GaussianBlur(p, (5, 5), 1.0, borderType=b),
        "sobel_x": lambda p, b: cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3, borderType=b),
        "lap": lambda p, b: cv2.Laplacian(p, cv2.CV_32F, ksize=3, borderType=b),
    }
    for layer in front:
        got = np.asarray(layer(x))
        b = cv2.BORDER_REPLICATE if layer.border == "replicate" else cv2.BORDER_REFLECT_101
        want = np.stack([refs[layer.name](x[i, :, :, 0], b) for i in range(2)])[..., None]
        assert np.max(np.abs(got - want)) <= 1e-5 * 16 * 255


@pytest.mark.parametrize("optimizer", ["adam", "adamw_decay"])
def test_fixed_front_end_unchanged_by_fit_and_finetune_idiom(optimizer, rng):
    model, front = _fit_model()
    opt = (
        keras.optimizers.AdamW(learning_rate=0.05, weight_decay=0.5)
        if optimizer == "adamw_decay"
        else keras.optimizers.Adam(0.05)
    )
    x = rng.uniform(0, 255, (32, 16, 16, 1)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    model.compile(opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    fixed0 = _snapshot(front)
    head0 = [np.array(w) for w in model.get_layer("head").get_weights()]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    head1 = model.get_layer("head").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(head0, head1, strict=True))
    for a, b in zip(fixed0, _snapshot(front), strict=True):
        np.testing.assert_array_equal(a, b)
    # the fine-tuning idiom: freeze everything, then unfreeze everything
    model.trainable = False
    model.trainable = True
    assert all(layer.trainable is False for layer in front)
    assert all(not w.trainable for layer in front for w in layer.weights)
    model.compile(opt.__class__.from_config(opt.get_config()), model.loss)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(fixed0, _snapshot(front), strict=True):
        np.testing.assert_array_equal(a, b)
    _front_matches_cv2(front, rng)


def test_plain_conv2d_is_unfrozen_by_the_idiom_but_ours_is_not():
    """The trap this library exists for, shown on Keras itself."""
    plain = keras.layers.Conv2D(1, 3, trainable=False)
    ours = ff.Sobel()
    model = keras.Sequential([keras.Input((8, 8, 1)), ours, plain])
    assert model.trainable_weights == []
    model.trainable = False
    model.trainable = True
    assert len(plain.trainable_weights) == 2  # Keras re-enabled it
    assert ours.trainable_weights == []


def test_summary_counts_fixed_taps_as_non_trainable():
    model = keras.Sequential(
        [keras.Input((16, 16, 3)), ff.Sobel(1, 0, 3), ff.GaussianBlur((5, 3)), ff.Laplacian(1)]
    )
    lines = []
    model.summary(print_fn=lambda s, **_: lines.append(s))
    text = "\n".join(lines)
    # Sobel 3+3, Gaussian 5+3, Laplacian 2*3+2*3
    assert model.count_params() == 6 + 8 + 12
    assert "Trainable params: 0" in text
    assert "Non-trainable params: 26" in text


def _counts(model):
    tr = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    nt = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return tr, nt


def test_keras_seed_example_counts():
    """Keras's own example of trainable vs non-trainable parameters."""
    dense = keras.layers.Dense(10, trainable=False)
    model = keras.Sequential([keras.Input((100,)), dense])
    assert _counts(model) == (0, 1010)
    dense.trainable = True
    assert _counts(model) == (1010, 0)
    model = keras.Sequential(
        [keras.Input((100,)), keras.layers.Dense(10), keras.layers.BatchNormalization()]
    )
    assert _counts(model) == (1030, 20)


def test_constructor_refuses_trainable_true():
    with pytest.raises(ValueError, match="trainable=True"):
        ff.Sobel(trainable=True)


def test_dynamic_spatial_shape_in_a_model(rng):
    inp = keras.Input((None, None, 3))
    out = ff.GaussianBlur(5, 1.3, border="reflect")(inp)
    out = ff.Sobel(1, 1, 3, border="wrap")(out)
    model = keras.Model(inp, out)
    for h, w in [(9, 13), (1, 1), (3, 40)]:
        x = rng.standard_normal((2, h, w, 3)).astype(np.float32)
        blur, sobel = model.layers[1], model.layers[2]
        want = np.asarray(sobel(blur(x)))
        np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-3)


def test_filter_bank_matches_cv2_channel_by_channel(rng):
    cases = CASES[:3] + CASES[13:14] + CASES[17:18]
    bank = ff.FilterBank([c.make(border="reflect", border_value=0.0) for c in cases])
    x = rng.uniform(0, 255, (2, 13, 17, 3)).astype(np.float32)
    out = np.asarray(bank(x))
    assert out.shape == (2, 13, 17, 3 * len(cases))
    for i, case in enumerate(cases):
        want = reference(case, x, "reflect")
        got = out[..., i * 3 : (i + 1) * 3]  # filter-major: channel i*C + c
        assert np.max(np.abs(got - want)) <= tolerance(case, x)


def test_filter_bank_keras_round_trip_and_weights(tmp_path, rng):
    bank = ff.FilterBank([ff.Sobel(1, 0), ff.Scharr(0, 1), ff.GaussianBlur(3)])
    model = keras.Sequential([keras.Input((10, 10, 2)), bank, keras.layers.Dense(2)])
    assert bank.trainable_weights == [] and len(bank.non_trainable_weights) == 6
    x = rng.standard_normal((1, 10, 10, 2)).astype(np.float32)
    path = tmp_path / "bank.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=0, atol=0)


def test_edge_stem(rng):
    stem = ff.edge_stem()
    x = rng.uniform(0, 255, (1, 24, 20, 1)).astype(np.float32)
    out = np.asarray(stem(x))
    assert out.shape == (1, 24, 20, 4)
    b = cv2.GaussianBlur(x[0, :, :, 0], (3, 3), 0)
    gx = cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3)
    lap = cv2.Laplacian(b, cv2.CV_32F, ksize=3)
    for i, want in enumerate([gx, gy, cv2.magnitude(gx, gy), lap]):
        assert np.max(np.abs(out[0, :, :, i] - want)) <= 1e-5 * 16 * 255
    assert stem.trainable_weights == []


def test_gradient_flows_to_the_input(rng):
    import tensorflow as tf

    layer = ff.Sobel(1, 0, 3)
    x = tf.constant(rng.standard_normal((1, 8, 8, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x) ** 2)
    g = tape.gradient(y, x)
    assert g is not None and np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0)


def test_tf_function_equals_eager(rng):
    import tensorflow as tf

    x = rng.standard_normal((2, 15, 11, 3)).astype(np.float32)
    for case in CASES:
        layer = case.make(border=case.default_border, border_value=0.0)
        eager = np.asarray(layer(x))
        graph = tf.function(layer)(tf.constant(x)).numpy()
        np.testing.assert_array_equal(graph, eager)


def test_gaussian_and_magnitude_refuse_scale_and_delta():
    """cv2.GaussianBlur / cv2.magnitude have no scale or delta; accepting them would apply them
    and then drop them from get_config (a save/load would change the output)."""
    for make in (ff.GaussianBlur, ff.SobelMagnitude):
        with pytest.raises(TypeError, match="scale"):
            make(3, scale=2.0)
        with pytest.raises(TypeError, match="delta"):
            make(3, delta=1.0)


# -- one rule for arguments: a parent's argument the layer does not use is refused -------------
# A valid value of each parent-class argument (so a refusal can only come from the rule).
_PARENT_SAMPLES = {
    "scale": 2.0,
    "delta": 1.0,
    "normalize": False,
    "kernel": [[0.0, 1.0, 0.0]],
    "anchor": (0, 0),
    "border": "reflect",
    "border_value": 1.0,
    "data_format": "channels_first",
    "output_dtype": "int16",
    "ksize": 5,
    "op": "open",
    "dx": 1,
    "dy": 0,
    "dstsize": None,
}
# layers outside the registry (no cv2 float parity case of their own there)
_EXTRA_LAYERS = {
    "Canny": lambda: ff.Canny(10, 20),
    "Erode": lambda: ff.Erode(3),
    "Dilate": lambda: ff.Dilate((3, 5), shape="cross"),
}


def _parent_arguments(cls) -> set[str]:
    """The keyword arguments of ``cls``'s parent classes' constructors, up to FixedFilter."""
    from fixedfilters.layers.base import FixedLayer

    names = set()
    for klass in cls.__mro__[1:]:
        if klass is FixedLayer:
            break
        if "__init__" in vars(klass):
            for name, p in inspect.signature(klass.__init__).parameters.items():
                if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    names.add(name)
    return names


def _unused_parent_arguments(layer) -> list[str]:
    config = layer.get_config()
    return sorted(_parent_arguments(type(layer)) - set(config))


_REFUSAL_LAYERS = [
    pytest.param(lambda c=c: c.make(border=c.default_border, border_value=0.0), id=c.id)
    for c in CASES
] + [pytest.param(make, id=name) for name, make in _EXTRA_LAYERS.items()]


@pytest.mark.parametrize("make", _REFUSAL_LAYERS)
def test_unused_parent_arguments_are_refused(make):
    layer = make()
    config = layer.get_config()
    cls = type(layer)
    unused = _unused_parent_arguments(layer)
    for name in unused:
        value = _PARENT_SAMPLES[name]
        with pytest.raises(TypeError) as info:
            cls.from_config({**config, name: value})
        message = str(info.value)
        assert cls.__name__ in message and repr(name) in message, message
        assert f"{name}={value!r}" in message, message
    # everything the layer saves, it takes back (from_config(get_config()) round trips)
    assert cls.from_config(config).get_config() == config


def test_refusals_of_the_issue_and_accepted_fixed_values():
    """The arguments issue 20 found silently dropped are refused; a fixed value is accepted."""
    refused = {
        "op": lambda: ff.Dilate(op="erode"),
        "scale": lambda: ff.BoxFilter(3, scale=2.0),
        "delta": lambda: ff.BoxFilter(3, delta=1.0),
        "normalize": lambda: ff.Blur(3, normalize=False),
        "border": lambda: ff.Canny(10, 20, border="constant"),
        "ksize": lambda: ff.Scharr(1, 0, ksize=5),
        "kernel": lambda: ff.Gabor(5, 1.0, 0.0, 4.0, 0.5, kernel=[[1.0]]),
        "anchor": lambda: ff.Gabor(5, 1.0, 0.0, 4.0, 0.5, anchor=(0, 0)),
        "border_value": lambda: ff.PyrDown(border_value=3.0),
        "output_dtype": lambda: ff.Canny(10, 20, output_dtype="int16"),
    }
    for name, make in refused.items():
        with pytest.raises(TypeError, match=f"'{name}'"):
            make()
    assert ff.Dilate(op="dilate").op == "dilate" and ff.Erode(op="erode").op == "erode"
    assert ff.Scharr(0, 1, ksize=-1).ksize == -1
    assert (
        ff.Canny(10, 20, output_dtype="uint8")
        .compute_output_spec(keras.KerasTensor((1, 8, 8, 1), "uint8"))
        .dtype
        == "uint8"
    )
    assert ff.MedianBlur(3, border_value=0.0).get_config().get("border_value") is None
    for value in (1.0, None, False):
        with pytest.raises(TypeError, match="'border_value'"):
            ff.MedianBlur(3, border_value=value)
