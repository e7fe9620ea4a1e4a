"""Keras and TensorFlow without their start-up lines on stderr, for the command only.

``import fixedfilters`` changes nothing in the user's environment; the command, before it first
needs Keras, calls :func:`import_keras`, which

* sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user chose a level (it hides TensorFlow's C++
  INFO/WARNING/ERROR lines, among them ``failed call to cuInit`` on a machine without a GPU);
* imports Keras (and so TensorFlow) with file descriptor 2 sent to a temporary file, then passes
  on every line of it except the log lines the libraries print while loading, which no log level
  reaches: absl's ``WARNING: All log messages before absl::InitializeLog() is called are written
  to STDERR`` and the glog-style ``I0000 ... cudart_stub.cc:31] Could not find cuda drivers``
  that TensorFlow's CUDA stubs print from static initializers (TensorFlow 2.21, measured with
  ``TF_CPP_MIN_LOG_LEVEL=3``, ``GLOG_minloglevel``, ``ABSL_MIN_LOG_LEVEL`` and
  ``CUDA_VISIBLE_DEVICES=-1``: none removes them). Anything else written meanwhile (a Python
  warning, an error, a traceback) still reaches stderr;
* sets TensorFlow's Python logger to ERROR (no "triggered tf.function retracing" warnings).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

__all__ = ["import_keras", "is_library_noise"]

# glog/absl line prefix: severity, MMDD, time, thread id, file:line]
_GLOG = re.compile(r"^[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] ")
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # the second line of cpu_feature_guard's INFO
)


def is_library_noise(line: str) -> bool:
    """True for an INFO/WARNING start-up line of TensorFlow/absl/XLA (never for ours)."""
    return bool(_GLOG.match(line)) or line.startswith(_NOISE)


@contextlib.contextmanager
def _filtered_fd2() -> Iterator[None]:
    """Send fd 2 to a temporary file for the block, then pass on what is not library noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines() if line and not is_library_noise(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def import_keras() -> Any:
    """Import and return ``keras`` (and TensorFlow, on that backend) without start-up noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" not in sys.modules:
        with _filtered_fd2():
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow  # noqa: F401  (its CUDA stubs print while loading)
    import keras

    if "tensorflow" in sys.modules:
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return keras
