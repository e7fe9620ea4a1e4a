"""Fit a model with a fixed front end under tf.distribute.MirroredStrategy on 2 logical CPUs.

Run as a script in a fresh process (the CPU must be split before TensorFlow initialises its
devices). Exit code 0 when everything holds; otherwise 1 and a message per failed check.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402

# Split the CPU into two logical devices BEFORE any other TensorFlow call.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import fixedfilters as ff  # noqa: E402

failures: list[str] = []


def check(ok: bool, message: str) -> None:
    if not ok:
        failures.append(message)
        print("FAIL:", message, flush=True)


def replica_values(weight) -> list[np.ndarray]:
    """The per-replica copies of a Keras variable (one per device under MirroredStrategy)."""
    v = getattr(weight, "value", weight)
    values = getattr(v, "values", None)
    if values is None:  # not a distributed variable
        return [np.array(weight.numpy())]
    return [np.array(t.numpy()) for t in values]


def main() -> int:
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    check(len(devices) == 2, f"expected 2 logical CPU devices, got {devices}")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    check(strategy.num_replicas_in_sync == 2, f"replicas: {strategy.num_replicas_in_sync}")

    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((16, 16, 1)),
                ff.edge_stem(name="stem"),
                keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(3, name="head"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(0.05),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    stem = model.get_layer("stem")
    taps = stem.weights
    check(len(taps) > 0 and stem.trainable_weights == [], "edge_stem must hold only fixed taps")
    check(all(not w.trainable for w in taps), "a tap is trainable")
    distributed = [getattr(getattr(w, "value", w), "values", None) is not None for w in taps]
    check(all(distributed), f"taps are not mirrored variables: {distributed}")
    before = [replica_values(w) for w in taps]
    for per_replica in before:
        check(len(per_replica) == 2, f"expected 2 replica copies, got {len(per_replica)}")
        check(
            all(np.array_equal(per_replica[0], r) for r in per_replica[1:]),
            "replica copies of a tap differ before training",
        )
    head0 = [np.array(w) for w in model.get_layer("head").get_weights()]

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (64, 16, 16, 1)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    losses = history.history["loss"]
    check(len(losses) == 2 and all(np.isfinite(losses)), f"losses: {losses}")

    after = [replica_values(w) for w in taps]
    for w, b, a in zip(taps, before, after, strict=True):
        for r, (vb, va) in enumerate(zip(b, a, strict=True)):
            check(np.array_equal(vb, va), f"tap {w.path} changed on replica {r}")
    head1 = model.get_layer("head").get_weights()
    check(
        any(not np.array_equal(a, b) for a, b in zip(head0, head1, strict=True)),
        "the head did not train",
    )
    # The fixed front end still computes what it computed before training.
    probe = x[:2]
    single = ff.edge_stem(name="ref")
    got = np.asarray(stem(probe))
    want = np.asarray(single(probe))
    check(np.array_equal(got, want), "the trained stem's output differs from a fresh stem")
    print("replicas:", strategy.num_replicas_in_sync, "losses:", [round(v, 4) for v in losses])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
