"""Checks that only make sense on Keras's JAX backend (run by tests/test_backends.py with
``KERAS_BACKEND=jax``, next to tests/test_parity.py; not collected by the TensorFlow run).

The layers are written against ``keras.ops`` only: here they run under ``jax.jit``, give
``jax.grad`` the adjoint of the filter, train in ``model.fit`` with their taps untouched, keep
float32 under mixed policies and honour ``channels_first``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import BORDERS, CASES, reference, tolerance

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="run with KERAS_BACKEND=jax (tests/test_backends.py)"
)

SOME = [CASES[i] for i in (0, 3, 9, 11, 14, 17, 20, 25, 27, 28)]


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_backend_is_jax():
    assert keras.backend.backend() == "jax"
    assert isinstance(ff.Sobel()(np.ones((1, 4, 4, 1), np.float32)), jax.Array)


@pytest.mark.parametrize("case", SOME, ids=lambda c: c.id)
def test_jit_stateless_call_matches_opencv(case, rng):
    layer = case.make(border="reflect", border_value=0.0)
    x = rng.uniform(0, 255, (2, 9, 12, 2)).astype(np.float32)
    layer.build(x.shape)
    assert layer.trainable_variables == []
    fn = jax.jit(lambda taps, x: layer.stateless_call([], taps, x)[0])
    got = _np(fn([v.value for v in layer.non_trainable_variables], x))
    want = reference(case, x, "reflect")
    assert np.max(np.abs(got - want)) <= tolerance(case, x)


@pytest.mark.parametrize("case", SOME, ids=lambda c: c.id)
def test_channels_first(case, rng):
    x = rng.uniform(-50, 255, (2, 7, 10, 3)).astype(np.float32)
    for border in ("reflect_101", "constant", "wrap"):
        last = case.make(border=border, border_value=-5.0)
        first = case.make(border=border, border_value=-5.0, data_format="channels_first")
        got = _np(first(np.transpose(x, (0, 3, 1, 2))))
        np.testing.assert_allclose(
            got, np.transpose(_np(last(x)), (0, 3, 1, 2)), rtol=0, atol=tolerance(case, x)
        )


@pytest.mark.parametrize(
    "case", [c for c in SOME if not c.id.startswith("magnitude")], ids=lambda c: c.id
)
def test_jax_grad_is_the_adjoint(case, rng):
    """jax.grad of sum(w * f(x)) == J^T w, J = OpenCV's filter as a matrix (float32 here)."""
    for border in BORDERS:
        layer = case.make(border=border, border_value=3.0)
        h, w = 4, 5
        x = rng.standard_normal((1, h, w, 1)).astype(np.float32)
        wt = rng.standard_normal((1, h, w, 1)).astype(np.float32)
        g = _np(jax.grad(lambda v, wt=wt, layer=layer: jnp.sum(wt * layer(v)))(jnp.asarray(x)))
        n = h * w
        basis = np.eye(n, dtype=np.float32).reshape(n, h, w, 1)
        cols = reference(case, basis, border, 3.0) - reference(case, 0 * x, border, 3.0)
        adjoint = (cols * wt).reshape(n, -1).sum(1)
        scale = case.tapsum * np.abs(wt).sum()
        assert np.max(np.abs(adjoint - g.ravel())) <= 1e-5 * scale, border


def test_fit_keeps_taps_and_trains_head(rng):
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
    assert stem.trainable_weights == []
    taps = {id(w) for w in stem.weights}
    assert taps.isdisjoint({id(w) for w in model.trainable_variables})
    model.compile(
        keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    before = [np.array(_np(w)) for w in stem.weights]
    head0 = [np.array(w) for w in model.get_layer("head").get_weights()]
    x = rng.uniform(0, 255, (16, 16, 16, 1)).astype(np.float32)
    hist = model.fit(x, rng.integers(0, 3, 16), epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    for a, w in zip(before, stem.weights, strict=True):
        np.testing.assert_array_equal(a, _np(w))
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(head0, model.get_layer("head").get_weights(), strict=True)
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_float32_compute(policy):
    x = np.zeros((1, 16, 16, 1), np.float32)
    x[:, :, 8:] = 255.0
    keras.mixed_precision.set_global_policy(policy)
    try:
        layer = ff.Sobel(1, 0, 7)
        out = layer(x)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)
        assert np.all(np.isfinite(_np(out))) and np.max(np.abs(_np(out))) == 163200.0
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_keras_file_round_trip(tmp_path, rng):
    model = keras.Sequential([keras.Input((10, 9, 2)), ff.edge_stem(), ff.Scharr(0, 1)])
    x = rng.uniform(0, 255, (2, 10, 9, 2)).astype(np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


def test_canny_matches_cv2_under_jit_and_predict(rng):
    import cv2

    images = rng.integers(0, 256, (2, 23, 31, 3)).astype(np.uint8)
    images[1] = 0
    images[1, 5:17, 8:25] = (200, 40, 90)
    for ap, l2 in [(3, False), (7, True)]:
        layer = ff.Canny(30, 90.5, ap, l2)
        expected = np.stack([cv2.Canny(im, 30, 90.5, None, ap, l2) for im in images])
        np.testing.assert_array_equal(_np(layer(images))[..., 0], expected)
        inputs = keras.Input((None, None, 3), dtype="uint8")
        model = keras.Model(inputs, layer(inputs))
        np.testing.assert_array_equal(model.predict(images, verbose=0)[..., 0], expected)


def test_integer_outputs_equal_cv2_under_predict(rng):
    """The exact integer paths inside a jitted ``predict`` (static and dynamic sizes): the
    configurations whose float32 arithmetic needs no float64 (JAX_ENABLE_X64 is unset here)."""
    import cv2

    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)
    cases = [
        (ff.GaussianBlur(5, 1.2, output_dtype="uint8"), lambda p: cv2.GaussianBlur(p, (5, 5), 1.2)),
        (ff.Filter2D(sharpen, output_dtype="uint8"), lambda p: cv2.filter2D(p, -1, sharpen)),
        (ff.Laplacian(3, output_dtype="int16"), lambda p: cv2.Laplacian(p, cv2.CV_16S, ksize=3)),
        (ff.Laplacian(5, output_dtype="int16"), lambda p: cv2.Laplacian(p, cv2.CV_16S, ksize=5)),
        (
            ff.Sobel(1, 0, 3, scale=0.25, output_dtype="int16"),
            lambda p: cv2.Sobel(p, cv2.CV_16S, 1, 0, ksize=3, scale=0.25),
        ),
        (ff.BoxFilter(4, output_dtype="uint8"), lambda p: cv2.boxFilter(p, -1, (4, 4))),
        (ff.PyrDown(output_dtype="uint8"), cv2.pyrDown),
        (ff.MedianBlur(5, output_dtype="uint8"), lambda p: cv2.medianBlur(p, 5)),
    ]
    images = rng.integers(0, 256, (2, 21, 34, 3)).astype(np.uint8)
    for layer, cv_fn in cases:
        expected = np.stack([cv_fn(im) for im in images])
        for size in [(21, 34), (None, None)]:
            inputs = keras.Input((*size, 3), dtype="uint8")
            model = keras.Model(inputs, layer(inputs))
            got = model.predict(images, verbose=0)
            assert got.dtype == expected.dtype, (layer.name, got.dtype)
            np.testing.assert_array_equal(got, expected, err_msg=f"{layer.name} {size}")


def test_16bit_pyramids_equal_cv2_under_predict(rng):
    """PyrDown / PyrUp on int16 images (negative sums: OpenCV's floor shift) in a jitted
    ``predict``, byte for byte."""
    import cv2

    images = rng.integers(-32768, 32768, (2, 21, 34, 3)).astype(np.int16)
    for layer, cv_fn in (
        (ff.PyrDown(output_dtype="int16"), cv2.pyrDown),
        (ff.PyrUp(output_dtype="int16"), cv2.pyrUp),
    ):
        expected = np.stack([cv_fn(im) for im in images])
        inputs = keras.Input((21, 34, 3), dtype="int16")
        got = keras.Model(inputs, layer(inputs)).predict(images, verbose=0)
        assert got.dtype == np.int16, got.dtype
        np.testing.assert_array_equal(got, expected, err_msg=layer.name)
