"""The parity suite on Keras's JAX backend, run from the ordinary (TensorFlow) pytest run.

CI runs one command, ``python -m pytest``; this test runs ``tests/test_parity.py`` (every layer
against OpenCV), ``tests/_interop_scripts/jax_checks.py`` (jit, grad, fit, mixed precision,
channels_first on JAX) and ``tests/test_modes.py`` (the registry in predict, ``jax.jit``, fit and
``.keras``) again in a subprocess with ``KERAS_BACKEND=jax``, so the JAX run is part
of every CI run. ``JAX_ENABLE_X64`` is unset (JAX's default, float32): the float64 parity test
skips itself there.

The torch backend is not tested: torch is not a dependency (a heavy install), and Keras's torch
backend mishandles ``symmetric`` padding.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

REPO = Path(__file__).resolve().parent.parent


# The JAX run in two halves, so that pytest-xdist's workers run them side by side (one run took
# about 5 of the suite's 13 minutes on 2 cores, most of it on one worker): the size sweep, and
# everything else (channels/dtypes, constant borders, the JAX-specific checks).
JAX_SHARDS = {
    # shard: (test files, -k expression, the fewest passed tests that count as a real run)
    "sizes": ("tests/test_parity.py", "test_parity_all_sizes", 100),
    "rest": (
        "tests/test_parity.py tests/_interop_scripts/jax_checks.py",
        "not test_parity_all_sizes",
        100,
    ),
    # the registry in every Keras mode that exists on JAX (predict, jit, fit, .keras)
    "modes": ("tests/test_modes.py", "", 5),
}


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="this run already is the JAX run")
@pytest.mark.parametrize("shard", sorted(JAX_SHARDS))
def test_parity_suite_passes_on_jax(shard):
    pytest.importorskip("jax", reason="jax[cpu] is in the test extra")
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "PYTEST_ADDOPTS")}
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    if shard == "modes":
        # integer outputs under jit equal eager (and cv2) only with float64 available: without
        # it XLA fuses the float32 emulations' multiply-adds (the README's JAX caveat)
        env["JAX_ENABLE_X64"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *JAX_SHARDS[shard][0].split(),
        *(["-k", JAX_SHARDS[shard][1]] if JAX_SHARDS[shard][1] else []),
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    tail = out[-4000:]
    summary = [line for line in out.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    assert proc.returncode == 0, f"JAX run failed (exit {proc.returncode}):\n{tail}"
    assert summary, f"no pytest summary line:\n{tail}"
    last = summary[-1]
    passed = re.search(r"(\d+) passed", last)
    fewest = JAX_SHARDS[shard][2]
    assert passed and int(passed.group(1)) >= fewest, f"too few tests passed on JAX: {last}"
    assert not re.search(r"\d+ (failed|errors?)\b", last), last
    # the only skip expected on JAX is the float64 parity test (JAX_ENABLE_X64 unset)
    skipped = re.search(r"(\d+) skipped", last)
    assert not skipped or int(skipped.group(1)) <= 1, last
