"""Load a ``.keras`` file in a fresh process that imports only keras and fixedfilters.

Usage: ``python load_keras.py MODEL.keras INPUT.npy EXPECTED.npy`` (backend from
``KERAS_BACKEND``). Exit code 0 when the loaded model reproduces EXPECTED.npy on INPUT.npy,
its fixed layers are still fixed and were restored as fixedfilters classes; otherwise 1.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import fixedfilters  # noqa: E402, F401  (registers the layers with Keras)


def _fixed_layers(layer):
    if isinstance(layer, fixedfilters.FixedLayer):
        yield layer
    for sub in getattr(layer, "layers", []):
        yield from _fixed_layers(sub)


def main(model_path: str, x_path: str, want_path: str) -> int:
    model = keras.models.load_model(model_path)
    x = np.load(x_path)
    want = np.load(want_path)
    got = np.asarray(keras.ops.convert_to_numpy(model(x)))
    fixed = list(_fixed_layers(model))
    problems = []
    if not fixed:
        problems.append("no fixedfilters layer was restored")
    if any(layer.trainable_weights for layer in fixed):
        problems.append("a restored fixed layer has trainable weights")
    if got.shape != want.shape or got.dtype != want.dtype:
        problems.append(f"output {got.shape} {got.dtype} != expected {want.shape} {want.dtype}")
    else:
        scale = max(1.0, float(np.max(np.abs(want))))
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        # Another backend sums in another order (JAX 0.10 on CPU differs from TensorFlow by
        # ~1.1e-6 of the output's range on this stack): the README's float32 bound, 1e-5.
        if not err <= 1e-5 * scale:
            problems.append(f"max|diff|={err} (scale {scale})")
    print(
        f"backend={keras.backend.backend()} fixed_layers={len(fixed)} "
        f"classes={sorted({type(f).__name__ for f in fixed})}"
    )
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
