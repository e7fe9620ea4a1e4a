"""``fixedfilters apply``: inputs -> jobs, then read, filter and write, overlapped.

A reader thread decodes the images in order into a small queue; the main thread batches
consecutive images of the same shape and depth through the layer; a pool of writer threads
makes the 8-bit pictures, encodes them and writes them atomically, while the main thread goes on
(OpenCV's decoders and encoders and TensorFlow's kernels release the GIL). Results and failures
are reported in input order.

The layer runs inside one ``tf.function`` per (channels, dtype) whose height and width are
unknown (``(None, None, None, C)``): no XLA compile and no retracing per image size, so a folder
of photographs of many sizes costs one trace, and every size takes the same (dynamic-shape)
arithmetic.
"""

from __future__ import annotations

import argparse
import collections
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fixedfilters.cli._common import EXIT_FAILED, EXIT_OK, PROG, InputError, UsageError, err
from fixedfilters.cli.filters import FILTERS, FilterSpec, filter_kwargs, make_layer
from fixedfilters.cli.io import (
    IMAGE_SUFFIXES,
    Progress,
    quiet_opencv,
    read_image,
    to_picture,
    write_npy,
    write_png,
)

__all__ = ["Job", "Runner", "cmd_apply", "plan_jobs"]

# A batch never holds more than this many input values (float32: 128 MiB), whatever
# --batch-size says, so a folder of large photos does not exhaust memory.
MAX_BATCH_VALUES = 1 << 25
# Images decoded ahead of the layer, and results waiting for a writer.
READ_AHEAD = 4
WRITERS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Job:
    """One input image and the output it will become."""

    source: Path  # as given or found (used in messages)
    dest: Path


# --------------------------------------------------------------------------------------------
# Planning: INPUTs -> jobs
# --------------------------------------------------------------------------------------------
def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _output_name_filter(path: Path) -> str | None:
    """``x.sobel.png`` -> ``"sobel"`` (a fixedfilters output name), else None."""
    suffixes = path.suffixes
    if len(suffixes) >= 2 and suffixes[-1].lower() in (".png", ".npy"):
        name = suffixes[-2][1:].lower()
        if name in FILTERS:
            return name
    return None


def _scan_folder(folder: Path, recursive: bool, out_dir: Path) -> Iterator[Path]:
    """Image files of ``folder`` (sorted), skipping the output folder and its outputs."""
    out_inside = _resolve(folder) != out_dir and _is_within(out_dir, _resolve(folder))
    walker = sorted(folder.rglob("*") if recursive else folder.iterdir())
    for path in walker:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue  # hidden files and folders (our own temporary files among them)
        if not path.is_file():
            continue
        resolved = _resolve(path)
        if out_inside and _is_within(resolved, out_dir):
            continue  # the output folder sits inside this input folder
        if resolved.parent == out_dir and _output_name_filter(path):
            continue  # a result of an earlier run written next to its inputs
        yield path


def plan_jobs(
    inputs: Sequence[str],
    out_dir: Path,
    filter_name: str,
    *,
    raw: bool,
    recursive: bool,
    overwrite: bool,
    report: Callable[[str], None],
) -> tuple[list[Job], int]:
    """Expand INPUTs into jobs; return ``(jobs, failures)``, each failure already reported.

    A folder contributes its image files (``--recursive``: also its subfolders', whose relative
    folder is kept under ``out_dir``). Failures: a missing input, a folder without images, two
    inputs that would write the same output (the later one fails: nothing is clobbered), an
    output that would replace an input file, an existing output without ``--overwrite``.
    """
    ext = "npy" if raw else "png"
    out_resolved = _resolve(out_dir)
    failures = 0
    candidates: list[tuple[Path, Path]] = []  # (source, dest)
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = list(_scan_folder(path, recursive, out_resolved))
            if not found:
                hint = "" if recursive else " (--recursive also reads its subfolders)"
                report(f"error: {path}: folder holds no images{hint}")
                failures += 1
            for image in found:
                rel = image.parent.relative_to(path)
                candidates.append((image, out_dir / rel / f"{image.stem}.{filter_name}.{ext}"))
        elif path.exists():
            candidates.append((path, out_dir / f"{path.stem}.{filter_name}.{ext}"))
        else:
            report(f"error: {path}: no such file or directory")
            failures += 1

    sources = {_resolve(source) for source, _ in candidates}
    jobs: list[Job] = []
    seen_sources: set[Path] = set()
    dests: dict[Path, Path] = {}
    for source, dest in candidates:
        key = _resolve(source)
        if key in seen_sources:
            continue  # the same file named twice (e.g. itself and its folder)
        seen_sources.add(key)
        dest_key = _resolve(dest)
        if dest_key in sources:
            report(
                f"error: {source}: its output {dest} is an input file; refusing to overwrite "
                "an input (choose another --out)"
            )
            failures += 1
        elif dest_key in dests:
            report(
                f"error: {source}: its output {dest} is also the output of {dests[dest_key]} "
                "(same name); skipped, nothing overwritten. Process one of them separately"
            )
            failures += 1
        elif not overwrite and dest.exists():
            report(f"error: {source}: {dest} exists (use --overwrite to replace it)")
            failures += 1
        else:
            dests[dest_key] = source
            jobs.append(Job(source, dest))
    return jobs, failures


# --------------------------------------------------------------------------------------------
# Running: read (thread) -> filter (main thread) -> write (thread pool)
# --------------------------------------------------------------------------------------------
_DONE = object()


def _read_ahead(jobs: Sequence[Job], gray: bool, stop: threading.Event) -> Iterator[Any]:
    """Yield ``(job, image or InputError)`` in order, decoded by a thread up to READ_AHEAD ahead."""
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


class Runner:
    """Reads images, batches consecutive same-shape ones through the layer, writes the results.

    ``layers``: the layer for float input (``"float"``) and, when the filter has
    ``uint8_kwargs`` and PNGs are written, the one for 8-bit input (``"uint8"``).
    """

    def __init__(
        self, spec: FilterSpec, layers: dict[str, Any], args: argparse.Namespace, progress: Progress
    ):
        self.spec = spec
        self.layers = layers
        self.args = args
        self.progress = progress
        self.written: list[Path] = []
        self.failures = 0
        self.saturated: list[Path] = []
        self.alpha: list[Path] = []
        self._functions: dict[tuple[str, int, str], Callable[[np.ndarray], Any]] = {}
        self._writes: collections.deque[tuple[Job, Future[tuple[bool, bool]]]] = collections.deque()

    # -- reporting (main thread only) --------------------------------------------------------
    def fail(self, job: Job, reason: str) -> None:
        self.progress.message(f"{PROG}: error: {job.source}: {reason}")
        self.failures += 1
        self.progress.advance()

    # -- the loop ----------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job]) -> None:
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix=f"{PROG}-writer")
        self._pool = pool
        try:
            group: list[tuple[Job, np.ndarray]] = []
            for job, image in _read_ahead(jobs, self.args.gray, stop):
                if isinstance(image, InputError):
                    self.flush(group)
                    group = []
                    self._collect(wait_all=True)  # keep the messages in input order
                    self.fail(job, str(image))
                    continue
                if group and self._key(group[0][1]) != self._key(image):
                    self.flush(group)
                    group = []
                group.append((job, image))
                limit = max(1, min(self.args.batch_size, MAX_BATCH_VALUES // image.size))
                if len(group) >= limit:
                    self.flush(group)
                    group = []
            self.flush(group)
            self._collect(wait_all=True)
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _variant(self, image: np.ndarray) -> str:
        return "uint8" if image.dtype == np.uint8 and "uint8" in self.layers else "float"

    def _key(self, image: np.ndarray) -> tuple[Any, ...]:
        return (image.shape, image.dtype.str, self._variant(image))

    def flush(self, group: list[tuple[Job, np.ndarray]]) -> None:
        """Filter one batch of same-shape images and hand the results to the writers."""
        if not group:
            return
        variant = self._variant(group[0][1])
        batch = np.stack([image for _, image in group])
        if variant == "float":
            batch = batch.astype(np.float32, copy=False)
        try:
            outputs = self._function(variant, batch)(batch)
            outputs = np.asarray(outputs.numpy() if hasattr(outputs, "numpy") else outputs)
        except Exception as error:  # e.g. out of memory: name every image of the batch
            self._collect(wait_all=True)
            for job, _ in group:
                self.fail(job, f"the {self.spec.name} layer failed: {error}")
            return
        for (job, image), output in zip(group, outputs, strict=True):
            self._writes.append((job, self._pool.submit(self._write, job, image, output)))
        self._collect(wait_all=False)

    def _function(self, variant: str, batch: np.ndarray) -> Callable[[np.ndarray], Any]:
        """The layer as a function of a batch with unknown height and width (one per C, dtype)."""
        key = (variant, int(batch.shape[-1]), batch.dtype.str)
        function = self._functions.get(key)
        if function is None:
            layer = self.layers[variant]
            if not layer.built:
                layer.build((None, None, None, int(batch.shape[-1])))
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                signature = [tf.TensorSpec((None, None, None, batch.shape[-1]), batch.dtype)]
                function = tf.function(layer, input_signature=signature, autograph=False)
            else:
                function = layer
            self._functions[key] = function
        return function

    # -- writing (pool threads) --------------------------------------------------------------
    def _write(self, job: Job, image: np.ndarray, output: np.ndarray) -> tuple[bool, bool]:
        """Write one result; return (saturated, has alpha) for the notes at the end."""
        if self.args.raw:
            write_npy(job.dest, output, overwrite=self.args.overwrite)
            return False, False
        picture = to_picture(output, self.spec.picture)
        write_png(job.dest, picture, overwrite=self.args.overwrite)
        saturated = (
            image.dtype != np.uint8
            and output.dtype != np.uint8
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
    import_keras()
    layers = {"float": make_layer(spec, kwargs)}
    if spec.uint8_kwargs and not args.raw:
        layers["uint8"] = make_layer(spec, kwargs, spec.uint8_kwargs)
    return layers


def cmd_apply(args: argparse.Namespace) -> int:
    """``fixedfilters apply``: every option checked before anything is read or written."""
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1. Received: {args.batch_size}")
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    spec = FILTERS[args.filter]
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
            f"{runner.saturated[0]}); --raw keeps the exact values, --scale can fit them"
        )
    if runner.alpha:
        err(
            f"note: {len(runner.alpha)} image(s) have an alpha channel, filtered like the colour "
            f"channels (first: {runner.alpha[0]}); --gray drops it"
        )
    if not args.quiet:
        kind = "float32 .npy" if args.raw else "8-bit PNG"
        print(f"wrote {len(runner.written)} {kind} file(s) to {out_dir}{os.sep}")
    if failures:
        err(f"{failures} input(s) failed (see above)")
        return EXIT_FAILED
    return EXIT_OK
