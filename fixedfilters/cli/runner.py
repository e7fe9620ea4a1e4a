"""``fixedfilters apply``: jobs (:mod:`~fixedfilters.cli.plan`) read, filtered and written,
overlapped.

A reader thread decodes the images in order into a small queue; the main thread runs them
through the layer; a pool of writer threads makes the 8-bit pictures, encodes them and writes
them atomically meanwhile (OpenCV's decoders and encoders and TensorFlow's kernels release the
GIL). Results and failures are reported in input order.

No compile and no retracing per image size, two ways, chosen by the filter's spec:

* a local filter (``FilterSpec.reach``) goes in fixed-size overlapping tiles
  (:mod:`~fixedfilters.cli.tiles`): one input shape, so the layer takes its XLA path and
  compiles once per channel count and dtype;
* any other runs each image whole inside one ``tf.function`` per channel count and dtype whose
  height and width are unknown (the layer's dynamic-shape path), consecutive same-shape images
  batched (``--batch-size``).
"""

from __future__ import annotations

import argparse
import collections
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from fixedfilters.cli._common import EXIT_FAILED, EXIT_OK, PROG, InputError, UsageError, err
from fixedfilters.cli.filters import FILTERS, FilterSpec, filter_kwargs, make_layer
from fixedfilters.cli.io import (
    Progress,
    quiet_opencv,
    read_image,
    to_picture,
    write_npy,
    write_png,
)
from fixedfilters.cli.plan import Job, plan_jobs
from fixedfilters.cli.tiles import TileBatcher

__all__ = ["Job", "Runner", "build_layers", "cmd_apply", "plan_jobs"]

# A batch never holds more than this many input values (float32: 128 MiB), whatever
# --batch-size says, so a folder of large photos does not exhaust memory.
MAX_BATCH_VALUES = 1 << 25
# Images decoded ahead of the layer, and results waiting for a writer.
READ_AHEAD = 4
WRITERS = max(1, min(4, os.cpu_count() or 1))
# Tiles of local filters: output pixels a side, tiles a layer call.
TILE, TILE_BATCH = 128, 8
# A local filter whose tiles need a halo wider than this (FilterSpec.reach) and more
# --iterations than MAX_ITERATIONS are usage errors: their tiles or passes would take memory
# and time out of all proportion (OpenCV itself accepts them).
MAX_REACH, MAX_ITERATIONS = 1024, 1024


# --------------------------------------------------------------------------------------------
# Running: read (thread) -> filter (main thread) -> write (thread pool)
# --------------------------------------------------------------------------------------------
_DONE = object()


def _read_ahead(
    jobs: Sequence[Job],
    gray: bool,
    stop: threading.Event,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Iterator[Any]:
    """Yield ``(job, image or InputError)`` in order, decoded by a thread up to READ_AHEAD ahead
    (and made the layer's input by ``prepare``, the filter's, if any)."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD)

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for job in jobs:
                try:
                    item: Any = read_image(job.source, gray=gray)
                    if prepare is not None:
                        item = prepare(item)
                except InputError as error:
                    item = error
                if not put((job, item)):
                    return
        except BaseException as error:  # e.g. MemoryError: raised in the main thread
            put((None, error))
            return
        put(_DONE)

    thread = threading.Thread(target=reader, name=f"{PROG}-reader", daemon=True)
    thread.start()
    try:
        while (item := slots.get()) is not _DONE:
            if item[0] is None:
                raise item[1]
            yield item
    finally:
        stop.set()
        thread.join()


class _BatchFailed(Exception):
    """The layer failed on a batch: every job in it fails with this reason."""

    def __init__(self, jobs: list[Job], reason: str):
        super().__init__(reason)
        self.jobs = jobs


class _Groups:
    """Consecutive images of one shape in one call of the layer (height and width unknown to it)."""

    def __init__(self, runner: Runner, key: tuple[Any, ...]):
        self.runner, self.key = runner, key
        self.group: list[tuple[Job, np.ndarray, np.ndarray]] = []

    def add(self, job: Job, image: np.ndarray, x: np.ndarray) -> list[_Result]:
        done = self.finish() if self.group and self.group[0][2].shape != x.shape else []
        self.group.append((job, image, x))
        limit = max(1, min(self.runner.args.batch_size, MAX_BATCH_VALUES // x.size))
        if len(self.group) >= limit:
            done += self.finish()
        return done

    def finish(self) -> list[_Result]:
        group, self.group = self.group, []
        return self.runner.flush(group, self.key) if group else []


class _Tiles:
    """A local filter: fixed-size tiles of any image size through one compiled shape."""

    def __init__(self, runner: Runner, key: tuple[Any, ...]):
        self.runner, self.key = runner, key
        layer = runner.layers[key[0]]
        reach = runner.spec.reach(layer)
        side = TILE + 2 * reach
        # Large kernels: fewer tiles a call, so a batch stays within MAX_BATCH_VALUES.
        batch = max(1, min(TILE_BATCH, MAX_BATCH_VALUES // (side * side * key[1])))
        self.call = runner.call_for(key, (batch, side, side, key[1]))
        self.batcher = TileBatcher(
            self.call,
            reach=reach,
            border=layer.border,
            border_value=layer.border_value,
            tile=TILE,
            batch=batch,
        )
        self.jobs: dict[int, tuple[Job, np.ndarray]] = {}

    def _results(self, items: Iterator[tuple[Any, np.ndarray]]) -> list[_Result]:
        try:
            return [(*self.jobs.pop(ident), output) for ident, output in items]
        except Exception as error:  # e.g. out of memory: every image in the batcher fails
            jobs = [job for job, _ in self.jobs.values()]
            self.jobs.clear()
            old = self.batcher
            self.batcher = TileBatcher(
                self.call,
                reach=old.reach,
                border=old.border,
                border_value=old.border_value,
                tile=old.tile,
                batch=old.batch,
            )
            raise _BatchFailed(jobs, str(error)) from None

    def add(self, job: Job, image: np.ndarray, x: np.ndarray) -> list[_Result]:
        self.jobs[id(job)] = (job, image)
        return self._results(self.batcher.add(id(job), x))

    def finish(self) -> list[_Result]:
        return self._results(self.batcher.finish())


_Result = tuple[Job, np.ndarray, np.ndarray]  # (job, image as read, layer output)


def one_line(error: BaseException) -> str:
    """The reason of ``error`` on one line: TensorFlow's graph errors carry a Python stack
    ("Detected at node ... File ...") and node names around the message; only the message
    stays."""
    text = getattr(error, "message", None) or str(error)
    kept = []
    for line in text.splitlines():
        line = line.strip()
        if (
            not line
            or line.startswith(("File ", "[[", "Detected at node", "Graph execution error"))
            or line == "(most recent call last):"
        ):
            continue
        kept.append(line)
    reason = "; ".join(kept) or type(error).__name__
    return reason if len(reason) <= 300 else reason[:297] + "..."


class Runner:
    """Reads images, runs them through the layer, writes the results (see the module doc).

    ``layers``: the layer for float input (``"float"``) and, when PNGs are written, one for
    each of the filter's ``depths`` (``"uint8"``, ``"uint16"``: ``output_dtype`` the input's
    dtype, OpenCV's ``ddepth=-1``). A filter whose
    spec gives its ``reach`` goes in tiles (:mod:`fixedfilters.cli.tiles`); any other in batches
    of consecutive same-shape images.
    """

    def __init__(
        self,
        spec: FilterSpec,
        layers: dict[str, Any],
        args: argparse.Namespace,
        progress: Progress,
    ):
        self.spec = spec
        self.layers = layers
        self.args = args
        self.progress = progress
        self.written: list[Path] = []
        self.failures = 0
        self.saturated: list[Path] = []
        self.alpha: list[Path] = []
        self.layer_calls = 0
        self.raw_dtypes: set[str] = set()
        self.png_depths: set[int] = set()
        self._functions: dict[tuple[Any, ...], Callable[[np.ndarray], np.ndarray]] = {}
        self._writes: collections.deque[tuple[Job, Future[tuple[bool, bool]]]] = collections.deque()

    # -- reporting (main thread only) --------------------------------------------------------
    def fail(self, job: Job, reason: str) -> None:
        self.progress.message(f"{PROG}: error: {job.source}: {reason}")
        self.failures += 1
        self.progress.advance()

    # -- the loop ----------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job]) -> None:
        stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix=f"{PROG}-writer")
        engine: _Groups | _Tiles | None = None
        try:
            for job, image in _read_ahead(jobs, self.args.gray, stop, self.spec.prepare):
                variant = "float"
                if not isinstance(image, InputError):
                    variant = image.dtype.name if image.dtype.name in self.layers else "float"
                    image = self._check_fits(image, variant)
                if isinstance(image, InputError):
                    self._step(engine.finish if engine else list)
                    self._collect(wait_all=True)  # keep the messages in input order
                    self.fail(job, str(image))
                    continue
                cast = variant == "float" and self.spec.float_input
                x = image.astype(np.float32, copy=False) if cast else image
                key = (variant, x.shape[-1], x.dtype.str)
                if engine is None or engine.key != key:
                    if engine is not None:
                        self._step(engine.finish)
                    kind = _Tiles if self.spec.reach is not None else _Groups
                    engine = kind(self, key)
                self._step(engine.add, job, image, x)
            if engine is not None:
                self._step(engine.finish)
            self._collect(wait_all=True)
        finally:
            stop.set()
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _check_fits(self, image: np.ndarray, variant: str) -> np.ndarray | InputError:
        """``image``, or an InputError when the layer cannot take its size (``spec.fits``)."""
        if self.spec.fits is None:
            return image
        try:
            self.spec.fits(self.layers[variant], image.shape)
        except ValueError as error:
            return InputError(one_line(error))
        return image

    def _step(self, method: Callable[..., list[_Result]], *args: Any) -> None:
        """Run an engine step; hand its results to the writers (failures reported in order)."""
        try:
            results = method(*args)
        except _BatchFailed as failed:
            self._collect(wait_all=True)
            reason = one_line(failed)
            for job in failed.jobs:
                self.fail(job, f"the {self.spec.name} layer failed: {reason}")
            return
        for job, image, output in results:
            self._writes.append((job, self._pool.submit(self._write, job, image, output)))
        self._collect(wait_all=False)

    def flush(
        self, group: list[tuple[Job, np.ndarray, np.ndarray]], key: tuple[Any, ...]
    ) -> list[_Result]:
        """Filter one batch of same-shape images (one layer call); ``key``: the engine's."""
        batch = np.stack([x for _, _, x in group])
        try:
            outputs = self.call_for(key, (None, None, None, batch.shape[-1]))(batch)
        except Exception as error:  # e.g. out of memory: name every image of the batch
            raise _BatchFailed([job for job, _, _ in group], str(error)) from None
        return [(job, image, out) for (job, image, _), out in zip(group, outputs, strict=True)]

    def call_for(
        self, key: tuple[Any, ...], signature: tuple[int | None, ...]
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The layer ``key[0]`` as a NumPy function of a batch; one ``tf.function`` per key, with
        input ``signature`` (``None``: any size, no retracing per size)."""
        function = self._functions.get(key)
        if function is None:
            layer = self.layers[key[0]]
            if not layer.built:
                layer.build(signature)
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                spec = tf.TensorSpec(signature, tf.as_dtype(np.dtype(key[2])))
                traced = tf.function(layer, input_signature=[spec], autograph=False)
            else:
                traced = layer

            def function(batch: np.ndarray, traced: Any = traced) -> np.ndarray:
                self.layer_calls += 1
                return np.asarray(keras.ops.convert_to_numpy(traced(batch)))

            self._functions[key] = function
        return function

    # -- writing (pool threads) --------------------------------------------------------------
    def _write(self, job: Job, image: np.ndarray, output: np.ndarray) -> tuple[bool, bool]:
        """Write one result; return (saturated, has alpha) for the notes at the end."""
        if self.args.raw:
            write_npy(job.dest, output, overwrite=self.args.overwrite)
            self.raw_dtypes.add(output.dtype.name)
            return False, False
        picture = to_picture(output, "abs" if self.args.abs else self.spec.picture)
        write_png(job.dest, picture, overwrite=self.args.overwrite)
        self.png_depths.add(8 * picture.itemsize)
        saturated = (
            image.dtype != np.uint8
            and output.dtype.kind == "f"
            and bool(np.any(np.abs(output) > 255.5))
        )
        return saturated, output.ndim == 3 and output.shape[-1] == 4

    def _collect(self, *, wait_all: bool) -> None:
        """Report finished writes in input order; wait for all, or only while too many wait."""
        while self._writes and (
            wait_all or self._writes[0][1].done() or len(self._writes) > 2 * WRITERS
        ):
            job, future = self._writes.popleft()
            try:
                saturated, alpha = future.result()
            except InputError as error:
                self.fail(job, str(error))
                continue
            except OSError as error:  # disk full, permission denied, exists meanwhile, ...
                reason = error.strerror if error.strerror and error.filename else str(error)
                self.fail(job, f"cannot write {job.dest}: {reason}")
                continue
            if saturated:
                self.saturated.append(job.source)
            if alpha:
                self.alpha.append(job.source)
            self.written.append(job.dest)
            self.progress.advance()


def build_layers(spec: FilterSpec, args: argparse.Namespace) -> dict[str, Any]:
    """The layers ``apply`` needs (this imports Keras, quietly); bad options are UsageErrors."""
    from fixedfilters.cli.quiet import import_keras

    kwargs = filter_kwargs(spec, args)
    if kwargs.get("iterations", 1) > MAX_ITERATIONS:
        raise UsageError(
            f"--iterations at most {MAX_ITERATIONS} in `apply`. Received: {kwargs['iterations']}"
        )
    import_keras()
    layers = {"float": make_layer(spec, kwargs)}
    reach = spec.reach(layers["float"]) if spec.reach is not None else 0
    if reach > MAX_REACH:
        raise UsageError(
            f"{spec.name}: this kernel needs a halo of {reach} pixels around each tile, more "
            f"than `apply` runs (at most {MAX_REACH}); use a smaller --ksize or kernel"
        )
    if not (args.raw or getattr(args, "abs", False)):
        for depth in spec.depths:
            layers[depth] = make_layer(spec, kwargs, {"output_dtype": depth})
    return layers


def cmd_apply(args: argparse.Namespace) -> int:
    """``fixedfilters apply``: every option checked before anything is read or written."""
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1. Received: {args.batch_size}")
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    spec = FILTERS[args.filter]
    if args.abs and not spec.abs_option:
        own = ", ".join(name for name, s in FILTERS.items() if s.abs_option)
        raise UsageError(f"--abs does not apply to {spec.name} (only to {own})")
    if args.abs and args.raw:
        raise UsageError("--abs changes the PNG only; --raw writes the signed float32 output")
    layers = build_layers(spec, args)

    jobs, failures = plan_jobs(
        args.inputs,
        out_dir,
        args.filter,
        raw=args.raw,
        recursive=args.recursive,
        overwrite=args.overwrite,
        report=err,
    )
    progress = Progress(len(jobs), quiet=args.quiet, desc=f"{PROG} {args.filter}")
    runner = Runner(spec, layers, args, progress)
    try:
        with quiet_opencv():
            runner.run(jobs)
    finally:
        progress.close()
    failures += runner.failures

    if runner.saturated:
        err(
            f"note: {len(runner.saturated)} result(s) from images deeper than 8 bits saturate at "
            "255 in the 8-bit PNG (first: "
            f"{runner.saturated[0]}); --raw keeps the exact values"
            + (", --scale can fit them" if "scale" in spec.keys else "")
        )
    if runner.alpha:
        err(
            f"note: {len(runner.alpha)} image(s) have an alpha channel, filtered like the colour "
            f"channels (first: {runner.alpha[0]}); --gray drops it"
        )
    if not args.quiet:
        depths = "/".join(f"{d}-bit" for d in sorted(runner.png_depths)) or "8-bit"
        kind = f"{'/'.join(sorted(runner.raw_dtypes)) or 'float32'} .npy" if args.raw else None
        kind = kind or f"{depths} PNG"
        print(f"wrote {len(runner.written)} {kind} file(s) to {out_dir}{os.sep}")
    if failures:
        err(f"{failures} input(s) failed (see above)")
        return EXIT_FAILED
    return EXIT_OK
