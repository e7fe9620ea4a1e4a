"""output_dtype= (OpenCV's ddepth) and ConvertScaleAbs: integer outputs equal cv2's, byte for byte.

Every reference is cv2 itself, called on the whole (H, W, C) image as a user would (OpenCV
filters interleaved channels itself). Integer outputs are compared by equality.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import cv2
import keras
import numpy as np
import pytest

import fixedfilters as ff
from cvref import CV_BORDER, CV_DEPTH, assert_same_bytes, cv_batch

SIZES = [(1, 1), (1, 6), (5, 1), (2, 3), (7, 13), (19, 23)]


def _image(rng, shape, dtype):
    hi = {"uint8": 256, "uint16": 4096, "int16": 2048}[dtype]
    lo = -hi if dtype == "int16" else 0
    return rng.integers(lo, hi, size=shape).astype(dtype)


# (layer factory, cv2 call(img, ddepth, borderType)); scale/delta dyadic or not (ties included)


def _deriv(name, layer, cv, args, **kw):
    """(id, make(**layer_kwargs), cv(img, ddepth, borderType)) with the same scale/delta."""
    return (
        name,
        lambda **k: layer(*args[0], **kw, **k),
        lambda p, d, b: cv(p, d, *args[1], borderType=b, **args[2], **kw),
    )


DERIV = [
    _deriv("sobel10", ff.Sobel, cv2.Sobel, ((1, 0, 3), (1, 0), {"ksize": 3})),
    _deriv(
        "sobel01-k5-s.25-d.5",
        ff.Sobel,
        cv2.Sobel,
        ((0, 1, 5), (0, 1), {"ksize": 5}),
        scale=0.25,
        delta=0.5,
    ),
    _deriv("sobel11-s.5", ff.Sobel, cv2.Sobel, ((1, 1, 3), (1, 1), {"ksize": 3}), scale=0.5),
    _deriv(
        "sobel10-s.1-d.3",
        ff.Sobel,
        cv2.Sobel,
        ((1, 0, 3), (1, 0), {"ksize": 3}),
        scale=0.1,
        delta=0.3,
    ),
    _deriv(
        "scharr01-s.5-d-1.5", ff.Scharr, cv2.Scharr, ((0, 1), (0, 1), {}), scale=0.5, delta=-1.5
    ),
    _deriv(
        "lap1-s.1-d.3", ff.Laplacian, cv2.Laplacian, ((1,), (), {"ksize": 1}), scale=0.1, delta=0.3
    ),
    _deriv("lap3", ff.Laplacian, cv2.Laplacian, ((3,), (), {"ksize": 3})),
    _deriv(
        "lap5-s.7-d.5", ff.Laplacian, cv2.Laplacian, ((5,), (), {"ksize": 5}), scale=0.7, delta=0.5
    ),
]

BOX = np.ones((3, 3), np.float32) / 9
K54 = (np.arange(20, dtype=np.float32).reshape(5, 4) / 7.0 - 1).astype(np.float32)
FILTERS = [
    ("sharpen", np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32), None, 0.0),
    ("binomial/16", np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32) / 16, None, 0.5),
    ("box/9", BOX, None, 0.5),
    ("5x4", K54, (1, 4), 2.5),
]


@pytest.mark.parametrize("case", DERIV, ids=lambda c: c[0])
@pytest.mark.parametrize("border", list(CV_BORDER))
def test_derivatives_int16_and_uint8_equal_opencv(case, border, rng):
    _, make, cv = case
    for h, w in SIZES:
        img = _image(rng, (2, h, w, 3 if h * w > 20 else 1), "uint8")
        for out in ("int16", "uint8"):
            got = make(border=border, output_dtype=out)(img)
            want = cv_batch(lambda p, out=out: cv(p, CV_DEPTH[out], CV_BORDER[border]), img)
            assert_same_bytes(got, want, f"{case[0]} {border} {img.shape} -> {out}")


@pytest.mark.parametrize("case", DERIV, ids=lambda c: c[0])
def test_derivatives_16bit_inputs_and_channels(case, rng):
    _, make, cv = case
    for in_dtype in ("uint16", "int16"):
        for channels in (1, 2, 3, 4):
            img = _image(rng, (1, 11, 17, channels), in_dtype)
            if in_dtype == "int16":
                img = img * 16  # up to +-32768: the raw derivative leaves int16
            layer = make(border="reflect_101", output_dtype=in_dtype)
            want = cv_batch(lambda p: cv(p, -1, cv2.BORDER_REFLECT_101), img)
            assert_same_bytes(layer(img), want, f"{case[0]} {in_dtype} c={channels}")


def test_sobel_on_a_photo_and_float_input(rng):
    import skimage.data

    photo = skimage.data.camera()[None, :, :, None]
    assert_same_bytes(
        ff.Sobel(1, 0, 3, output_dtype="int16")(photo),
        cv2.Sobel(photo[0, :, :, 0], cv2.CV_16S, 1, 0, ksize=3)[None, :, :, None],
    )
    # float32 input holding integers (exact): ddepth=CV_16S
    img = _image(rng, (1, 9, 14, 3), "uint8").astype(np.float32)
    assert_same_bytes(
        ff.Sobel(0, 1, 3, output_dtype="int16")(img),
        cv_batch(lambda p: cv2.Sobel(p, cv2.CV_16S, 0, 1, ksize=3), img),
    )


@pytest.mark.parametrize("name,kernel,anchor,delta", FILTERS, ids=[f[0] for f in FILTERS])
def test_filter2d_equal_opencv(name, kernel, anchor, delta, rng):
    cv_anchor = anchor or (-1, -1)
    for border in CV_BORDER:
        for h, w in [(1, 1), (3, 2), (13, 17), (40, 77)]:
            img = _image(rng, (1, h, w, 3 if w > 10 else 1), "uint8")
            for out in ("uint8", "int16"):
                layer = ff.Filter2D(
                    kernel, anchor=anchor, delta=delta, border=border, output_dtype=out
                )
                want = cv_batch(
                    lambda p, out=out, border=border: cv2.filter2D(
                        p, CV_DEPTH[out], kernel, anchor=cv_anchor, delta=delta,
                        borderType=CV_BORDER[border],
                    ),
                    img,
                )  # fmt: skip
                assert_same_bytes(layer(img), want, f"{name} {border} {img.shape} {out}")
    for in_dtype in ("uint16", "int16"):
        img = _image(rng, (1, 10, 21, 2), in_dtype)
        want = cv_batch(lambda p: cv2.filter2D(p, -1, kernel, anchor=cv_anchor, delta=delta), img)
        assert_same_bytes(
            ff.Filter2D(kernel, anchor=anchor, delta=delta, output_dtype=in_dtype)(img), want
        )


@pytest.mark.parametrize(
    "ksize,sx,sy",
    [(3, 0, 0), (5, 0, 0), ((7, 7), 1.5, 0), ((5, 3), 1.2, 0.7), (0, 2.0, 0), ((0, 0), 1.1, 2.3)],
)
def test_gaussian_uint8_equals_opencv(ksize, sx, sy, rng):
    ks = ksize if isinstance(ksize, tuple) else (ksize, ksize)
    for border in CV_BORDER:
        for h, w in [(1, 1), (2, 9), (17, 12)]:
            img = _image(rng, (2, h, w, 3), "uint8")
            got = ff.GaussianBlur(ksize, sx, sy, border=border, output_dtype="uint8")(img)
            want = cv_batch(
                lambda p, b=border: cv2.GaussianBlur(p, ks, sx, sigmaY=sy, borderType=CV_BORDER[b]),
                img,
            )
            assert_same_bytes(got, want, f"{ksize} {sx} {sy} {border} {img.shape}")
    img16 = _image(rng, (1, 12, 15, 4), "uint16")
    got = ff.GaussianBlur(ksize, sx, sy, output_dtype="uint16")(img16)
    assert_same_bytes(got, cv_batch(lambda p: cv2.GaussianBlur(p, ks, sx, sigmaY=sy), img16))


def test_gaussian_photo_and_weights_are_the_taps():
    import skimage.data

    photo = skimage.data.astronaut()[None]
    layer = ff.GaussianBlur(7, 1.5, output_dtype="uint8")
    want = cv2.GaussianBlur(photo[0], (7, 7), 1.5)[None]
    assert_same_bytes(layer(photo), want, "astronaut 7x7")
    # rounding the float blur is not OpenCV's uint8 result (so this test can fail)
    rounded = np.round(np.asarray(ff.GaussianBlur(7, 1.5)(photo.astype(np.float32))))
    assert np.mean(rounded != want) > 0.005
    # set_weights changes the output: the taps applied come from the weights
    kx = np.array([[0.25, 0.5, 0.25]], np.float32)
    small = ff.GaussianBlur(3, output_dtype="uint8")
    small.build(photo.shape)
    small.set_weights([kx, kx])
    assert_same_bytes(small(photo), cv2.GaussianBlur(photo[0], (3, 3), 0)[None])
    # other taps: OpenCV's fixed point is the result of its Gaussian taps only, so the output is
    # the float correlation with the weights, rounded half to even and saturated
    ky = np.array([[0, 1, 0]], np.float32)
    small.set_weights([ky, kx])
    blurred = cv2.sepFilter2D(
        photo[0].astype(np.float64), cv2.CV_64F, ky[0], kx[0], borderType=cv2.BORDER_REFLECT_101
    )
    want = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)[None]
    assert_same_bytes(small(photo), want, "changed taps")


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "float32", "float64"])
def test_convert_scale_abs_equals_opencv(dtype, rng):
    if dtype.startswith("float"):
        x = rng.uniform(-400, 400, (2, 7, 33, 3)).astype(dtype)
        x[0, 0, :8, 0] = [0.5, 1.5, 2.5, -0.5, -1.5, 255.5, 254.5, np.nan]  # ties, NaN
        x[0, 0, 8:12, 0] = [np.inf, -np.inf, 1e10, -1e10]
    else:
        x = _image(rng, (2, 7, 33, 3), "uint8" if dtype == "uint8" else "int16").astype(dtype)
    for alpha, beta in [(1.0, 0.0), (0.5, 0.0), (0.1, 0.3), (-0.25, 7.5), (3.0, -2.0)]:
        got = ff.ConvertScaleAbs(alpha, beta)(x)
        want = cv_batch(lambda p, a=alpha, b=beta: cv2.convertScaleAbs(p, alpha=a, beta=b), x)
        assert_same_bytes(got, want, f"{dtype} alpha={alpha} beta={beta}")


def test_convert_scale_abs_after_sobel_int16(rng):
    import skimage.data

    photo = skimage.data.coins()[None, :, :, None]
    model = keras.Sequential([ff.Sobel(1, 0, 3, output_dtype="int16"), ff.ConvertScaleAbs()])
    want = cv2.convertScaleAbs(cv2.Sobel(photo[0, :, :, 0], cv2.CV_16S, 1, 0, ksize=3))
    assert_same_bytes(model(photo)[0, :, :, 0], want)


def test_bad_output_dtype_is_a_value_error():
    with pytest.raises(ValueError, match=r"output_dtype.*Received: output_dtype='int32'"):
        ff.Sobel(output_dtype="int32")
    img = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match=r"Filter2D.*input dtype float32.*'float32'"):
        ff.Filter2D([[1.0]], output_dtype="uint8")(img)
    with pytest.raises(ValueError, match=r"GaussianBlur.*uint16.*input dtype uint8"):
        ff.GaussianBlur(3, output_dtype="uint16")(np.zeros((1, 4, 4, 1), np.uint8))
    with pytest.raises(ValueError, match=r"Laplacian.*float32.*input dtype float64"):
        ff.Laplacian(1, output_dtype="float32")(np.zeros((1, 4, 4, 1), np.float64))


def test_float_outputs_and_config_round_trip(tmp_path, rng):
    img = _image(rng, (1, 9, 11, 2), "uint8")
    out = ff.Sobel(1, 0, 3, output_dtype="float64")(img)
    assert keras.backend.standardize_dtype(out.dtype) == "float64"
    np.testing.assert_allclose(
        np.asarray(out), cv_batch(lambda p: cv2.Sobel(p, cv2.CV_64F, 1, 0, ksize=3), img)
    )
    layer = ff.GaussianBlur(0, 2.0, output_dtype="uint8", border="replicate")
    config = layer.get_config()
    assert config["output_dtype"] == "uint8"
    again = ff.GaussianBlur.from_config(config)
    assert_same_bytes(again(img), np.asarray(layer(img)))
    model = keras.Sequential([keras.Input((None, None, 2), dtype="uint8"), layer])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert_same_bytes(loaded.predict(img, verbose=0), np.asarray(layer(img)))
    assert [r.kind for r in ff.weight_report(loaded).rows] == ["fixed", "fixed"]


def test_integer_outputs_have_no_gradient_float_outputs_do():
    import tensorflow as tf

    x = tf.constant(np.arange(48, dtype=np.float32).reshape(1, 4, 4, 3))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_int = ff.Sobel(1, 0, 3, output_dtype="int16")(x)
        y_abs = ff.ConvertScaleAbs()(x)
        y_float = ff.Sobel(1, 0, 3, output_dtype="float32")(x)
        loss_int = tf.reduce_sum(tf.cast(y_int, tf.float32))
        loss_abs = tf.reduce_sum(tf.cast(y_abs, tf.float32))
        loss_float = tf.reduce_sum(y_float * y_float)
    assert y_int.dtype == tf.int16
    assert tape.gradient(loss_int, x) is None
    assert tape.gradient(loss_abs, x) is None
    assert tape.gradient(loss_float, x) is not None


def test_sobel_magnitude_ksize1_all_borders(rng):
    for border in CV_BORDER:
        for h, w in [(1, 1), (1, 5), (4, 1), (2, 2), (9, 14)]:
            img = rng.uniform(-50, 255, (1, h, w, 3)).astype(np.float32)
            got = np.asarray(ff.SobelMagnitude(1, border=border)(img))

            def cv(p, b=CV_BORDER[border]):
                gx = cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=1, borderType=b)
                gy = cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=1, borderType=b)
                return cv2.magnitude(gx, gy)

            np.testing.assert_allclose(got, cv_batch(cv, img), rtol=1e-6, atol=1e-4)


def test_exact_paths_in_graphs_fit_and_tf_data(rng):
    import tensorflow as tf

    img = _image(rng, (4, 12, 10, 3), "uint8")
    layer = ff.GaussianBlur(5, output_dtype="uint8")
    want = cv_batch(lambda p: cv2.GaussianBlur(p, (5, 5), 0), img)
    fn = tf.function(
        lambda x: layer(x), input_signature=[tf.TensorSpec((None,) * 3 + (3,), tf.uint8)]
    )
    assert_same_bytes(fn(img).numpy(), want, "tf.function dynamic")
    ds = tf.data.Dataset.from_tensor_slices(img).batch(2).map(layer)
    assert_same_bytes(np.concatenate([b.numpy() for b in ds]), want, "tf.data")
    sobel = ff.Sobel(1, 0, 3, output_dtype="int16")
    inp = keras.Input((12, 10, 3), dtype="uint8")
    feats = keras.layers.Lambda(lambda t: keras.ops.cast(t, "float32"))(sobel(inp))
    model = keras.Model(inp, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(feats)))
    model.compile("sgd", "mse")
    model.fit(img, np.zeros((4, 1)), epochs=1, verbose=0)
    assert sobel.trainable_weights == []
    got = keras.Model(inp, sobel.output).predict(img, verbose=0)
    assert_same_bytes(got, cv_batch(lambda p: cv2.Sobel(p, cv2.CV_16S, 1, 0, ksize=3), img))


def test_saved_model_dynamic_size_in_a_fresh_process(tmp_path, rng):
    import tensorflow as tf

    module = tf.Module()
    module.blur = ff.GaussianBlur(7, 1.5, output_dtype="uint8")
    module.sobel = ff.Sobel(1, 0, 3, output_dtype="int16")
    # a non-dyadic scale: OpenCV's float32 sepFilter2D order (3 channels) and IPP's path (1)
    module.scaled = ff.Sobel(0, 1, 3, scale=0.1, delta=0.3, output_dtype="int16")
    module.f = tf.function(
        lambda x: (module.blur(x), module.sobel(x), module.scaled(x)),
        input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)],
    )
    module.g = tf.function(
        lambda x: module.scaled(x), input_signature=[tf.TensorSpec((None, None, None, 1), tf.uint8)]
    )
    tf.saved_model.save(module, str(tmp_path / "sm"))
    img = _image(rng, (2, 23, 31, 3), "uint8")
    np.save(tmp_path / "img.npy", img)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({str(tmp_path / "sm")!r})
        img = np.load({str(tmp_path / "img.npy")!r})
        a, b, c = m.f(tf.constant(img))
        d = m.g(tf.constant(img[..., :1]))
        for name, v in zip("abcd", (a, b, c, d)):
            np.save({str(tmp_path)!r} + "/" + name + ".npy", v.numpy())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    scaled = lambda p: cv2.Sobel(p, cv2.CV_16S, 0, 1, ksize=3, scale=0.1, delta=0.3)  # noqa: E731
    assert_same_bytes(np.load(tmp_path / "c.npy"), cv_batch(scaled, img))
    assert_same_bytes(np.load(tmp_path / "d.npy"), cv_batch(scaled, img[..., :1]))
    assert_same_bytes(
        np.load(tmp_path / "a.npy"), cv_batch(lambda p: cv2.GaussianBlur(p, (7, 7), 1.5), img)
    )
    assert_same_bytes(
        np.load(tmp_path / "b.npy"),
        cv_batch(lambda p: cv2.Sobel(p, cv2.CV_16S, 1, 0, ksize=3), img),
    )
