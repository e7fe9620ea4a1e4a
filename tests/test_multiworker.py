"""Multi-worker training with a fixed stem: two worker processes on 127.0.0.1.

The README's multi-machine example is ``tests/_interop_scripts/multiworker_train.py`` verbatim
(checked here): a custom training step under ``tf.distribute.MultiWorkerMirroredStrategy``
(``strategy.run`` + ``optimizer.apply``, which all-reduces the gradients). Keras 3's
``model.fit`` under that strategy fails with two workers (keras-team/keras#20585, with or without
fixedfilters), so the README does not show it.

What must hold: both workers finish; each worker read a different shard, so equal trainable
weights after training mean the gradients were all-reduced. They are compared **bitwise**: the
initial values are worker 0's (broadcast when the mirrored variables are created), and every
step applies the same all-reduced gradient to the same values with the same elementwise
arithmetic on the same kind of machine. The fixed taps are bit-identical before and after, and
equal to a fresh layer's taps.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import fixedfilters as ff

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute.MultiWorkerMirroredStrategy needs the TensorFlow backend",
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).parent / "_interop_scripts" / "multiworker_train.py"
TIMEOUT_S = 150


def _free_ports(n: int) -> list[int]:
    """``n`` distinct ports free on 127.0.0.1 right now (held open until all are picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- multiworker example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README: no ```python block after '<!-- multiworker example -->'"
    return m.group(1)


def test_readme_example_is_the_tested_script():
    assert _readme_example() == SCRIPT.read_text(encoding="utf-8")


def test_two_workers_train_with_fixed_taps(tmp_path):
    ports = _free_ports(2)
    workers = ",".join(f"127.0.0.1:{p}" for p in ports)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        TF_CPP_MIN_LOG_LEVEL="3",
        KERAS_BACKEND="tensorflow",
        CUDA_VISIBLE_DEVICES="",
    )
    env.pop("TF_CONFIG", None)
    outs = [tmp_path / f"worker{i}.npz" for i in range(2)]
    logs = [open(tmp_path / f"worker{i}.log", "w+") for i in range(2)]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), str(i), workers, str(outs[i])],
            env=env,
            cwd=tmp_path,
            stdout=logs[i],
            stderr=subprocess.STDOUT,
        )
        for i in range(2)
    ]
    try:
        codes = [p.wait(timeout=TIMEOUT_S) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    text = []
    for f in logs:
        f.seek(0)
        text.append(f.read()[-3000:])
        f.close()
    assert codes == [0, 0], "\n---\n".join(text)
    for i in range(2):
        assert f"worker {i}: replicas 2" in text[i], text[i]

    r0, r1 = (np.load(o) for o in outs)
    trained = sorted(k for k in r0.files if k.startswith("trained_"))
    assert trained and trained == sorted(k for k in r1.files if k.startswith("trained_"))
    np.testing.assert_array_equal(r0["losses"], r1["losses"])
    assert np.all(np.isfinite(r0["losses"]))
    for k in trained:
        start = k.replace("trained_", "initial_")
        np.testing.assert_array_equal(r0[start], r1[start], err_msg=f"{start} differs")
        np.testing.assert_array_equal(r0[k], r1[k], err_msg=f"{k} differs across workers")
    changed = [not np.array_equal(r0[k], r0[k.replace("trained_", "initial_")]) for k in trained]
    assert all(changed), f"trainable weights that did not train: {changed}"

    stem = ff.edge_stem(name="stem")
    stem.build((None, 8, 8, 1))
    fresh = [keras.ops.convert_to_numpy(w) for w in stem.weights]
    taps = sorted(k for k in r0.files if k.startswith("tap_after_"))
    assert len(taps) == len(fresh) > 0
    for r in (r0, r1):
        for i, want in enumerate(fresh):
            before, after = r[f"tap_before_{i}"], r[f"tap_after_{i}"]
            assert before.dtype == after.dtype == want.dtype
            np.testing.assert_array_equal(after, before)
            np.testing.assert_array_equal(after, want)
