#!/usr/bin/env python
"""Time every fixed layer against its peers on the same data, in one process, as ratios.

Peers, on the same float32 batch:

* ``cv2``: OpenCV's per-plane loop, as a user writes it (``cv2.Sobel`` & co. on each (image,
  channel) plane, the result stored into an output array allocated once per call);
* ``dw``: a plain ``keras.layers.DepthwiseConv2D(padding="same", trainable=False)`` holding the
  same taps (zero padding, so its borders differ; ``depth_multiplier`` = number of kernels for
  SobelMagnitude and the FilterBank, then the same magnitude/ordering arithmetic);
* ``sobel_edges``: ``tf.norm(tf.image.sobel_edges(x), axis=-1)`` (SobelMagnitude only);
* ``copy``: ``numpy`` copying the batch, the memory-bandwidth floor.

Method: every Keras/TF candidate runs inside a ``tf.function`` (as in a model); the first call is
timed on its own (build + trace + XLA compile); one more warm-up call; then ``--repeats``
interleaved rounds (each round times every candidate once, so drifting machine load hits all
alike) and the median is reported. Every timed call forces its result to host memory
(``.numpy()``). Peak memory is what the allocator held at its peak during one call,
above what it held before, in units of the input's size, the output included: TensorFlow's own
allocator statistics for the TensorFlow candidates, the rise of the process's peak RSS
(``VmHWM``, reset through ``/proc/self/clear_refs`` after ``malloc_trim``) for OpenCV. Run on an
otherwise idle machine: the script prints the load it saw before and after.

Usage::

    python benchmarks/bench.py            # full run (a few minutes)
    python benchmarks/bench.py --quick    # fewer repeats (under a minute)
    python benchmarks/bench.py --json results.json
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import sys
import time
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
LARGE = SHAPES[0]


# -- the cases ----------------------------------------------------------------------------------
def _cv_sobel(dx, dy, k):
    return lambda p: cv2.Sobel(p, cv2.CV_32F, dx, dy, ksize=k)


def _cv_magnitude(p):
    return cv2.magnitude(
        cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=3)
    )


CASES = [
    # name, layer factory, OpenCV per-plane functions (one per output block), combine of dw peer
    ("Sobel 3x3 dx", lambda: ff.Sobel(1, 0, 3), [_cv_sobel(1, 0, 3)], None),
    ("Scharr dx", lambda: ff.Scharr(1, 0), [lambda p: cv2.Scharr(p, cv2.CV_32F, 1, 0)], None),
    (
        "Laplacian k1",
        lambda: ff.Laplacian(1),
        [lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=1)],
        None,
    ),
    (
        "Laplacian k3",
        lambda: ff.Laplacian(3),
        [lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=3)],
        None,
    ),
    ("Gaussian 3x3", lambda: ff.GaussianBlur(3), [lambda p: cv2.GaussianBlur(p, (3, 3), 0)], None),
    ("Gaussian 7x7", lambda: ff.GaussianBlur(7), [lambda p: cv2.GaussianBlur(p, (7, 7), 0)], None),
    (
        "Gaussian 15x15 s3",
        lambda: ff.GaussianBlur(15, 3.0),
        [lambda p: cv2.GaussianBlur(p, (15, 15), 3.0)],
        None,
    ),
    ("SobelMagnitude 3x3", lambda: ff.SobelMagnitude(3), [_cv_magnitude], "magnitude"),
    (
        "FilterBank x4",
        lambda: ff.FilterBank(
            [ff.Sobel(1, 0, 3), ff.Sobel(0, 1, 3), ff.Laplacian(1), ff.GaussianBlur(3)]
        ),
        [
            _cv_sobel(1, 0, 3),
            _cv_sobel(0, 1, 3),
            lambda p: cv2.Laplacian(p, cv2.CV_32F, ksize=1),
            lambda p: cv2.GaussianBlur(p, (3, 3), 0),
        ],
        "bank",
    ),
]


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


def _cv_loop(fns, x: np.ndarray):
    b_, h, w, c = x.shape

    def run():
        out = np.empty((b_, h, w, c * len(fns)), np.float32)
        for b in range(b_):
            for ch in range(c):
                plane = x[b, :, :, ch]
                for i, fn in enumerate(fns):
                    out[b, :, :, i * c + ch] = fn(plane)
        return out

    return run


def _host(fn, x):
    return lambda: fn(x).numpy()


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
    """{name: {"median_s", "first_s", "times_s"}} with interleaved rounds."""
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


# -- the run ------------------------------------------------------------------------------------
def run_case(case, shape, repeats, rng):
    name, make, cv_fns, combine = case
    x = rng.uniform(0, 255, shape).astype(np.float32)
    xt = tf.constant(x)
    if hasattr(ffops, "_compiled_stencil"):
        ffops._compiled_stencil.cache_clear()  # each layer's first call pays its own compile
    layer = make()
    ours = tf.function(lambda t: layer(t))
    layer.build(shape)
    dw = tf.function(_dw_peer(layer, shape[-1], combine))
    candidates = {
        "ours": _host(ours, xt),
        "cv2": _cv_loop(cv_fns, x),
        "dw": _host(dw, xt),
        "copy": lambda: x.copy(),
    }
    if combine == "magnitude":
        edges = tf.function(lambda t: tf.norm(tf.image.sobel_edges(t), axis=-1))
        candidates["sobel_edges"] = _host(edges, xt)
    res = measure(candidates, repeats)
    out_x = candidates["ours"]().nbytes / x.nbytes
    # correctness guard: our output against OpenCV's (interior and borders)
    err = float(np.max(np.abs(candidates["ours"]() - candidates["cv2"]())))
    mem = {
        "ours": tf_peak_bytes(candidates["ours"]),
        "dw": tf_peak_bytes(candidates["dw"]),
        "cv2": rss_peak_bytes(candidates["cv2"]),
    }
    t = {k: v["median_s"] for k, v in res.items()}
    row = {
        "op": name,
        "shape": list(shape),
        "ms": {k: 1e3 * v for k, v in t.items()},
        "first_call_s": {k: v["first_s"] for k, v in res.items()},
        "ratio_vs_cv2": t["ours"] / t["cv2"],
        "ratio_vs_dw": t["ours"] / t["dw"],
        "ratio_vs_copy": t["ours"] / t["copy"],
        "ratio_vs_sobel_edges": t["ours"] / t["sobel_edges"] if "sobel_edges" in t else None,
        "peak_mem_bytes": mem,
        "peak_mem_x_input": {k: (v / x.nbytes if v is not None else None) for k, v in mem.items()},
        "output_x_input": out_x,
        "max_abs_diff_vs_cv2": err,
        "method": ffops.filter_method(xt) if hasattr(ffops, "filter_method") else None,
    }
    return row


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(rows):
    head = (
        "| op | shape | path | ours ms | cv2 ms | dw ms | ours/cv2 | ours/dw | ours/sobel_edges "
        "| ours/copy | first call s | peak mem (x input) | max diff vs cv2 |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        print(
            f"| {r['op']} | {shape} | {r['method'] or '-'} | {r['ms']['ours']:.2f} "
            f"| {r['ms']['cv2']:.2f} | {r['ms']['dw']:.2f} "
            f"| {r['ratio_vs_cv2']:.2f} | {r['ratio_vs_dw']:.2f} "
            f"| {_fmt(r['ratio_vs_sobel_edges'], '.2f')} | {r['ratio_vs_copy']:.2f} "
            f"| {r['first_call_s']['ours']:.2f} | {_fmt(r['peak_mem_x_input']['ours'], '.1f')} "
            f"| {r['max_abs_diff_vs_cv2']:.1e} |"
        )


def check_targets(rows) -> list[dict]:
    """The issue's targets, each with its measured value and whether it held."""
    out = []
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        if tuple(r["shape"]) == LARGE:
            out.append(
                {
                    "target": f"{r['op']} {shape}: ours/cv2 <= 2.0",
                    "value": r["ratio_vs_cv2"],
                    "held": r["ratio_vs_cv2"] <= 2.0,
                }
            )
        out.append(
            {
                "target": f"{r['op']} {shape}: ours/dw <= 1/3",
                "value": r["ratio_vs_dw"],
                "held": r["ratio_vs_dw"] <= 1 / 3,
            }
        )
        if r["ratio_vs_sobel_edges"] is not None:
            out.append(
                {
                    "target": f"{r['op']} {shape}: ours/sobel_edges <= 1/3",
                    "value": r["ratio_vs_sobel_edges"],
                    "held": r["ratio_vs_sobel_edges"] <= 1 / 3,
                }
            )
        out.append(
            {
                "target": f"{r['op']} {shape}: first call < 2 s",
                "value": r["first_call_s"]["ours"],
                "held": r["first_call_s"]["ours"] < 2.0,
            }
        )
        mem = r["peak_mem_x_input"]["ours"]
        if mem is not None:
            limit = r["output_x_input"] + 2.0  # the output plus about two input-sized temporaries
            out.append(
                {
                    "target": f"{r['op']} {shape}: peak memory <= output + 2 inputs ({limit:.0f}x)",
                    "value": mem,
                    "held": mem <= limit + 0.25,
                }
            )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="5 repeats per candidate (< 1 minute)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 25; quick 5)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--ops", help="comma-separated substrings selecting ops (default: all)")
    args = p.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 25)
    if repeats < 5:
        p.error("--repeats must be at least 5")
    env = environment()
    print("# fixedfilters benchmark")
    for section in ("machine", "versions", "threads"):
        print(f"{section}: " + ", ".join(f"{k}={v}" for k, v in env[section].items()))
    print(f"keras backend: {env['keras_backend']}; repeats: {repeats} (median reported)")
    busy0 = busy_fraction()
    if busy0 is not None:
        print(f"machine busy before the run: {100 * busy0:.0f}% of all cores")
    cases = CASES
    if args.ops:
        keys = [k.strip().lower() for k in args.ops.split(",")]
        cases = [c for c in CASES if any(k in c[0].lower() for k in keys)]
    rng = np.random.default_rng(0)
    rows = []
    t_start = time.perf_counter()
    for shape in SHAPES:
        for case in cases:
            rows.append(run_case(case, shape, repeats, rng))
            print(f"  done {rows[-1]['op']} {rows[-1]['shape']}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t_start
    busy1 = busy_fraction()
    print()
    print_table(rows)
    print()
    print(
        "ratios: median time of ours / median time of the peer (below 1: ours is faster); "
        "first call: build + trace + XLA compile; peak memory includes the output."
    )
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
