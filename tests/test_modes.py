"""Every layer in every way Keras runs it: the mode matrix, driven by ``cvref.MODE_CASES``.

Each registered case (and each integer ``output_dtype`` it supports, and the layers outside the
parity table: Canny, ConvertScaleAbs, the median's other paths, FilterBank, edge_stem) runs

- eagerly (the reference of every other mode: the same layer instance, built with the same shape);
- in ``predict`` with a batch size that does not divide the data;
- in ``tf.function`` with an unknown batch (static model) and unknown batch, height and width
  (dynamic model; and the static model's layers, already called eagerly, traced again without
  sizes);
- inside ``tf.data.Dataset.map`` (static sizes, and unknown sizes from a generator);
- exported as a SavedModel (``model.export``, unknown batch, height and width), reloaded and
  served at both sizes in a fresh process that does not import fixedfilters;
- under ``fit`` of a trainable head on top, after which the layer's output is unchanged;
- saved to a ``.keras`` file and loaded;
- on JAX: ``predict`` (jitted), ``jax.jit`` of a stateless call, ``fit`` and ``.keras`` (this
  module runs again in the JAX leg, see ``tests/test_backends.py``)

at two image sizes, one on each side of the size at which the layers switch from the
convolution path to the compiled stencil path (:data:`fixedfilters.ops.STENCIL_MIN_ELEMENTS`
values per image), for one- and three-channel images. Every mode must equal the eager result
bit for bit (integer outputs and float outputs alike: a layer picks its path from the shape it
was built with, so the arithmetic is the same; on JAX, where a jitted function fuses
multiply-adds, float outputs within float32 rounding and integer outputs equal with
``JAX_ENABLE_X64=1``). A model built with unknown height and width
takes the convolution path for every size: its integer outputs must still equal the static
model's, its float outputs within the registry's float tolerance.

To stay affordable, every case of a mode runs in one multi-input, multi-output model (one trace,
one compile, one export); when that fails, each case is run alone to name the culprits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from cvref import CORE_MODE_CASES, MODE_CASES, ModeCase, mode_input

BACKEND = keras.backend.backend()
ON_TF = BACKEND == "tensorflow"
from fixedfilters.ops import STENCIL_MIN_ELEMENTS  # noqa: E402

# (height, width): below and above the stencil threshold for 1 and 3 channels.
SIZES = {"small": (16, 19), "large": (36, 33)}
assert 16 * 19 * 3 < STENCIL_MIN_ELEMENTS <= 36 * 33 * 1
BATCH = 3  # predict, tf.data, fit use batches of CHUNK: the last one is short
CHUNK = 2
FLOAT_RTOL = 1e-5  # float outputs of the conv path against the stencil path, relative to max|x|


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _key(case: ModeCase) -> str:
    return f"in_{case.dtype}_{case.channels}"


@keras.saving.register_keras_serializable(package="fixedfilters_tests")
class ToFloat(keras.layers.Layer):
    """Casts a layer's output to float32 for the trainable head (integer outputs included)."""

    def call(self, x):
        return keras.ops.cast(x, "float32")


class Group:
    """The cases of one size as one model: one input per (dtype, channels), one output each."""

    def __init__(self, cases: list[ModeCase], hw: tuple[int, int], dynamic: bool = False):
        self.cases = cases
        self.hw = hw
        self.dynamic = dynamic
        shape_hw = (None, None) if dynamic else hw
        self.inputs = {}
        for c in cases:
            if _key(c) not in self.inputs:
                self.inputs[_key(c)] = keras.Input(
                    (*shape_hw, c.channels), dtype=c.dtype, name=_key(c)
                )
        self.layers = [c.make() for c in cases]
        outs = [layer(self.inputs[_key(c)]) for c, layer in zip(cases, self.layers, strict=True)]
        self.model = keras.Model(self.inputs, outs)
        # one batch per input, whatever case came first with that dtype and channel count
        self.data = {
            k: mode_input(_case_for(cases, k), (BATCH, *hw, spec.shape[-1]), seed=i)
            for i, (k, spec) in enumerate(sorted(self.inputs.items()))
        }
        # eager, in the batch sizes every mode uses (one compiled computation per shape, shared)
        self.eager = [self.eager_call(layer, self.data[_key(c)]) for c, layer in self.pairs()]

    def pairs(self):
        return zip(self.cases, self.layers, strict=True)

    @staticmethod
    def eager_call(layer, x) -> np.ndarray:
        return np.concatenate([_np(layer(x[i : i + CHUNK])) for i in range(0, len(x), CHUNK)])

    def compare(self, outs, what: str) -> list[str]:
        outs = list(outs)
        assert len(outs) == len(self.cases), (what, len(outs), len(self.cases))
        if BACKEND == "jax":
            # XLA fuses multiply-adds inside a jitted function (eager JAX runs op by op): float
            # outputs within float32 rounding there; integer outputs stay equal (the JAX leg
            # runs this module with JAX_ENABLE_X64=1, which the exact emulations need there)
            return [f"{p} ({what})" for p in _close(self.cases, [_np(o) for o in outs], self.eager)]
        problems = []
        for c, got, want in zip(self.cases, outs, self.eager, strict=True):
            got = _np(got)
            if got.dtype != want.dtype or got.shape != want.shape:
                problems.append(f"{c.id}: {got.dtype}{got.shape} != {want.dtype}{want.shape}")
            elif not np.array_equal(got, want, equal_nan=True):
                bad = int(np.sum(got != want))
                problems.append(f"{c.id}: {bad} of {got.size} values differ from eager ({what})")
        return problems


def _case_for(cases, key):
    return next(c for c in cases if _key(c) == key)


def _run(mode, cases, hw, dynamic=False, **kwargs) -> list[str]:
    """Run ``mode`` on all cases in one model; on an error, each case alone to name it."""
    try:
        return mode(Group(cases, hw, dynamic), **kwargs)
    except Exception as whole:  # noqa: BLE001 - find which cases fail, then report them all
        problems = []
        for c in cases:
            try:
                problems += mode(Group([c], hw, dynamic), **kwargs)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{c.id}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
        return problems or [f"the whole group failed, every case alone passed: {whole!r}"]


def _assert_clean(problems):
    assert not problems, f"{len(problems)} failing:\n" + "\n".join(problems)


# -- the modes -------------------------------------------------------------------------------


def _as_list(outs) -> list:
    return list(outs) if isinstance(outs, (list, tuple)) else [outs]


def _in_chunks(fn, g: Group) -> list[np.ndarray]:
    """``fn`` (a function of the input dict) on batches of CHUNK, outputs concatenated."""
    chunks = [
        _as_list(fn({k: v[i : i + CHUNK] for k, v in g.data.items()}))
        for i in range(0, BATCH, CHUNK)
    ]
    return [np.concatenate([_np(ch[j]) for ch in chunks]) for j in range(len(g.cases))]


def _batches(g: Group):
    """The data in batches of CHUNK (TensorFlow: a dataset with an unknown batch size, so
    ``predict`` traces once; JAX: arrays, ``predict`` batches them itself)."""
    if ON_TF:
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices(g.data).batch(CHUNK)
    return g.data


def mode_predict(g: Group) -> list[str]:
    outs = g.model.predict(_batches(g), batch_size=None if ON_TF else CHUNK, verbose=0)
    return g.compare(_as_list(outs), "predict, batches of 2 and 1")


def mode_tf_function(g: Group) -> list[str]:
    import tensorflow as tf

    spec = {
        k: tf.TensorSpec((None, *([None, None] if g.dynamic else g.hw), v.shape[-1]), v.dtype)
        for k, v in g.data.items()
    }
    fn = tf.function(lambda d: g.model(d), input_signature=[spec])
    # two batch sizes through the same concrete function
    outs = _in_chunks(fn, g)
    return g.compare(outs, "tf.function")


def mode_tf_data(g: Group) -> list[str]:
    import tensorflow as tf

    if g.dynamic:  # unknown height and width in the traced map function
        keys = list(g.data)
        sig = tuple(
            tf.TensorSpec((None, None, None, g.data[k].shape[-1]), g.data[k].dtype) for k in keys
        )
        batches = [tuple(g.data[k][i : i + CHUNK] for k in keys) for i in range(0, BATCH, CHUNK)]
        ds = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=sig)
        ds = ds.map(lambda *xs: tuple(_as_list(g.model(dict(zip(keys, xs, strict=True))))))
    else:
        ds = tf.data.Dataset.from_tensor_slices(g.data).batch(CHUNK)
        ds = ds.map(lambda d: tuple(_as_list(g.model(d))))
    parts = list(ds)
    outs = [np.concatenate([_np(p[i]) for p in parts]) for i in range(len(g.cases))]
    return g.compare(outs, "tf.data.map")


def mode_fit(g: Group) -> list[str]:
    pooled = [
        keras.layers.GlobalAveragePooling2D()(ToFloat()(out)) for out in _as_list(g.model.outputs)
    ]
    h = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate()(pooled)
    h = keras.layers.Dense(1, name="head")(keras.layers.BatchNormalization()(h))
    trainer = keras.Model(g.inputs, h)
    trainer.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = [_np(w) for w in g.model.weights]
    head_before = _np(trainer.get_layer("head").kernel)
    trainer.fit(g.data, np.ones((BATCH, 1), "float32"), batch_size=CHUNK, epochs=1, verbose=0)
    problems = []
    if np.array_equal(_np(trainer.get_layer("head").kernel), head_before):
        problems.append("the head did not train")
    for w, b in zip(g.model.weights, before, strict=True):
        if not np.array_equal(_np(w), b):
            problems.append(f"fixed weight {w.path} changed in fit")
    outs = [g.eager_call(layer, g.data[_key(c)]) for c, layer in g.pairs()]
    return problems + g.compare(outs, "after fit")


def mode_keras_file(g: Group, tmp_path) -> list[str]:
    path = str(tmp_path / f"group-{len(g.cases)}-{g.dynamic}.keras")
    g.model.save(path)
    loaded = keras.models.load_model(path)
    problems = []
    for w, v in zip(g.model.weights, loaded.weights, strict=True):
        if not np.array_equal(_np(w), _np(v)):
            problems.append(f"weight {w.path} differs after load")
    # eagerly (predict's trace is tested above): the loaded layers, in the same batches
    layers = {layer.name: layer for layer in loaded.layers}
    outs = [g.eager_call(layers[layer.name], g.data[_key(c)]) for c, layer in g.pairs()]
    return problems + g.compare(outs, ".keras load")


def mode_jax_jit(g: Group) -> list[str]:
    import jax

    tv = [v.value for v in g.model.trainable_variables]
    ntv = [v.value for v in g.model.non_trainable_variables]
    fn = jax.jit(lambda d: g.model.stateless_call(tv, ntv, d)[0])
    outs = _in_chunks(fn, g)
    return g.compare(outs, "jax.jit stateless_call")


def mode_retrace_unknown_sizes(g: Group) -> list[str]:
    """The static model's layers (built and called eagerly on static sizes) traced again with
    unknown batch, height and width: they take the convolution path there, so integer outputs
    must equal the eager ones and float outputs stay within the float tolerance."""
    import tensorflow as tf

    spec = {k: tf.TensorSpec((None, None, None, v.shape[-1]), v.dtype) for k, v in g.data.items()}
    fn = tf.function(lambda d: g.model(d), input_signature=[spec])
    outs = _in_chunks(fn, g)
    return _close(g.cases, outs, g.eager)


def mode_dynamic_vs_static(g: Group) -> list[str]:
    """The unknown-size model (convolution path) against the static one's eager result."""
    return _close(g.cases, g.eager, Group(g.cases, g.hw, dynamic=False).eager)


def _close(cases, outs, wants) -> list[str]:
    """Integer outputs equal, float outputs within FLOAT_RTOL of the largest value."""
    problems = []
    for c, got, want in zip(cases, outs, wants, strict=True):
        if got.dtype != want.dtype or got.shape != want.shape:
            problems.append(f"{c.id}: {got.dtype}{got.shape} != {want.dtype}{want.shape}")
        elif got.dtype.kind in "iub":
            if not np.array_equal(got, want):
                problems.append(f"{c.id}: {int(np.sum(got != want))} integer values differ")
        else:
            scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
            err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
            if err > FLOAT_RTOL * scale:
                problems.append(f"{c.id}: max|dynamic - static| = {err:.3g} (scale {scale:.3g})")
    return problems


# (model shapes, mode, image size, cases). Static models at both sizes (both computation paths);
# models of unknown height and width take the convolution path at every size, so one size runs
# there, and both are compared eagerly against the static model (vs_static). Every case of the
# registry (each integer output_dtype included) runs in predict, static at both sizes, and as
# one SavedModel of unknown sizes served in a fresh process (the test below); the other modes
# trace the same forward pass again and run the core cases (every float case, every layer
# outside the table, each integer output of each family's first case).
MATRIX = [
    ("static", "predict", "small", "all"),
    ("static", "predict", "large", "all"),
    ("dynamic", "predict", "large", "core"),
    ("static", "keras_file", "small", "core"),
    ("static", "keras_file", "large", "core"),
    ("static", "fit", "large", "core"),
    ("dynamic", "vs_static", "small", "core"),
    ("dynamic", "vs_static", "large", "core"),
]
if ON_TF:
    MATRIX += [
        ("static", "tf_function", "small", "core"),
        ("static", "tf_function", "large", "core"),
        ("static", "tf_data", "large", "core"),
        ("dynamic", "tf_function", "small", "core"),
        ("dynamic", "tf_data", "large", "core"),
        ("static", "retrace_unknown_sizes", "large", "core"),
    ]
if BACKEND == "jax":
    # The JAX leg runs in one process beside the TensorFlow suite, and every jitted group is one
    # long XLA compile: jitted predict at both sizes, jax.jit of a stateless call, .keras, for
    # the core cases (JAX has no unknown sizes inside a trace; fit is TensorFlow's leg above).
    MATRIX = [
        ("static", "predict", "small", "core"),
        ("static", "predict", "large", "core"),
        ("static", "jax_jit", "large", "core"),
        ("static", "keras_file", "small", "core"),
    ]
CASE_SETS = {"all": MODE_CASES, "core": CORE_MODE_CASES}
MODES = {
    "predict": mode_predict,
    "keras_file": mode_keras_file,
    "fit": mode_fit,
    "vs_static": mode_dynamic_vs_static,
    "retrace_unknown_sizes": mode_retrace_unknown_sizes,
    "tf_function": mode_tf_function,
    "tf_data": mode_tf_data,
    "jax_jit": mode_jax_jit,
}


@pytest.mark.parametrize("shapes,mode,size,which", MATRIX, ids=["-".join(t) for t in MATRIX])
def test_every_layer_in_every_mode_equals_eager(shapes, mode, size, which, tmp_path):
    fn = MODES[mode]
    kwargs = {"tmp_path": tmp_path} if "tmp_path" in fn.__code__.co_varnames else {}
    cases = CASE_SETS[which]
    _assert_clean(_run(fn, cases, SIZES[size], dynamic=shapes == "dynamic", **kwargs))


def test_registry_covers_integer_outputs_and_other_layers():
    ids = {c.id for c in MODE_CASES}
    assert any(i.endswith("-uint8-to-uint8") for i in ids)
    assert any(i.endswith("-to-int16") for i in ids) and any(i.endswith("-to-uint16") for i in ids)
    for prefix in ("box-", "blur-", "canny-", "convert-scale-abs", "pyrdown", "morph-", "median-"):
        assert any(i.startswith(prefix) for i in ids), prefix


@pytest.mark.skipif(not ON_TF, reason="SavedModel serving is TensorFlow's")
def test_savedmodel_of_the_whole_registry_serves_in_a_fresh_process(tmp_path):
    """``model.export`` of every registered case (unknown batch, height and width), served at
    both sizes in batches of 2 and 1 by a process that never imports fixedfilters, equals the
    eager result of the same layers."""
    g = Group(MODE_CASES, SIZES["large"], dynamic=True)
    g.model.export(str(tmp_path / "model"), verbose=False)
    arrays = {}
    for size, hw in SIZES.items():
        data = (
            g.data
            if hw == g.hw
            else {
                k: mode_input(_case_for(g.cases, k), (BATCH, *hw, v.shape[-1]), seed=i)
                for i, (k, v) in enumerate(sorted(g.data.items()))
            }
        )
        eager = (
            g.eager
            if hw == g.hw
            else [g.eager_call(layer, data[_key(c)]) for c, layer in g.pairs()]
        )
        arrays |= {f"{size}/in/{k}": v for k, v in data.items()}
        arrays |= {f"{size}/out/{i}": v for i, v in enumerate(eager)}
    np.savez(tmp_path / "arrays.npz", **arrays)
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        d = sys.argv[1]
        loaded = tf.saved_model.load(d + "/model")
        arrays = np.load(d + "/arrays.npz")
        bad = []
        for size in {sorted(SIZES)!r}:
            x = {{k.split("/")[-1]: arrays[k] for k in arrays.files if k.startswith(size + "/in/")}}
            chunks = []
            for i in range(0, {BATCH}, {CHUNK}):
                outs = loaded.serve({{k: tf.constant(v[i : i + {CHUNK}]) for k, v in x.items()}})
                if isinstance(outs, dict):
                    outs = [outs[k] for k in sorted(outs, key=lambda s: int(s.rsplit("_", 1)[-1]))]
                chunks.append([o.numpy() for o in outs])
            for j in range(len(chunks[0])):
                got = np.concatenate([ch[j] for ch in chunks])
                want = arrays[f"{{size}}/out/{{j}}"]
                if got.dtype != want.dtype or not np.array_equal(got, want, equal_nan=True):
                    bad.append([size, j])
        print(json.dumps({{"n": len(chunks[0]), "bad": bad,
                          "imported": [m for m in sys.modules if m.startswith("fixedfilters")]}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["n"] == len(MODE_CASES)
    assert result["imported"] == []
    assert result["bad"] == [], [(size, MODE_CASES[j].id) for size, j in result["bad"]]
