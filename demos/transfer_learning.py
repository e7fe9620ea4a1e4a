"""Transfer learning with a fixed edge stem, on scikit-learn's bundled digits (no download).

Three stages, each printing the weight report (what the next ``fit`` will change) and the
test accuracy:

1. **Pretrain** a small CNN (fixed edge stem -> convolutional body -> head) on digits 0-4.
2. **Transfer**: freeze the body with ``set_trainable`` and train a new head on digits 5-9.
3. **Fine-tune**: unfreeze the body and train everything with a low learning rate. Before that,
   the demo unfreezes the body the naive way (``body.trainable = True`` without
   ``compile()``) to show ``FreezeGuard`` catching the stale train step.

Every ``fit`` runs with a ``FreezeGuard``; at the end the fixed taps of the stem are compared
bit for bit with their values before stage 1, and the frozen body with its values before
stage 2. Exit status 0 when every check passes, 1 otherwise.

Run: ``python demos/transfer_learning.py`` (under two minutes on a CPU) or ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import fixedfilters as ff  # noqa: E402
from fixedfilters.report import weight_report  # noqa: E402
from fixedfilters.training import FreezeGuard, StaleCompileError, set_trainable  # noqa: E402

SIZE = 32  # the 8x8 digits are upsampled so that the 3x3 filters see strokes, not pixels


def load_split(digits: tuple[int, ...], limit: int | None, seed: int):
    """Digits of the given classes as (x_train, y_train, x_test, y_test), labels 0..k-1."""
    data = load_digits()
    keep = np.isin(data.target, digits)
    images = data.images[keep].astype("float32") / 16.0
    labels = np.searchsorted(np.array(digits), data.target[keep])
    if limit is not None and len(images) > limit:
        images, _, labels, _ = train_test_split(
            images, labels, train_size=limit, stratify=labels, random_state=seed
        )
    images = np.stack(
        [cv2.resize(im, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for im in images]
    )[..., None]
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=0.25, stratify=labels, random_state=seed
    )
    return x_tr, y_tr, x_te, y_te


def build_body() -> keras.Sequential:
    """The trainable convolutional body (after the 4-channel edge stem)."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 4)),
            layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv1"),
            layers.BatchNormalization(name="bn1"),
            layers.ReLU(name="relu1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(32, 3, padding="same", use_bias=False, name="conv2"),
            layers.BatchNormalization(name="bn2"),
            layers.ReLU(name="relu2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="features"),
        ],
        name="body",
    )


def classifier(stem, body, n_classes: int, name: str) -> keras.Model:
    inputs = keras.Input((SIZE, SIZE, 1), name="image")
    outputs = keras.layers.Dense(n_classes, activation="softmax", name=f"{name}_head")(
        body(stem(inputs))
    )
    return keras.Model(inputs, outputs, name=name)


def compile_model(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def snapshot(variables) -> dict[str, np.ndarray]:
    return {v.path: np.array(v.numpy(), copy=True) for v in variables}


def changed(before: dict[str, np.ndarray], variables) -> list[str]:
    """Paths whose value is not bit-identical to the snapshot."""
    now = snapshot(variables)
    return [p for p, v in before.items() if now[p].tobytes() != v.tobytes()]


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples and epochs (tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)

    limit = 240 if args.quick else None
    epochs = (2, 2, 1) if args.quick else (10, 20, 6)
    batch = 32
    a = load_split((0, 1, 2, 3, 4), limit, args.seed)
    b = load_split((5, 6, 7, 8, 9), limit, args.seed)
    print(
        f"digits 0-4: {len(a[0])} train / {len(a[2])} test; digits 5-9: {len(b[0])} train / "
        f"{len(b[2])} test; images {SIZE}x{SIZE}"
    )

    stem = ff.edge_stem(ksize=3, name="edge_stem")
    body = build_body()
    failures: list[str] = []

    # -- Stage 1: pretrain everything on digits 0-4 ------------------------------------------
    model_a = classifier(stem, body, 5, "digits_0_4")
    compile_model(model_a, 1e-3)
    stem_weights = stem.weights
    taps_at_start = snapshot(stem_weights)
    banner("Stage 1: train stem + body + head on digits 0-4")
    print(weight_report(model_a))
    model_a.fit(*a[:2], epochs=epochs[0], batch_size=batch, verbose=0, callbacks=[FreezeGuard()])
    acc_a = model_a.evaluate(*a[2:], verbose=0, return_dict=True)["accuracy"]
    print(f"accuracy on digits 0-4 (test): {acc_a:.3f}")

    # -- Stage 2: freeze the body, train a new head on digits 5-9 ----------------------------
    model_b = classifier(stem, body, 5, "digits_5_9")
    compile_model(model_b, 3e-3)
    banner("Stage 2: freeze the body (set_trainable), train a new head on digits 5-9")
    print("set_trainable:", set_trainable(model_b, False, layers="body"))
    print(weight_report(model_b))
    body_before = snapshot(body.weights)
    model_b.fit(*b[:2], epochs=epochs[1], batch_size=batch, verbose=0, callbacks=[FreezeGuard()])
    acc_b = model_b.evaluate(*b[2:], verbose=0, return_dict=True)["accuracy"]
    print(f"accuracy on digits 5-9 (test), frozen body: {acc_b:.3f}")
    moved = changed(body_before, body.weights)
    print(f"frozen body weights changed by stage 2: {len(moved)} of {len(body_before)}")
    if moved:
        failures.append(f"frozen body weights changed in stage 2: {moved}")

    # -- Stage 3: unfreeze and fine-tune with a low learning rate ----------------------------
    banner("Stage 3: unfreeze the body and fine-tune with a low learning rate")
    body.trainable = True  # the naive way: no compile() afterwards
    try:
        model_b.fit(*b[:2], epochs=1, batch_size=batch, verbose=0, callbacks=[FreezeGuard()])
        failures.append("FreezeGuard did not catch the stale train step after body.trainable=True")
    except StaleCompileError as err:
        print("FreezeGuard caught the naive unfreeze:\n  " + str(err).replace("\n", "\n  "))
    body.trainable = False  # undo, then do it properly:
    changes = set_trainable(
        model_b,
        True,
        layers="body",
        recompile={"optimizer": keras.optimizers.Adam(1e-4)},
    )
    print("set_trainable:", changes)
    print(weight_report(model_b))
    model_b.fit(*b[:2], epochs=epochs[2], batch_size=batch, verbose=0, callbacks=[FreezeGuard()])
    acc_ft = model_b.evaluate(*b[2:], verbose=0, return_dict=True)["accuracy"]
    print(f"accuracy on digits 5-9 (test), fine-tuned: {acc_ft:.3f}")
    if not changed(body_before, body.weights):
        failures.append("fine-tuning did not change the unfrozen body")

    # -- Checks across all stages ------------------------------------------------------------
    banner("Fixed taps across all stages")
    moved = changed(taps_at_start, stem_weights)
    print(
        f"{len(taps_at_start)} fixed tap weights of the edge stem, "
        f"{sum(v.size for v in taps_at_start.values())} values: "
        + ("bit-identical after all three stages" if not moved else f"CHANGED: {moved}")
    )
    if moved:
        failures.append(f"fixed taps changed: {moved}")
    print(
        f"\nsummary: pretrain (0-4) {acc_a:.3f} | new head, frozen body (5-9) {acc_b:.3f} | "
        f"fine-tuned (5-9) {acc_ft:.3f} | {time.perf_counter() - start:.1f} s"
    )
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
