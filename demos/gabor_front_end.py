"""A fixed Gabor front end on scikit-learn's bundled digits (no download), in a few seconds.

A ``gabor_bank`` (4 orientations x 2 wavelengths, every weight fixed) turns each 8x8 digit,
upsampled to 16x16, into 8 orientation channels; a small trainable head (pooling + dense) learns
from them. The demo prints the test accuracy, checks that the Gabor taps did not move during
``fit`` and that the stem equals ``cv2.filter2D`` with ``cv2.getGaborKernel``, and exits 0 when
every check passes (1 otherwise).

Run: ``python demos/gabor_front_end.py`` (``--epochs N`` to train longer).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import fixedfilters as ff  # noqa: E402

SIZE = 16
THETAS = np.arange(4) * np.pi / 4
LAMBDAS = [4.0, 8.0]


def load(seed: int = 0):
    digits = load_digits()
    x = np.stack(
        [cv2.resize(im, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for im in digits.images]
    )
    x = (x / 16.0).astype(np.float32)[..., None]
    return train_test_split(x, digits.target, test_size=0.25, random_state=seed)


def build() -> tuple[keras.Model, ff.FilterBank]:
    stem = ff.gabor_bank(7, 2.0, THETAS, LAMBDAS, gamma=0.5, psis=[np.pi / 2], name="gabor")
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 1)),
            stem,
            keras.layers.Lambda(keras.ops.abs, name="energy"),  # odd Gabor: sign-free response
            keras.layers.AveragePooling2D(4, name="pool"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, name="head"),
        ]
    )
    return model, stem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = load()
    model, stem = build()
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    before = [np.array(w) for w in stem.get_weights()]
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=0)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    fixed = sum(int(np.prod(w.shape)) for w in stem.weights)
    print(
        f"gabor_bank: {len(stem.filters)} filters, {fixed} fixed taps; head: {trainable} trainable"
    )
    print(f"test accuracy: {acc:.3f}")
    checks = {
        "taps unchanged by fit": all(
            np.array_equal(a, b) for a, b in zip(before, stem.get_weights(), strict=True)
        ),
        "stem == cv2.filter2D(getGaborKernel)": _matches_cv2(stem, x_test[:4]),
        "accuracy above 0.85": acc > 0.85,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def _matches_cv2(stem: ff.FilterBank, x: np.ndarray) -> bool:
    out = np.asarray(stem(x))
    for f, (theta, lam) in enumerate((t, lam) for t in THETAS for lam in LAMBDAS):
        k = cv2.getGaborKernel((7, 7), 2.0, theta, lam, 0.5, np.pi / 2, ktype=cv2.CV_64F)
        for i in range(len(x)):
            want = cv2.filter2D(x[i, :, :, 0], cv2.CV_32F, k)
            if np.max(np.abs(out[i, :, :, f] - want)) > 1e-5 * np.abs(k).sum():
                return False
    return True


if __name__ == "__main__":
    sys.exit(main())
