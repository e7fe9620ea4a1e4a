#!/usr/bin/env python
"""Time every fixed layer against OpenCV at its best and the usual Keras/TF peers, as ratios.

OpenCV's time for an op is the faster of two forms a user would write, each call writing a
fresh output as ``cv2`` does (no strided copies, no output array filled slice by slice):

* ``planes``: one call per contiguous (image, channel) plane; the planes are prepared with
  ``np.ascontiguousarray`` outside the timed region, as by a user who holds planes;
* ``hwc``: one call per interleaved ``(H, W, C)`` image of the batch (cv2 filters the channels
  itself).

The table says which form won. Ours is timed twice, both inside a ``tf.function`` as in a model:

* ``in-graph``: the call returns a tensor (what the next layer receives);
* ``array out``: the call plus ``.numpy()`` (what a user holding NumPy arrays pays).

Other peers on the same batch: a plain ``keras.layers.DepthwiseConv2D(padding="same")`` with the
same taps (zero borders; linear layers only), ``tf.norm(tf.image.sobel_edges(x), axis=-1)`` for
the magnitude, a NumPy copy of the batch (what ``.numpy()`` adds) and one XLA-compiled
elementwise pass over the batch (``x * 2``: the floor of any in-graph filter).

Method: the first call of each candidate is timed on its own (for ours: build + trace + XLA
compile); one more warm-up call; then ``--repeats`` interleaved rounds (each round times every
candidate once, so drifting load hits all alike); medians are reported, and every ratio is
taken between medians of the same run. Peak memory is the most TensorFlow's CPU allocator held
during one in-graph call above what it held before (output included), as a multiple of the
input's size, measured in a child process with the BFC allocator (the only CPU allocator with
statistics; the timed process keeps TensorFlow's default). On a shared machine the script
prints the load it saw before and after.

The rows are one table, ``ROWS`` (label, public name, layer factory, cv2 function, ...). A row
whose layer ``fixedfilters`` does not have (yet) is skipped with a printed note, so the file
runs before and after new layers land.

Usage::

    python benchmarks/bench.py                 # full run (a few minutes)
    python benchmarks/bench.py --quick         # smoke run: 5 repeats, small batch only
    python benchmarks/bench.py --ops sobel,lap --json results.json
    python benchmarks/bench.py --markdown      # also print the README's table
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, installed or not

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import fixedfilters as ff  # noqa: E402
from fixedfilters import ops as ffops  # noqa: E402

SHAPES = [(8, 512, 512, 3), (64, 64, 64, 1)]
LARGE, SMALL = SHAPES


# -- the rows -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Row:
    """One benchmark row: our layer and the cv2 call(s) that compute the same thing.

    ``cv`` is a cv2 function of one 2-D plane or one ``(H, W, C)`` image (most cv2 filters
    take both); for a layer with several output blocks it returns a tuple, block ``i`` holding
    output channels ``i * C + c`` (``FilterBank``'s filter-major order). ``forms`` are the cv2
    forms that compute what the layer computes (Canny mixes the channels: ``hwc`` only).
    ``peer`` selects the DepthwiseConv2D/sobel_edges peers: ``"dw"`` (a linear layer),
    ``"magnitude"``, ``"bank"`` or ``None``.
    """

    label: str
    name: str  # the public name in fixedfilters the row needs
    make: Callable[[], object]
    cv: Callable
    dtype: str = "float32"
    forms: tuple[str, ...] = ("planes", "hwc")
    peer: str | None = "dw"
    single_output: bool = True  # held to the 3x-input memory target


def _box_row(k: int, peer: str | None = "dw") -> Row:
    """BoxFilter ``k x k`` (float32) against ``cv2.boxFilter(p, -1, (k, k))``."""
    return Row(
        f"BoxFilter {k}x{k}",
        "BoxFilter",
        lambda: _g("BoxFilter")(k),
        lambda p: cv2.boxFilter(p, -1, (k, k)),
        peer=peer,
    )


def _median_row(k: int, dtype: str) -> Row:
    """MedianBlur ``k`` on ``dtype`` images against ``cv2.medianBlur`` (no Keras peer)."""
    return Row(
        f"MedianBlur {k} ({dtype})",
        "MedianBlur",
        lambda: _g("MedianBlur")(k),
        lambda p: cv2.medianBlur(p, k),
        dtype=dtype,
        peer=None,
    )


def _sobel(dx, dy, k):
    return lambda p: cv2.Sobel(p, cv2.CV_32F, dx, dy, ksize=k)


def _magnitude(k):
    return lambda p: cv2.magnitude(_sobel(1, 0, k)(p), _sobel(0, 1, k)(p))


def _edge_stem(p):
    b = cv2.GaussianBlur(p, (3, 3), 0)
    gx, gy = _sobel(1, 0, 3)(b), _sobel(0, 1, 3)(b)
    return gx, gy, cv2.magnitude(gx, gy), cv2.Laplacian(b, cv2.CV_32F, ksize=3)


def _g(name):
    """``fixedfilters.<name>`` when it exists, for factories of rows that may be skipped."""
    return getattr(ff, name)


ROWS: list[Row] = [
    Row("Sobel 3x3 dx", "Sobel", lambda: ff.Sobel(1, 0, 3), _sobel(1, 0, 3)),
    Row("Sobel 5x5 dx", "Sobel", lambda: ff.Sobel(1, 0, 5), _sobel(1, 0, 5)),
    Row("Scharr dx", "Scharr", lambda: ff.Scharr(1, 0), lambda p: cv2.Scharr(p, cv2.CV_32F, 1, 0)),
    Row(
        "Laplacian ksize 1",
        "Laplacian",
        lambda: ff.Laplacian(1),
        lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=1),
    ),
    Row(
        "Laplacian ksize 3",
        "Laplacian",
        lambda: ff.Laplacian(3),
        lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=3),
    ),
    Row(
        "Gaussian 3x3",
        "GaussianBlur",
        lambda: ff.GaussianBlur(3),
        lambda p: cv2.GaussianBlur(p, (3, 3), 0),
    ),
    Row(
        "Gaussian 7x7",
        "GaussianBlur",
        lambda: ff.GaussianBlur(7),
        lambda p: cv2.GaussianBlur(p, (7, 7), 0),
    ),
    Row(
        "Gaussian 15x15 sigma 3",
        "GaussianBlur",
        lambda: ff.GaussianBlur(15, 3.0),
        lambda p: cv2.GaussianBlur(p, (15, 15), 3.0),
    ),
    Row(
        "Filter2D 3x3",
        "Filter2D",
        lambda: ff.Filter2D([[1, 2, 3], [4, 5, 6], [7, 8, 10]]),
        lambda p: cv2.filter2D(p, cv2.CV_32F, np.float32([[1, 2, 3], [4, 5, 6], [7, 8, 10]])),
    ),
    Row(
        "SobelMagnitude 3x3",
        "SobelMagnitude",
        lambda: ff.SobelMagnitude(3),
        _magnitude(3),
        peer="magnitude",
    ),
    Row(
        "FilterBank of 4",
        "FilterBank",
        lambda: ff.FilterBank(
            [ff.Sobel(1, 0, 3), ff.Sobel(0, 1, 3), ff.Laplacian(1), ff.GaussianBlur(3)]
        ),
        lambda p: (
            _sobel(1, 0, 3)(p),
            _sobel(0, 1, 3)(p),
            cv2.Laplacian(p, cv2.CV_32F, ksize=1),
            cv2.GaussianBlur(p, (3, 3), 0),
        ),
        peer="bank",
        single_output=False,
    ),
    Row(
        "edge_stem",
        "edge_stem",
        lambda: ff.edge_stem(),
        _edge_stem,
        peer=None,
        single_output=False,
    ),
    # -- layers landing from other branches (skipped with a note until they exist) --------------
    _box_row(5),
    _box_row(31),
    _box_row(3),
    _box_row(61, peer=None),  # a 61x61 DepthwiseConv2D takes seconds a call
    Row(
        "BoxFilter 5x5 uint8 out",
        "BoxFilter",
        lambda: _g("BoxFilter")(5, output_dtype="uint8"),
        lambda p: cv2.boxFilter(p, -1, (5, 5)),
        dtype="uint8",
        peer=None,
    ),
    Row("Blur 5x5", "Blur", lambda: _g("Blur")(5), lambda p: cv2.blur(p, (5, 5))),
    Row(
        "Gabor 7x7",
        "Gabor",
        lambda: _g("Gabor")(7, 2.0, 0.5, 6.0, 0.5, 0.0),
        lambda p: cv2.filter2D(
            p, cv2.CV_32F, cv2.getGaborKernel((7, 7), 2.0, 0.5, 6.0, 0.5, 0.0, ktype=cv2.CV_64F)
        ),
    ),
    Row(
        "Gabor 5x5",
        "Gabor",
        lambda: _g("Gabor")(5, 1.5, 0.5, 4.0, 0.5, 0.0),
        lambda p: cv2.filter2D(
            p, cv2.CV_32F, cv2.getGaborKernel((5, 5), 1.5, 0.5, 4.0, 0.5, 0.0, ktype=cv2.CV_64F)
        ),
    ),
    Row("PyrDown", "PyrDown", lambda: _g("PyrDown")(), cv2.pyrDown, peer=None),
    Row("PyrUp", "PyrUp", lambda: _g("PyrUp")(), cv2.pyrUp, peer=None),
    Row(
        "PyrDown uint8 out",
        "PyrDown",
        lambda: _g("PyrDown")(output_dtype="uint8"),
        cv2.pyrDown,
        dtype="uint8",
        peer=None,
    ),
    Row(
        "PyrUp uint8 out",
        "PyrUp",
        lambda: _g("PyrUp")(output_dtype="uint8"),
        cv2.pyrUp,
        dtype="uint8",
        peer=None,
    ),
    Row(
        "Erode 3x3",
        "Erode",
        lambda: _g("Erode")(3),
        lambda p: cv2.erode(p, np.ones((3, 3), np.uint8)),
        peer=None,
    ),
    Row(
        "Dilate 5x5",
        "Dilate",
        lambda: _g("Dilate")(5),
        lambda p: cv2.dilate(p, np.ones((5, 5), np.uint8)),
        peer=None,
    ),
    Row(
        "MorphologyEx open 3x3",
        "MorphologyEx",
        lambda: _g("MorphologyEx")("open", 3),
        lambda p: cv2.morphologyEx(p, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)),
        peer=None,
    ),
    _median_row(3, "float32"),
    _median_row(5, "uint8"),
    _median_row(3, "uint8"),
    _median_row(7, "uint8"),
    Row(
        "Canny 50/150 (uint8)",
        "Canny",
        lambda: _g("Canny")(50, 150),
        lambda p: cv2.Canny(p, 50, 150),
        dtype="uint8",
        forms=("hwc",),
        peer=None,
    ),
    Row(
        "ConvertScaleAbs",
        "ConvertScaleAbs",
        lambda: _g("ConvertScaleAbs")(0.5, 3.0),
        lambda p: cv2.convertScaleAbs(p, alpha=0.5, beta=3.0),
        peer=None,
    ),
    Row(
        "ConvertScaleAbs alpha 0.1 beta 0.3 (fma emulated)",
        "ConvertScaleAbs",
        lambda: _g("ConvertScaleAbs")(0.1, 0.3),
        lambda p: cv2.convertScaleAbs(p, alpha=0.1, beta=0.3),
        peer=None,
    ),
    Row(
        "ConvertScaleAbs (int16)",
        "ConvertScaleAbs",
        lambda: _g("ConvertScaleAbs")(),
        cv2.convertScaleAbs,
        dtype="int16",
        peer=None,
    ),
    Row(
        "Gaussian 5x5 uint8 out",
        "GaussianBlur",
        lambda: ff.GaussianBlur(5, output_dtype="uint8"),
        lambda p: cv2.GaussianBlur(p, (5, 5), 0),
        dtype="uint8",
        peer=None,
    ),
]

# -- measurement --------------------------------------------------------------------------------
_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_peak_bytes(fn) -> int | None:
    """Rise of the process's peak resident set size during one call of ``fn`` (Linux only).

    Right for NumPy/OpenCV (glibc malloc, trimmed first); blind to TensorFlow, whose CPU
    allocator keeps freed memory (see :func:`tf_peak_bytes`).
    """
    if _LIBC is None or _status_kb("VmHWM") is None:
        return None
    gc.collect()
    _LIBC.malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
    except OSError:
        return None
    rss0 = _status_kb("VmRSS")
    result = fn()
    peak = _status_kb("VmHWM")
    del result
    return max(0, peak - rss0) * 1024


def tf_peak_bytes(fn) -> int | None:
    """Peak bytes TensorFlow's CPU allocator held during one call, above what it held before.

    Counts every tensor and XLA buffer alive during the call, the output included (with the
    allocator's rounding of each chunk).
    """
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
        before = tf.config.experimental.get_memory_info("CPU:0")["current"]
        result = fn()
        peak = tf.config.experimental.get_memory_info("CPU:0")["peak"]
    except (ValueError, RuntimeError, KeyError):
        return None
    del result
    return max(0, peak - before)


def measure(candidates: dict, repeats: int) -> dict:
    """{name: {"median_s", "first_s", "times_s"}} with interleaved rounds.

    In each round every candidate runs twice back to back and the second call is timed: the
    first one wakes its thread pool (OpenCV's and TensorFlow's pools spin for a while after
    work, and on a busy machine the first call after switching libraries pays for the other
    library's spinning threads). So each median is a candidate's steady state, as in a loop.
    """
    first = {}
    for name, fn in candidates.items():
        gc.collect()
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
        fn()  # second warm-up
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            fn()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {
        name: {"median_s": statistics.median(ts), "first_s": first[name], "times_s": ts}
        for name, ts in times.items()
    }


def busy_fraction(seconds: float = 0.5) -> float | None:
    """Share of the machine's CPU time spent busy (all processes) over ``seconds``."""

    def read():
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]

    try:
        t0, i0 = read()
        time.sleep(seconds)
        t1, i1 = read()
    except OSError:
        return None
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


# -- environment ----------------------------------------------------------------------------------
def environment() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    threading = tf.config.threading
    env_keys = ("OMP_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS")
    return {
        "machine": {
            "cpu": cpu,
            "logical_cores": os.cpu_count(),
            "usable_cores": affinity,
            "memory_gb": mem_gb,
            "os": platform.platform(),
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cv2": cv2.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "fixedfilters": ff.__version__,
        },
        "threads": {
            "cv2.getNumThreads": cv2.getNumThreads(),
            "tf_intra_op (0: one per core)": threading.get_intra_op_parallelism_threads(),
            "tf_inter_op (0: one per core)": threading.get_inter_op_parallelism_threads(),
            **{k: os.environ.get(k, "(unset)") for k in env_keys},
        },
        "keras_backend": keras.backend.backend(),
        "stencil_min_elements": getattr(ffops, "STENCIL_MIN_ELEMENTS", None),
    }


# -- peers ----------------------------------------------------------------------------------------
def _kernels2d(layer) -> list[np.ndarray]:
    """The 2-D kernels a plain DepthwiseConv2D needs to compute what ``layer`` computes."""
    if isinstance(layer, ff.FilterBank):
        return [k for f in layer.filters for k in _kernels2d(f)]
    k2 = layer.kernel2d()
    if k2 is not None:
        return [k2]
    kx, ky = (np.asarray(w) for w in layer.get_weights())  # SobelMagnitude: one per term
    return [np.outer(ky[t], kx[t]) for t in range(kx.shape[0])]


def _dw_peer(layer, channels: int, combine: str | None):
    """A plain ``DepthwiseConv2D(padding="same")`` with the layer's taps (zero borders)."""
    kernels = _kernels2d(layer)
    kh = max(k.shape[0] for k in kernels)
    kw = max(k.shape[1] for k in kernels)
    m = len(kernels)
    taps = np.zeros((kh, kw, channels, m), np.float32)
    for i, k in enumerate(kernels):
        oy, ox = (kh - k.shape[0]) // 2, (kw - k.shape[1]) // 2
        taps[oy : oy + k.shape[0], ox : ox + k.shape[1], :, i] = k[:, :, None]
    dw = keras.layers.DepthwiseConv2D(
        (kh, kw),
        padding="same",
        depth_multiplier=m,
        use_bias=False,
        trainable=False,
        depthwise_initializer=keras.initializers.Constant(taps),
    )

    def run(x):
        y = dw(x)
        if combine == "magnitude":  # channel c * 2 + t -> sqrt(t0**2 + t1**2)
            y = tf.reshape(y, tf.concat([tf.shape(x), [2]], 0))
            y = tf.sqrt(tf.reduce_sum(y * y, axis=-1))
        elif combine == "bank":  # channel c * m + i -> filter-major i * C + c, like FilterBank
            s = tf.shape(x)
            y = tf.reshape(y, tf.concat([s[:3], [channels, m]], 0))
            y = tf.reshape(tf.transpose(y, [0, 1, 2, 4, 3]), tf.concat([s[:3], [-1]], 0))
        return y

    return run


# -- OpenCV's two forms ---------------------------------------------------------------------------
def _cv_planes(fn, x: np.ndarray):
    """One call per contiguous (image, channel) plane; planes prepared outside the timing."""
    planes = [
        np.ascontiguousarray(x[b, :, :, c]) for b in range(x.shape[0]) for c in range(x.shape[3])
    ]
    return lambda: [fn(p) for p in planes]


def _cv_hwc(fn, x: np.ndarray):
    """One call per interleaved (H, W, C) image (``x[b]`` is contiguous)."""
    images = [x[b] for b in range(x.shape[0])]
    return lambda: [fn(im) for im in images]


def _blocks(r) -> list[np.ndarray]:
    return list(r) if isinstance(r, tuple) else [r]


def _assemble(form: str, results: list, shape) -> np.ndarray:
    """cv2's per-plane or per-image results as one (B, H', W', C') batch in our layout."""
    b_, c = shape[0], shape[3]
    if form == "planes":
        per = [_blocks(r) for r in results]  # index b * C + c
        nb = len(per[0])
        out = np.stack(
            [
                np.stack([per[b * c + ch][i] for i in range(nb) for ch in range(c)], -1)
                for b in range(b_)
            ]
        )
        return out
    images = []
    for r in results:
        blocks = [blk if blk.ndim == 3 else blk[:, :, None] for blk in _blocks(r)]
        images.append(np.concatenate(blocks, -1))
    return np.stack(images)


# -- the run --------------------------------------------------------------------------------------
def _input(row: Row, shape, rng) -> np.ndarray:
    x = rng.uniform(0, 255, shape)
    return x.astype(np.float32) if row.dtype == "float32" else np.round(x).astype(row.dtype)


def available(row: Row) -> str | None:
    """``None`` when the row can run; else why it is skipped."""
    if getattr(ff, row.name, None) is None:
        return f"fixedfilters.{row.name} does not exist (yet)"
    try:
        row.make()
    except (TypeError, ValueError) as err:  # e.g. an argument a newer version of the layer takes
        return f"{row.name}: {type(err).__name__}: {err}"
    return None


def run_row(row: Row, shape, repeats: int, rng) -> dict:
    x = _input(row, shape, rng)
    xt = tf.constant(x)
    if hasattr(ffops, "_compiled_stencil"):
        ffops._compiled_stencil.cache_clear()  # each layer's first call pays its own compile
    layer = row.make()
    graph = tf.function(lambda t: layer(t))
    candidates = {
        "ours_graph": lambda: graph(xt),
        "ours_array": lambda: graph(xt).numpy(),
    }
    for form in row.forms:
        candidates[f"cv2_{form}"] = (_cv_planes if form == "planes" else _cv_hwc)(row.cv, x)
    if row.peer in ("dw", "magnitude", "bank"):
        layer.build(shape)
        dw = tf.function(_dw_peer(layer, shape[-1], row.peer))
        candidates["dw"] = lambda: dw(xt)
    if row.peer == "magnitude":
        edges = tf.function(lambda t: tf.norm(tf.image.sobel_edges(t), axis=-1))
        candidates["sobel_edges"] = lambda: edges(xt)
    candidates["copy"] = lambda: x.copy()
    # The floor of any in-graph filter: one compiled elementwise pass over the batch (one read,
    # one write, a fresh output), what a filter costs at best before any neighbour is read.
    floor = tf.function(lambda t: t * 2, jit_compile=True)
    candidates["xla_pass"] = lambda: floor(xt)
    res = measure(candidates, repeats)
    t = {k: v["median_s"] for k, v in res.items()}
    forms = {f: t[f"cv2_{f}"] for f in row.forms}
    best = min(forms, key=forms.get)
    cv_s = forms[best]
    ours = np.asarray(candidates["ours_array"]())
    want = _assemble(best, candidates[f"cv2_{best}"](), shape).reshape(ours.shape)
    diff = np.abs(ours.astype(np.float64) - want.astype(np.float64))
    mem = tf_peak_bytes(candidates["ours_graph"])  # None here: see memory_child()

    def ratio(k):
        return t[k] / cv_s if k in t else None

    return {
        "op": row.label,
        "shape": list(shape),
        "dtype": row.dtype,
        "cv2_form": best,
        "ms": {k: 1e3 * v for k, v in t.items()},
        "first_call_s": res["ours_graph"]["first_s"],
        "graph_vs_cv2": ratio("ours_graph"),
        "array_vs_cv2": ratio("ours_array"),
        "dw_vs_cv2": ratio("dw"),
        "graph_vs_dw": t["ours_graph"] / t["dw"] if "dw" in t else None,
        "graph_vs_sobel_edges": t["ours_graph"] / t["sobel_edges"] if "sobel_edges" in t else None,
        "copy_vs_cv2": ratio("copy"),
        "xla_pass_vs_cv2": ratio("xla_pass"),
        "peak_mem_x_input": mem / x.nbytes if mem is not None else None,
        "output_x_input": ours.nbytes / x.nbytes,
        "single_output": row.single_output,
        "max_abs_diff_vs_cv2": float(diff.max()),
        "mismatches_vs_cv2": int(np.count_nonzero(diff)),
        "method": ffops.filter_method(xt) if hasattr(ffops, "filter_method") else None,
    }


def memory_child(rows_in, shapes) -> None:
    """Print ``{"op", "shape", "peak_mem_x_input"}`` JSON lines, one per row and shape.

    Runs in a child process with ``TF_CPU_ALLOCATOR_USE_BFC=true``: only the BFC allocator
    keeps statistics on CPU (peak bytes held, every tensor and XLA buffer of the call, output
    included), and it would change what is timed, so the timed process keeps the default.
    """
    rng = np.random.default_rng(0)
    for shape in shapes:
        for row in rows_in:
            x = _input(row, shape, rng)
            xt = tf.constant(x)
            graph = tf.function(row.make())
            graph(xt)
            graph(xt)
            mem = tf_peak_bytes(lambda g=graph, t=xt: g(t))
            rec = {"op": row.label, "shape": list(shape), "peak_mem_x_input": None}
            if mem is not None:
                rec["peak_mem_x_input"] = mem / x.nbytes
            print("MEM " + json.dumps(rec), flush=True)


def peak_memory(labels: list[str], shapes) -> dict:
    """``{(op, shape): peak memory / input size}`` from a :func:`memory_child` process."""
    import subprocess

    env = dict(os.environ, TF_CPU_ALLOCATOR_USE_BFC="true", TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, __file__, "--memory-child", "--rows-json", json.dumps(labels)]
    cmd += ["--quick"] if shapes == [SMALL] else []
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("MEM "):
            rec = json.loads(line[4:])
            out[(rec["op"], tuple(rec["shape"]))] = rec["peak_mem_x_input"]
    if proc.returncode != 0:
        print(f"note: memory child failed: {proc.stderr[-500:]}")
    return out


def _fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def print_table(rows):
    head = (
        "| op | shape | cv2 best (form) ms | in-graph / cv2 | array out / cv2 | dw / cv2 "
        "| in-graph / sobel_edges | copy / cv2 | XLA pass / cv2 | first call s | peak mem x input "
        "| max diff |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        cv_ms = r["ms"][f"cv2_{r['cv2_form']}"]
        print(
            f"| {r['op']} | {shape} | {cv_ms:.2f} ({r['cv2_form']}) | {_fmt(r['graph_vs_cv2'])} "
            f"| {_fmt(r['array_vs_cv2'])} | {_fmt(r['dw_vs_cv2'])} "
            f"| {_fmt(r['graph_vs_sobel_edges'])} | {_fmt(r['copy_vs_cv2'])} "
            f"| {_fmt(r.get('xla_pass_vs_cv2'))} "
            f"| {r['first_call_s']:.2f} | {_fmt(r['peak_mem_x_input'], '.1f')} "
            f"| {r['max_abs_diff_vs_cv2']:.1e} |"
        )


def print_markdown(rows):
    """The README's table: one line per op, both shapes."""
    by = {}
    for r in rows:
        by.setdefault(r["op"], {})[tuple(r["shape"])] = r
    print(
        "| op | OpenCV's faster form | in-graph / OpenCV, 8x512x512x3 | array out / OpenCV, "
        "8x512x512x3 | in-graph / OpenCV, 64x64x64x1 | array out / OpenCV, 64x64x64x1 "
        "| first call | peak memory |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for op, d in by.items():
        big, small = d.get(LARGE), d.get(SMALL)
        form = "/".join(dict.fromkeys(r["cv2_form"] for r in (big, small) if r))
        first = max(r["first_call_s"] for r in d.values())
        mem = big["peak_mem_x_input"] if big else None
        print(
            f"| {op} | {form} | {_fmt(big and big['graph_vs_cv2'])} "
            f"| {_fmt(big and big['array_vs_cv2'])} | {_fmt(small and small['graph_vs_cv2'])} "
            f"| {_fmt(small and small['array_vs_cv2'])} | {first:.2f} s | {_fmt(mem, '.1f')}x |"
        )


def check_targets(rows) -> list[dict]:
    """The targets, each with its measured value and whether it held."""
    out = []

    def add(target, value, limit):
        if value is not None:
            out.append({"target": target, "value": value, "held": value <= limit})

    for r in rows:
        shape = tuple(r["shape"])
        name = f"{r['op']} {'x'.join(map(str, shape))}"
        if shape == LARGE:
            add(f"{name}: in-graph / cv2 <= 1.5", r["graph_vs_cv2"], 1.5)
            add(f"{name}: array out / cv2 <= 2.0", r["array_vs_cv2"], 2.0)
            if r["single_output"]:
                add(f"{name}: peak memory <= 3x input", r["peak_mem_x_input"], 3.0)
        if shape == SMALL:
            add(f"{name}: in-graph / cv2 <= 2.0", r["graph_vs_cv2"], 2.0)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 5 repeats, small batch only")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 25; quick 5)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--ops",
        help="comma-separated word prefixes selecting rows (default: all); 'blur' selects "
        "'Blur 5x5', not 'MedianBlur 3'",
    )
    p.add_argument("--markdown", action="store_true", help="also print the README's table")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory child process")
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rows-json", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        labels = json.loads(args.rows_json)
        memory_child([r for r in ROWS if r.label in labels], [SMALL] if args.quick else SHAPES)
        return 0
    repeats = args.repeats or (5 if args.quick else 25)
    if repeats < 5:
        p.error("--repeats must be at least 5")
    shapes = [SMALL] if args.quick else SHAPES
    env = environment()
    print("# fixedfilters benchmark")
    for section in ("machine", "versions", "threads"):
        print(f"{section}: " + ", ".join(f"{k}={v}" for k, v in env[section].items()))
    print(f"keras backend: {env['keras_backend']}; repeats: {repeats} (median reported)")
    busy0 = busy_fraction()
    if busy0 is not None:
        print(f"machine busy before the run: {100 * busy0:.0f}% of all cores")
    rows_in = ROWS
    if args.ops:
        keys = [k.strip().lower() for k in args.ops.split(",")]
        rows_in = [
            r
            for r in ROWS
            if any(w.startswith(k) for k in keys for w in re.findall(r"[a-z0-9]+", r.label.lower()))
        ]
    skipped = []
    for row in rows_in:
        why = available(row)
        if why is not None:
            skipped.append(row.label)
            print(f"note: skipping {row.label!r}: {why}")
    rng = np.random.default_rng(0)
    rows = []
    t_start = time.perf_counter()
    for shape in shapes:
        for row in rows_in:
            if row.label in skipped:
                continue
            rows.append(run_row(row, shape, repeats, rng))
            print(f"  done {row.label} {list(shape)}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t_start
    busy1 = busy_fraction()
    if not args.no_memory and rows:
        mem = peak_memory(list(dict.fromkeys(r["op"] for r in rows)), shapes)
        for r in rows:
            r["peak_mem_x_input"] = mem.get((r["op"], tuple(r["shape"])), r["peak_mem_x_input"])
    print()
    print_table(rows)
    print()
    print(
        "ratios: median time of ours / median time of OpenCV's faster form (planes: one call per "
        "contiguous plane; hwc: one call per interleaved image), measured in the same run; below "
        "1 ours is faster. in-graph: tf.function returning a tensor; array out: plus .numpy(). "
        "first call: build + trace + XLA compile. peak memory includes the output."
    )
    if args.markdown:
        print()
        print_markdown(rows)
    targets = check_targets(rows)
    held = sum(t["held"] for t in targets)
    print(f"\ntargets held: {held}/{len(targets)}")
    for t in targets:
        if not t["held"]:
            print(f"  MISSED {t['target']}: {t['value']:.2f}")
    if busy1 is not None:
        print(
            f"\nmachine busy after the run: {100 * busy1:.0f}% of all cores; took {elapsed:.0f} s"
        )
    if args.json:
        payload = {
            **env,
            "repeats": repeats,
            "rows": rows,
            "skipped": skipped,
            "targets": targets,
            "busy_before": busy0,
            "busy_after": busy1,
            "elapsed_s": elapsed,
        }
        Path(args.json).write_text(json.dumps(payload, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
