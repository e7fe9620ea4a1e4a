"""The fixed layers in production: export, tf.data, mixed precision, data_format, gradients,
tf.distribute.

Each section answers one point of the "use it beyond model.fit" issue:

1. ``model.export`` (SavedModel) serves what the model computes; weights-only and ``.keras``
   round trips, the ``.keras`` file loaded in a fresh process (TensorFlow, and JAX);
2. every layer inside ``tf.data.Dataset.map`` equals the eager call, static and unknown shapes;
3. ``mixed_float16`` / ``mixed_bfloat16``: taps stored in float32, float32 compute and output,
   no overflow (a 7x7 Sobel on a 0..255 step reaches 163,200 > float16's 65,504);
4. ``data_format="channels_first"`` and ``keras.config.image_data_format()``;
5. the input gradient is the adjoint of the filter (finite differences, and cv2's filter as a
   matrix); the taps never receive a gradient;
6. ``tf.distribute.MirroredStrategy`` over two logical CPUs (in a subprocess).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

import fixedfilters as ff
from cvref import BORDERS, CASES, cases_with, reference, tolerance

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="SavedModel export, tf.data and tf.distribute need the TensorFlow backend "
    "(the JAX checks live in tests/_interop_scripts/jax_checks.py)",
)

SCRIPTS = Path(__file__).parent / "_interop_scripts"
REPO = Path(__file__).resolve().parent.parent
IDS = [c.id for c in CASES]


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _front_end(data_format=None):
    """A mixed front end: a FilterBank, plain layers, edge_stem (12 channels out for 1 in)."""
    return [
        ff.GaussianBlur(5, 1.2, border="reflect", data_format=data_format),
        ff.FilterBank(
            [
                ff.Sobel(1, 0, 3, data_format=data_format),
                ff.Filter2D([[1, 2], [0, -1]], anchor=(0, 1), data_format=data_format),
                ff.Laplacian(3, border="constant", border_value=-5.0, data_format=data_format),
            ]
        ),
        ff.SobelMagnitude(-1, border="wrap", data_format=data_format),
        ff.edge_stem(3, blur_ksize=(3, 5), sigma=0.8, data_format=data_format),
    ]


def _subprocess_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO), **extra)
    return env


def _tail(text: str, n: int = 3000) -> str:
    return text[-n:]


# ---------------------------------------------------------------------------------------------
# 1. Export and reload
# ---------------------------------------------------------------------------------------------


def _export_model(channels=3):
    inp = keras.Input((None, None, channels))
    h = inp
    for layer in _front_end():
        h = layer(h)
    return keras.Model(inp, h)


def test_export_savedmodel_serves_the_same_outputs(tmp_path, rng):
    model = _export_model()
    path = str(tmp_path / "exported")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)
    assert hasattr(loaded, "serve")
    # dynamic height/width: one exported signature serves every size, 1x1 included
    for shape in [(2, 17, 12, 3), (1, 1, 1, 3), (3, 4, 30, 3)]:
        x = rng.uniform(0, 255, shape).astype(np.float32)
        got = loaded.serve(tf.constant(x)).numpy()
        want = _np(model(x))
        assert got.shape == want.shape == (shape[0], shape[1], shape[2], 3 * 12)
        np.testing.assert_array_equal(got, want)
    # the SavedModel carries the fixed taps as non-trainable variables only
    assert len(loaded.variables) == len(model.weights) > 0
    assert not any(v.trainable for v in loaded.variables)


def test_weights_only_round_trip(tmp_path, rng):
    def build():
        inp = keras.Input((14, 15, 2))
        h = inp
        for layer in _front_end():
            h = layer(h)
        return keras.Model(inp, keras.layers.Dense(3, name="head")(h))

    model = build()
    # edit every tap so that a reload that re-derived the taps from the config would differ
    for w in model.weights:
        w.assign(w * 1.5 + 0.25)
    x = rng.uniform(0, 255, (2, 14, 15, 2)).astype(np.float32)
    want = _np(model(x))
    path = str(tmp_path / "front.weights.h5")
    model.save_weights(path)
    fresh = build()
    assert not np.array_equal(_np(fresh(x)), want)
    fresh.load_weights(path)
    np.testing.assert_array_equal(_np(fresh(x)), want)
    for a, b in zip(model.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_keras_file_loads_in_a_fresh_process_tensorflow_and_jax(tmp_path, rng):
    """Saved here (TensorFlow); loaded by a process that imports only keras + fixedfilters.

    The same file also loads on Keras's JAX backend (the format is backend-independent).
    """
    model = _export_model(channels=2)
    first = model.layers[1]
    first.set_weights([w * 0.5 for w in first.get_weights()])  # the file must carry the taps
    x = rng.uniform(0, 255, (2, 13, 11, 2)).astype(np.float32)
    want = _np(model(x)).astype(np.float32)
    for name, value in [("m.keras", None), ("x.npy", x), ("want.npy", want)]:
        if value is None:
            model.save(tmp_path / name)
        else:
            np.save(tmp_path / name, value)
    args = [str(tmp_path / n) for n in ("m.keras", "x.npy", "want.npy")]
    script = str(SCRIPTS / "load_keras.py")
    procs = {
        backend: subprocess.Popen(
            [sys.executable, script, *args],
            env=_subprocess_env(KERAS_BACKEND=backend),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )
        for backend in ("tensorflow", "jax")
        if backend != "jax" or importlib.util.find_spec("jax") is not None
    }
    for backend, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{backend}: exit {proc.returncode}\n{_tail(out)}"
        assert f"backend={backend}" in out, _tail(out)


def test_get_config_json_for_banks_stems_and_initializers():
    """(Single layers are covered in test_layers; these are the composite objects.)"""
    bank = ff.FilterBank(
        [c.make(border="wrap", border_value=0.0) for c in cases_with("wrap", same_shape=True)[::5]]
    )
    stem = ff.edge_stem(5, blur_ksize=(3, 5), sigma=1.5, border="constant", border_value=-2.0)
    for obj in (bank, stem):
        ser = keras.saving.serialize_keras_object(obj)
        text = json.dumps(ser)
        again = keras.saving.deserialize_keras_object(json.loads(text))
        assert json.dumps(keras.saving.serialize_keras_object(again)) == text
    inits = [
        ff.initializers.Sobel(0, 2, 5),
        ff.initializers.Scharr(0, 1),
        ff.initializers.Laplacian(7),
        ff.initializers.Gaussian((5, 3), 1.5, 0.5, depthwise=True),
        ff.initializers.Kernel(np.arange(6.0).reshape(2, 3)),
    ]
    for init in inits:
        text = json.dumps(keras.saving.serialize_keras_object(init))
        again = keras.saving.deserialize_keras_object(json.loads(text))
        np.testing.assert_array_equal(again.kernel2d(), init.kernel2d())


# ---------------------------------------------------------------------------------------------
# 2. tf.data
# ---------------------------------------------------------------------------------------------


def _map_all(ds, fn) -> list[np.ndarray]:
    return [e.numpy() for e in ds.map(fn, num_parallel_calls=1)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tf_data_map_equals_eager(case, rng):
    layer = case.make(border=case.pick_border("reflect"), border_value=0.0)
    x = rng.uniform(0, 255, (10, 9, 12, 2)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4)
    got = np.concatenate(_map_all(ds, layer))
    np.testing.assert_array_equal(got, _np(layer(x)))


def test_tf_data_map_bank_and_stem(rng):
    x = rng.uniform(0, 255, (6, 12, 10, 1)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4)
    for layer in _front_end()[1:]:
        got = np.concatenate(_map_all(ds, layer))
        np.testing.assert_array_equal(got, _np(layer(x)))
    # uint8 images straight from a decoder: the layer casts, as in an eager call
    u8 = rng.integers(0, 256, (5, 8, 8, 1)).astype(np.uint8)
    stem = ff.edge_stem()
    got = np.concatenate(_map_all(tf.data.Dataset.from_tensor_slices(u8).batch(2), stem))
    np.testing.assert_array_equal(got, _np(stem(u8)))


# Variable image sizes, so the traced map function has unknown height and width (the dynamic
# border-index path of fixedfilters.ops), from 1x1 up; kernels far larger than the images.
_DYN_SIZES = [(1, 1), (1, 6), (5, 1), (2, 3), (7, 4), (13, 9)]
_DYN_IDS = (
    "sobel-10-k31",
    "laplacian-k5-s0.5-d10.0",
    "gaussian-5x3-sx1.2-sy0.7",
    "filter2d-5x4-5x4-a(1, 4)-d2.5",
)
_DYN_CASES = [c for c in CASES if c.id in _DYN_IDS]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("border", BORDERS)
def test_tf_data_unknown_spatial_shape(border, data_format, rng):
    images = [rng.uniform(-50, 255, (1, h, w, 2)).astype(np.float32) for h, w in _DYN_SIZES]
    if data_format == "channels_first":
        images = [im.transpose(0, 3, 1, 2) for im in images]
        spec = tf.TensorSpec((None, 2, None, None), tf.float32)
    else:
        spec = tf.TensorSpec((None, None, None, 2), tf.float32)
    ds = tf.data.Dataset.from_generator(lambda: iter(images), output_signature=spec)
    assert ds.element_spec.shape.as_list() == list(spec.shape)
    assert len(_DYN_CASES) == len(_DYN_IDS)
    for case in _DYN_CASES:
        layer = case.make(border=border, border_value=-5.0, data_format=data_format)
        for im, got in zip(images, _map_all(ds, layer), strict=True):
            np.testing.assert_array_equal(got, _np(layer(im)), err_msg=f"{case.id} {im.shape}")
            if data_format == "channels_last":  # and against OpenCV
                want = reference(case, im, border, -5.0)
                assert np.max(np.abs(got - want)) <= tolerance(case, im), case.id


def test_tf_data_padded_batch(rng):
    sizes = [(5, 7), (9, 4), (3, 3), (8, 8)]
    images = [rng.uniform(0, 255, (h, w, 1)).astype(np.float32) for h, w in sizes]
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec((None, None, 1), tf.float32)
    ).padded_batch(2)
    stem = ff.edge_stem()
    for batch, got in zip(ds, _map_all(ds, stem), strict=True):
        np.testing.assert_array_equal(got, _np(stem(batch.numpy())))


# ---------------------------------------------------------------------------------------------
# 3. Mixed precision
# ---------------------------------------------------------------------------------------------

MIXED = ["mixed_float16", "mixed_bfloat16"]
# unit roundoff of the 16-bit formats: an input rounded to them moves by at most this * |x|
UNIT_ROUNDOFF = {"mixed_float16": 2.0**-11, "mixed_bfloat16": 2.0**-8}


def _step_image():
    x = np.zeros((1, 16, 16, 1), np.float32)
    x[:, :, 8:, :] = 255.0
    return x


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_policy_keeps_float32_taps_and_compute(policy, rng):
    x = rng.uniform(0, 255, (2, 12, 11, 2)).astype(np.float32)
    want = {}
    for case in CASES:
        want[case.id] = _np(case.make(border=case.default_border, border_value=0.0)(x))
    keras.mixed_precision.set_global_policy(policy)
    try:
        for case in CASES:
            layer = case.make(border=case.default_border, border_value=0.0)
            out = layer(x)
            assert layer.compute_dtype == "float32" and layer.variable_dtype == "float32"
            assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)
            assert keras.backend.standardize_dtype(out.dtype) == "float32"
            # documented tolerance: none -- the same float32 computation, bit for bit
            np.testing.assert_array_equal(_np(out), want[case.id], err_msg=case.id)
            # an input already rounded to the 16-bit type by an earlier layer moves the output
            # by at most sum|taps| * max|x| * unit roundoff (plus float32 rounding)
            x16 = keras.ops.cast(x, policy.removeprefix("mixed_"))
            err = np.max(np.abs(_np(layer(x16)).astype(np.float64) - want[case.id]))
            # (a selection, tapsum 0, moves by the rounding of the value it selects)
            bound = max(case.tapsum, 1.0) * 255.0 * UNIT_ROUNDOFF[policy] + tolerance(case, x)
            assert err <= bound, f"{case.id}: {err} > {bound}"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_policy_large_gain_does_not_overflow(policy):
    """A 7x7 Sobel on a 0..255 step reaches 163,200: past float16 (65,504)."""
    x = _step_image()
    want = cv2.Sobel(x[0, :, :, 0], cv2.CV_32F, 1, 0, ksize=7)
    assert np.max(np.abs(want)) > np.finfo(np.float16).max
    keras.mixed_precision.set_global_policy(policy)
    try:
        layers = [
            ff.Sobel(1, 0, 7),
            ff.Sobel(1, 0, 7, dtype=policy),  # explicit mixed dtype: the same float32 compute
            ff.FilterBank([ff.Sobel(1, 0, 7), ff.SobelMagnitude(7)]),
        ]
        for layer in layers:
            out = _np(layer(x))
            assert out.dtype == np.float32 and np.all(np.isfinite(out))
            err = np.max(np.abs(out[0, :, :, 0] - want))
            assert err <= 1e-5 * 4096 * 255, (type(layer).__name__, err)
        # In a model the fixed layer hands float32 to the 16-bit layers after it, which cast
        # it: bring large gains into range with `scale` (done in float32) before they do.
        model = keras.Sequential(
            [
                keras.Input((16, 16, 1)),
                ff.Sobel(1, 0, 7, scale=1 / 64, name="scaled"),
                keras.layers.Conv2D(2, 3, name="conv"),
            ]
        )
        assert model.get_layer("conv").compute_dtype == policy.removeprefix("mixed_")
        scaled = _np(model.get_layer("scaled")(x))
        assert scaled.dtype == np.float32 and np.max(np.abs(scaled)) == 163200 / 64
        assert np.all(np.isfinite(_np(model(x))))
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", MIXED)
def test_mixed_policy_fit_keeps_taps(policy, rng):
    keras.mixed_precision.set_global_policy(policy)
    try:
        stem = ff.edge_stem(name="stem")
        model = keras.Sequential(
            [
                keras.Input((16, 16, 1)),
                stem,
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(3, name="head"),
            ]
        )
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        taps = [np.array(_np(w)) for w in stem.weights]
        x = rng.uniform(0, 255, (16, 16, 16, 1)).astype(np.float32)
        hist = model.fit(x, rng.integers(0, 3, 16), epochs=1, batch_size=8, verbose=0)
        assert np.all(np.isfinite(hist.history["loss"]))
        assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in stem.weights)
        for a, w in zip(taps, stem.weights, strict=True):
            np.testing.assert_array_equal(a, _np(w))
    finally:
        keras.mixed_precision.set_global_policy("float32")


# ---------------------------------------------------------------------------------------------
# 4. data_format
# ---------------------------------------------------------------------------------------------


def _cl_to_cf(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_channels_first_equals_channels_last(case, rng):
    x = rng.uniform(-100, 255, (2, 7, 10, 3)).astype(np.float32)
    for border, value in [("reflect_101", 0.0), ("constant", -5.0), ("wrap", 0.0)]:
        if border not in case.borders:
            continue
        last = case.make(border=border, border_value=value, data_format="channels_last")
        first = case.make(border=border, border_value=value, data_format="channels_first")
        got = _np(first(_cl_to_cf(x)))
        assert got.shape[:2] == (2, 3) and (got.shape[2:] == (7, 10) or not case.same_shape)
        np.testing.assert_array_equal(got, _cl_to_cf(_np(last(x))), err_msg=f"{case.id} {border}")


def test_global_image_data_format_is_followed(rng):
    x = rng.uniform(0, 255, (2, 9, 8, 2)).astype(np.float32)
    want = [_np(layer(x)) for layer in _front_end()]
    keras.config.set_image_data_format("channels_first")
    try:
        layers = _front_end()  # no data_format given: follows keras.config
        assert {getattr(layer, "data_format", "channels_first") for layer in layers} == {
            "channels_first"
        }
        for layer, w in zip(layers, want, strict=True):
            np.testing.assert_array_equal(_np(layer(_cl_to_cf(x))), _cl_to_cf(w))
        config = ff.Sobel().get_config()
    finally:
        keras.config.set_image_data_format("channels_last")
    # the resolved format is stored, so a config made under channels_first stays channels_first
    assert config["data_format"] == "channels_first"
    assert ff.Sobel.from_config(config).data_format == "channels_first"
    assert ff.Sobel().data_format == "channels_last"


def test_channels_first_model_exports(tmp_path, rng):
    inp = keras.Input((1, None, None))
    h = ff.edge_stem(data_format="channels_first")(inp)
    model = keras.Model(inp, h)
    x = rng.uniform(0, 255, (2, 1, 12, 9)).astype(np.float32)
    path = str(tmp_path / "cf")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)  # keep a reference: it owns the variables
    got = loaded.serve(tf.constant(x)).numpy()
    want = _cl_to_cf(_np(ff.edge_stem(data_format="channels_last")(np.transpose(x, (0, 2, 3, 1)))))
    assert got.shape == (2, 4, 12, 9)
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------------
# 5. Gradients
# ---------------------------------------------------------------------------------------------

_GRAD_SIZES = [(1, 1), (2, 3), (5, 4)]


def _input_gradient(layer, x, w):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(w * layer(xt))
    return tape.gradient(y, xt).numpy()


LINEAR = [c for c in cases_with(linear=True) if not c.id.startswith("magnitude")]
MAGNITUDE = [c for c in CASES if c.id.startswith("magnitude")]


def _check_input_gradient(case, layer, border, h, w, rng, linear):
    x = rng.standard_normal((1, h, w, 1))
    wt = rng.standard_normal(layer.compute_output_shape((1, h, w, 1)))  # pyramids resize
    g = _input_gradient(layer, x, wt)
    assert g.dtype == np.float64 and g.shape == x.shape
    n = x.size
    eps = 1e-3
    basis = np.eye(n).reshape(n, h, w, 1)
    f = _np(layer(np.concatenate([x + eps * basis, x - eps * basis])))
    fd = ((f[:n] - f[n:]) * wt).reshape(n, -1).sum(1) / (2 * eps)
    scale = case.tapsum * np.abs(wt).sum()
    err = np.max(np.abs(fd - g.ravel())) / scale
    assert err <= (1e-9 if linear else 1e-5), f"{border} {h}x{w}: {err}"
    if linear:
        # J[:, i] = cv2(e_i) - cv2(0): OpenCV's filter as a matrix, borders included
        zero = reference(case, np.zeros((1, h, w, 1)), border, 3.0)
        cols = reference(case, basis, border, 3.0) - zero
        adjoint = (cols * wt).reshape(n, -1).sum(1)
        assert np.max(np.abs(adjoint - g.ravel())) <= 1e-5 * scale + 1e-6, f"{border} {h}x{w}"


@pytest.mark.parametrize("case", LINEAR, ids=lambda c: c.id)
def test_input_gradient_is_the_adjoint(case, rng):
    """d sum(w * f(x)) / dx against central differences (float64 layers), every border, tiny
    images; and against cv2's own filter written as a matrix: grad == J_cv2^T w."""
    for border in case.borders:
        layer = case.make(border=border, border_value=3.0, dtype="float64")
        for h, w in _GRAD_SIZES:
            _check_input_gradient(case, layer, border, h, w, rng, linear=True)


@pytest.mark.parametrize("case", MAGNITUDE, ids=lambda c: c.id)
def test_magnitude_input_gradient(case, rng):
    for border in case.borders:
        layer = case.make(border=border, border_value=3.0, dtype="float64")
        for h, w in _GRAD_SIZES:
            _check_input_gradient(case, layer, border, h, w, rng, linear=False)


def test_magnitude_gradient_is_finite_on_flat_regions():
    """A flat patch (constant image, black border, padding) must not poison training with NaN.

    At gx = gy = 0 the magnitude has a kink; the gradient used there is the subgradient 0.
    """
    x = np.full((1, 6, 7, 1), 10.0, np.float32)
    x[0, :, 4:, 0] = 50.0  # one edge: flat on both sides of it
    for layer in (ff.SobelMagnitude(3), ff.SobelMagnitude(-1), ff.edge_stem()):
        g = _input_gradient(layer, x, np.ones(layer.compute_output_shape(x.shape), np.float32))
        assert np.all(np.isfinite(g)), type(layer).__name__
        assert np.any(g != 0)


def test_trainable_layer_before_edge_stem_trains(rng):
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(1, 3, padding="same", name="pre"),
            ff.edge_stem(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.uniform(0, 1, (16, 16, 16, 1)).astype(np.float32)
    hist = model.fit(x, rng.integers(0, 3, 16), epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in model.get_layer("pre").get_weights())


def test_taps_never_receive_a_gradient(rng):
    front = _front_end()
    inp = keras.Input((12, 12, 1))
    h = inp
    for layer in front:
        h = layer(h)
    head = keras.layers.Dense(1, name="head")
    model = keras.Model(inp, head(keras.layers.GlobalAveragePooling2D()(h)))
    taps = [w for layer in front for w in layer.weights]
    assert taps and all(layer.trainable_weights == [] for layer in front)
    assert {id(w) for w in model.trainable_weights}.isdisjoint({id(w) for w in taps})
    x = tf.constant(rng.uniform(0, 255, (4, 12, 12, 1)).astype(np.float32))
    with tf.GradientTape() as tape:  # automatic watching: trainable variables only
        loss = tf.reduce_sum(model(x))
    assert all(g is None for g in tape.gradient(loss, taps))
    model.compile(keras.optimizers.SGD(1.0), "mse")
    before = [np.array(_np(w)) for w in taps]
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    for b, w in zip(before, taps, strict=True):
        np.testing.assert_array_equal(b, _np(w))
    # the optimizer holds no slot for any tap
    tap_paths = {w.path for w in taps}
    assert not any(p in v.path for v in model.optimizer.variables for p in tap_paths)


# ---------------------------------------------------------------------------------------------
# 6. Distribution
# ---------------------------------------------------------------------------------------------


def test_mirrored_strategy_two_logical_cpus():
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "mirrored_fit.py")],
        env=_subprocess_env(KERAS_BACKEND="tensorflow"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, _tail(out)
    assert "replicas: 2" in out, _tail(out)
