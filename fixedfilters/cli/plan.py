"""``fixedfilters apply``, step 1: INPUTs (files and folders) -> jobs (source, destination)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixedfilters.cli.filters import FILTERS
from fixedfilters.cli.io import IMAGE_SUFFIXES

__all__ = ["Job", "plan_jobs"]


@dataclass
class Job:
    """One input image and the output it will become."""

    source: Path  # as given or found (used in messages)
    dest: Path


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
