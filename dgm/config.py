"""Course-wide settings: FAST/FULL mode, where data lives, seeding, and the notebook setup report.

Settings come from environment variables so that one switch works the same in JupyterLab, Colab,
nbgrader and CI:

- ``DGM_MODE``: ``fast`` (small data, short training) or ``full`` (the default for students).
  Under nbgrader (``NBGRADER_EXECUTION`` is set during autograde and validate) the mode is FAST.
- ``DGM_DATA_DIR``: a folder holding ``mnist-idx/`` and ``fashion-mnist/`` with the original IDX
  files, for machines without internet (CI points it at ``../shared/data``).
- ``DGM_SEED``: the global seed (default 0).
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from pathlib import Path

# Versions the course is tested with (pyproject.toml pins them). On Colab, its own TensorFlow is kept:
# only these minimums are enforced there.
MIN_VERSIONS = {"tensorflow": "2.16", "tensorflow_probability": "0.24", "keras": "3.0", "numpy": "1.26"}

# The course repository (a checkout locally, a shallow clone on Colab): the helper package sits at its top.
REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"


def mode() -> str:
    """Return ``"fast"`` or ``"full"``; nbgrader's autograde and validate always run FAST."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "fast"
    value = os.environ.get("DGM_MODE", "full").strip().lower()
    if value not in ("fast", "full"):
        raise ValueError(f"DGM_MODE must be 'fast' or 'full', got {value!r}.")
    return value


def is_fast() -> bool:
    return mode() == "fast"


def pick(fast, full):
    """The value for the current mode: ``pick(fast=200, full=20_000)``."""
    return fast if is_fast() else full


def data_dir() -> Path | None:
    """The offline data folder from ``DGM_DATA_DIR``, or None when unset."""
    value = os.environ.get("DGM_DATA_DIR")
    return Path(value).expanduser().resolve() if value else None


def seed() -> int:
    return int(os.environ.get("DGM_SEED", "0"))


def in_colab() -> bool:
    return "google.colab" in sys.modules


def seed_everything(value: int | None = None) -> int:
    """Seed Python, NumPy and TensorFlow (Keras uses TensorFlow's seed)."""
    import numpy as np
    import tensorflow as tf

    value = seed() if value is None else value
    random.seed(value)
    np.random.seed(value)
    tf.random.set_seed(value)
    return value


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ and Python loggers off stderr.

    nbgrader scores a test cell 0 if it writes anything to stderr, so a stray TensorFlow log line
    would zero a correct answer. Must run before TensorFlow is imported to silence the C++ side.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN stays on (TensorFlow's default on x86): without XLA it trains the course's MLPs about
    # 1.3 times faster on two CPU cores. Its start-up line goes to stderr at import; setup() mutes it.
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore", module="tensorflow_probability")
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_versions(found: dict[str, str]) -> list[str]:
    """Problems with the installed versions, as sentences a student can act on."""
    problems = []
    for name, minimum in MIN_VERSIONS.items():
        have = found.get(name)
        if have is None:
            problems.append(f"{name} is not installed (need >= {minimum}).")
        elif _version_tuple(have) < _version_tuple(minimum):
            problems.append(f"{name} {have} is too old (need >= {minimum}).")
    return problems


@contextlib.contextmanager
def _muted_stderr_fd():
    """Send file descriptor 2 to /dev/null for a moment.

    TensorFlow's C++ side (absl) prints "All log messages before absl::InitializeLog()..." and
    "Could not find cuda drivers" at import, whatever TF_CPP_MIN_LOG_LEVEL says; those lines would
    land in the setup cell's output. Python exceptions are not affected.
    """
    sys.stderr.flush()
    try:
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no real file descriptor 2 (some hosted kernels)
        yield
        return
    os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def setup(verbose: bool = True) -> dict:
    """What the generated setup cell runs: quiet TF, check versions, seed, warm up, report."""
    quiet_tensorflow()
    with _muted_stderr_fd():
        found = _import_stack()
    problems = check_versions(found)
    if problems:
        raise RuntimeError(
            "The course environment is not ready:\n  - "
            + "\n  - ".join(problems)
            + "\nFix: run `make env` in the course folder (or `pip install -e .`) and restart the kernel."
        )
    import tensorflow as tf

    with _muted_stderr_fd():
        # One op now so that TensorFlow's first-use messages happen here, not inside a graded test cell.
        tf.reduce_sum(tf.ones(2)).numpy()
    value = seed_everything()
    gpus = tf.config.list_physical_devices("GPU")
    report = {
        "python": platform.python_version(),
        **found,
        "device": f"GPU ({len(gpus)}: {gpus[0].name})" if gpus else f"CPU ({os.cpu_count()} cores)",
        "where": "Colab" if in_colab() else "local",
        "mode": mode().upper(),
        "seed": value,
    }
    if verbose:
        print(" | ".join(f"{k}: {v}" for k, v in report.items()))
        if in_colab():
            print(colab_advice(report["mode"], gpu=bool(gpus)))
    return report


def colab_advice(mode_name: str, gpu: bool) -> str:
    """What the setup cell adds on Colab: what FAST or FULL means there, and how to change runtime or mode."""
    gpu_runtime = "Runtime -> Change runtime type -> T4 GPU -> Save, then run the notebook from the top"
    to_fast = "add a cell `%env DGM_MODE=fast` above this one, run it, then run this cell and the rest again"
    if mode_name == "FAST":
        return (
            "Colab, FAST mode: a small data subset and short training, about a minute a notebook; results are "
            "rougher than FULL's. For FULL, run `%env DGM_MODE=full` in a cell above this one, then this cell "
            f"and the rest again (on a GPU runtime: {gpu_runtime})."
        )
    if gpu:
        return (
            "Colab, FULL mode on a GPU: the full datasets and training (aimed at under about 15 minutes a notebook "
            f"on a T4). For a quick run instead, {to_fast}."
        )
    return (
        "Colab, FULL mode on a CPU: the full datasets and training are sized for a GPU, and the longest lectures "
        f"take about an hour on a CPU. Pick a GPU: {gpu_runtime}. Or, for a quick run (FAST), {to_fast}."
    )


def _import_stack() -> dict[str, str]:
    """Import the stack and return its versions; a broken install is a clear error."""
    import importlib

    found = {}
    for name in MIN_VERSIONS:
        try:
            found[name] = importlib.import_module(name).__version__
        except ImportError:
            pass
        except Exception as err:  # e.g. TFP refusing to import without tf_keras
            raise RuntimeError(
                f"Importing {name} failed: {err}\nFix: reinstall the course environment "
                "(`make env` locally; on Colab, Runtime > Restart and run the setup cell again)."
            ) from err
    return found
