"""Fixed in Keras's own terms: non-trainable weights, frozen through training, serialization."""

from __future__ import annotations

import inspect
import json

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import CASES, CV_BORDER, assert_same_bytes, reference, tolerance


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


# -- every integer path computes from the weights ------------------------------------------------
# small values: float32 sums of them with dyadic taps stay exact, and few sums saturate
_INT_RANGES = {"uint8": (0, 8), "uint16": (0, 1000), "int16": (-500, 500)}


def _int_combos():
    """(case, input dtype, output dtype): each integer output dtype a case with taps supports,
    on uint8 input where it is allowed there, else on its own dtype."""
    out = []
    for case in CASES:
        if not case.has_taps:
            continue
        layer = case.make(border=case.default_border, border_value=0.0)
        for dst in ("uint8", "int16", "uint16"):
            for src in ("uint8", dst):
                if dst in layer._output_dtypes(src):
                    out.append(pytest.param(case, src, dst, id=f"{case.id}-{src}-{dst}"))
                    break
    return out


def _other_weights(weights, linear: bool):
    """Different taps: dyadic values (float32 sums of them stay exact), not uniform."""
    if not linear:  # a structuring element: toggle its first entry
        (w,) = weights
        w = w.copy()
        w.flat[0] = 1.0 - w.flat[0]
        return [w]
    return [
        (np.round(w * 4) / 4 + 0.25 * (np.arange(w.size).reshape(w.shape) % 3 + 1)).astype(w.dtype)
        for w in weights
    ]


def _cv_from_weights(layer, plane, weights):
    """cv2 (float64) on one plane, for the layer's configuration with ``weights`` as taps."""
    b = CV_BORDER[layer.border]
    plane = plane.astype(np.float64)
    if isinstance(layer, (ff.PyrDown, ff.PyrUp)):
        kx, ky = (w[0].astype(np.float64) for w in weights)
        if isinstance(layer, ff.PyrDown):
            return cv2.sepFilter2D(plane, cv2.CV_64F, kx, ky, borderType=b)[::2, ::2]
        z = np.zeros((2 * plane.shape[0], 2 * plane.shape[1]))
        z[::2, ::2] = plane  # pyrUp: the zero-stuffed image, 4 * outer(k, k), reflect_101
        return cv2.sepFilter2D(z, cv2.CV_64F, 2 * kx, 2 * ky, borderType=cv2.BORDER_REFLECT_101)
    if isinstance(layer, ff.MorphologyEx):
        code = {"erode": 0, "dilate": 1, "gradient": 4}[layer.op]
        element = (weights[0] != 0).astype(np.uint8)
        return cv2.morphologyEx(
            plane, code, element, anchor=tuple(layer.anchor), iterations=layer.iterations,
            borderType=b, borderValue=0,
        )  # fmt: skip
    if isinstance(layer, ff.Filter2D):
        k, anchor, scale = weights[0].astype(np.float64), tuple(layer.anchor), 1.0
    else:
        kx, ky = weights
        k = sum(np.outer(ky[t], kx[t]) for t in range(kx.shape[0])).astype(np.float64)
        anchor, scale = tuple(getattr(layer, "anchor", (-1, -1))), layer.scale
    delta = getattr(layer, "delta", 0.0)
    return cv2.filter2D(plane, cv2.CV_64F, k * scale, anchor=anchor, delta=delta, borderType=b)


@pytest.mark.parametrize("case, src, dst", _int_combos())
def test_integer_outputs_follow_the_weights(case, src, dst, rng):
    """``set_weights`` with other taps changes every integer output, which is then the float
    path from those weights rounded half to even and saturated (OpenCV's saturate_cast); the
    original taps still give the bytes they gave (cv2's, tested per family)."""
    lo, hi = _INT_RANGES[src]
    x = rng.integers(lo, hi, (2, 9, 11, 3)).astype(src)
    layer = case.make(output_dtype=dst, border=case.default_border, border_value=0.0)
    before = np.asarray(layer(x))
    original = layer.get_weights()
    other = _other_weights(original, case.linear)
    layer.set_weights(other)
    after = np.asarray(layer(x))
    assert after.dtype == np.dtype(dst)
    assert np.any(after != before), "set_weights did not change the output"
    f = np.asarray(layer._filter(keras.ops.cast(x, "float32")))  # the layer's float path
    info = np.iinfo(dst)
    np.testing.assert_array_equal(after, np.clip(np.rint(f), info.min, info.max).astype(dst))
    # the float path from the new weights is cv2's filter with those taps
    want = np.stack(
        [
            np.stack([_cv_from_weights(layer, x[i, :, :, c], other) for c in range(3)], -1)
            for i in range(2)
        ]
    )
    assert np.max(np.abs(f - want)) <= tolerance(case, x.astype(np.float32)) * 4
    layer.set_weights(original)
    np.testing.assert_array_equal(np.asarray(layer(x)), before)


_COMPILED_EXACT = {  # layer with an exact integer path, cv2's bytes for its original taps
    "box": (
        lambda: ff.BoxFilter(3, output_dtype="uint8"),
        lambda im: cv2.boxFilter(im, -1, (3, 3)),
    ),
    "blur-5x3-replicate": (
        lambda: ff.Blur((5, 3), border="replicate", output_dtype="uint8"),
        lambda im: cv2.blur(im, (5, 3), borderType=cv2.BORDER_REPLICATE),
    ),
    "pyrdown": (lambda: ff.PyrDown(output_dtype="uint8"), cv2.pyrDown),
    "pyrup": (lambda: ff.PyrUp(output_dtype="uint8"), cv2.pyrUp),
    "gaussian": (
        lambda: ff.GaussianBlur(5, 1.2, output_dtype="uint8"),
        lambda im: cv2.GaussianBlur(im, (5, 5), 1.2),
    ),
    "sobel": (
        lambda: ff.Sobel(1, 0, 3, scale=0.3, delta=0.7, output_dtype="int16"),
        lambda im: cv2.Sobel(im, cv2.CV_16S, 1, 0, ksize=3, scale=0.3, delta=0.7),
    ),
}


@pytest.mark.parametrize("name", sorted(_COMPILED_EXACT))
def test_exact_paths_follow_the_weights_when_compiled(name, rng):
    """Static sizes of >= STENCIL_MIN_ELEMENTS values (the XLA paths): eager, tf.function and
    tf.function(jit_compile=True), each traced before set_weights, follow the weights."""
    import tensorflow as tf

    make, cv = _COMPILED_EXACT[name]
    x = rng.integers(0, 256, (2, 40, 48, 3)).astype("uint8")
    want = np.stack([cv(im) for im in x])
    layer = make()
    calls = {
        "eager": layer,
        "graph": tf.function(layer),
        "xla": tf.function(layer, jit_compile=True),
    }
    for how, call in calls.items():
        assert_same_bytes(call(tf.constant(x)), want, how)
    original = layer.get_weights()
    layer.set_weights([w * 0.5 + 0.25 * (np.arange(w.size).reshape(w.shape) % 2) for w in original])
    info = np.iinfo(layer.output_dtype)
    generic = np.asarray(layer._filter(keras.ops.cast(x, "float32")))
    generic = np.clip(np.rint(generic), info.min, info.max).astype(layer.output_dtype)
    assert np.any(generic != want)
    for how, call in calls.items():
        assert_same_bytes(call(tf.constant(x)), generic, how)
    layer.set_weights(original)
    for how, call in calls.items():
        assert_same_bytes(call(tf.constant(x)), want, how)


def test_box_float_stencil_follows_non_uniform_weights(rng):
    """The box stencil (one tap value) runs while the weights are uniform; other weights give
    their separable correlation, in a graph too."""
    import tensorflow as tf

    x = rng.uniform(0, 255, (2, 40, 48, 3)).astype("float32")
    layer = ff.BoxFilter((5, 3))
    graph = tf.function(layer, jit_compile=True)
    graph(x)
    kx = np.array([[1.0, 2.0, 0.5, -1.0, 3.0]], "float32")
    ky = np.array([[0.25, 1.0, 2.0]], "float32")
    layer.set_weights([kx, ky])
    want = np.stack(
        [
            np.stack(
                [cv2.sepFilter2D(im[:, :, c], cv2.CV_32F, kx[0], ky[0]) / 15 for c in range(3)], -1
            )
            for im in x
        ]
    )
    for got in (layer(x), graph(x)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-5 * 7.5 * 255 * 4)
