"""``import fixedfilters`` is lazy: Keras/TensorFlow load on the first layer, report or training
name; the command's help and ``list`` never load them; every public name is still visible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fixedfilters
import fixedfilters.layers

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("tensorflow", "keras", "jax", "torch")

_PROBE = r"""
import json, os, sys
before = dict(os.environ)
import fixedfilters as ff
ff.kernels.sobel(1, 0, 3)
names = dir(ff)
after_import = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
from fixedfilters.cli import main
codes = [main(["--help"]), main(["list"]), main(["apply", "--help"]), main(["demo", "--help"])]
print(json.dumps({
    "import": after_import,
    "command": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)),
    "codes": codes,
    "environ_unchanged": dict(os.environ) == before,
    "dir_has_all": set(ff.__all__) <= set(names),
}))
"""


@pytest.mark.slow
def test_import_help_and_list_load_no_keras_in_a_fresh_process():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    probe = f"HEAVY = {HEAVY!r}\n" + _PROBE
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["import"] == [] and report["command"] == [], report
    assert report["codes"] == [0, 0, 0, 0]
    assert report["environ_unchanged"] and report["dir_has_all"]
    assert result.stderr == ""


def test_every_public_name_resolves_and_is_listed():
    for name in fixedfilters.__all__:
        assert getattr(fixedfilters, name) is not None, name
        assert name in dir(fixedfilters), name
    assert fixedfilters.Sobel is fixedfilters.layers.Sobel
    assert fixedfilters.initializers.__name__ == "fixedfilters.initializers"
    namespace: dict[str, object] = {}
    exec("from fixedfilters import *", namespace)
    assert set(fixedfilters.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchLayer'"):
        fixedfilters.NoSuchLayer  # noqa: B018


def test_every_layer_is_exported_at_the_top():
    # A layer added to fixedfilters.layers needs its one line in fixedfilters._LAZY.
    internal = {"SeparableFilter"}
    missing = set(fixedfilters.layers.__all__) - internal - set(fixedfilters.__all__)
    assert not missing, f"add to fixedfilters._LAZY: {sorted(missing)}"


def test_kernels_import_without_tensorflow_in_a_fresh_process():
    code = "import sys, fixedfilters.kernels; print(sorted({m.split('.')[0] for m in sys.modules}))"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not set(json.loads(result.stdout.replace("'", '"'))) & set(HEAVY)


_REGISTERED = """
{first}
import keras
assert keras.saving.get_registered_object("fixedfilters>GaussianBlur") is not None
assert keras.saving.get_registered_object("fixedfilters>Canny") is not None
print("ok")
"""


@pytest.mark.parametrize("first", ["import fixedfilters", "import keras, fixedfilters"])
def test_layers_are_registered_with_keras_whichever_is_imported_first(first):
    """`import fixedfilters` then `keras.models.load_model` must find our classes (Keras only
    imports its own packages by module name), without importing Keras at `import fixedfilters`."""
    code = _REGISTERED.format(first=first)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
