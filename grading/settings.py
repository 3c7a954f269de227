"""Every setting of the instructor tooling, in one place: nbgrader_config.py, the build, the grading
commands, the tests and the benchmark all read it from here.

Environment variables (all optional):

- ``DGM_GRADING_DIR``: student data (submissions, autograded notebooks, feedback, gradebook, problems,
  logs); default ``../dgm-grading`` beside the course folder, so that it is never committed.
- ``DGM_CELL_TIMEOUT``, ``DGM_NOTEBOOK_TIMEOUT``: autograde limits per cell and per notebook (seconds).
- ``DGM_ID_RULE``: how ``collect --zip`` finds a student id in a path of the zip.
- ``DGM_GRADING_JOBS``: submissions graded at once (one nbgrader process, one worker, per submission).
- ``DGM_GRADEBOOK_URL``: the gradebook (nbgrader's ``CourseDirectory.db_url``); default the embedded
  SQLite file ``gradebook.db`` in the grading folder, for one instructor (at most ``SQLITE_JOBS`` writers).
  For a class graded in parallel, PostgreSQL: ``postgresql://user@host:5432/dbname`` (the password in
  ``~/.pgpass``, which the sandbox hides, rather than in the URL).
- ``DGM_SCHEDULER``: where autograde's per-submission jobs run: unset, on this machine; ``local``, a Dask
  ``LocalCluster`` of ``DGM_GRADING_JOBS`` worker processes; ``tcp://host:8786``, the scheduler of a
  running Dask cluster (README, "Grading on several machines").
- ``DGM_SANDBOX_MEMORY``, ``DGM_SANDBOX_CPU_SECONDS``, ``DGM_SANDBOX_PROCESSES``, ``DGM_SANDBOX_DISK``,
  ``DGM_SANDBOX_OUTPUT``: the limits of one submission's kernel in the grading sandbox (grading/sandbox.py):
  memory (bytes; ``K``/``M``/``G`` suffixes), CPU seconds, processes and threads, bytes of each of its two
  writable folders (``/tmp`` and the working folder, both fresh tmpfs) and of any one file, and bytes of the
  kernel's own stdout/stderr kept in the grading log.
- ``DGM_SANDBOX_BWRAP``: the bubblewrap command (default ``bwrap`` on PATH).
- ``DGM_ALLOW_UNSANDBOXED=1``: where the sandbox cannot run, run kernels WITHOUT it instead of refusing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tomllib

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent  # the checkout: sources, solutions, tools
BIN = Path(sys.executable).parent  # the environment's commands (nbgrader, alembic, jupyter, ruff)

SOURCE = "source"  # text twins: source/lectures/*.py and source/labs/<lab>.py
LECTURES, SOLUTIONS, LABS = "lectures", "solutions", "labs"  # generated notebooks

CELL_TIMEOUT = int(os.environ.get("DGM_CELL_TIMEOUT", "300"))
NOTEBOOK_TIMEOUT = int(os.environ.get("DGM_NOTEBOOK_TIMEOUT", "900"))
GRADING_JOBS = int(os.environ.get("DGM_GRADING_JOBS", "1"))
SCHEDULER = os.environ.get("DGM_SCHEDULER", "")
# SQLite locks the whole file for each write: more than two nbgrader processes at once time out on it.
SQLITE_JOBS = 2
# The first folder of a path in the zip, or the file name up to its first "_".
ID_RULE = os.environ.get("DGM_ID_RULE", r"^(?:(?P<id>[^/]+)/|(?P<id2>[^/_]+)_)")
OUTPUT_LINES, TRACEBACK_LINES = 200, 40  # what autograde keeps of one cell's output
# Bytes of output that the autograded notebook and the feedback keep per cell and per notebook (a note
# says how many were cut): lines alone let one 50 MB line through. A FAST lab's plots fit with room to spare.
OUTPUT_BYTES, NOTEBOOK_OUTPUT_BYTES = 100_000, 2_000_000


def _bytes(text: str) -> int:
    """``"4G"`` -> 4 * 2**30 (suffixes K, M, G; a plain number is bytes)."""
    text = text.strip().upper()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


# The grading sandbox's limits for one submission's kernel (grading/sandbox.py). Measured on the FAST
# solutions in the sandbox (2 shared CPU cores): lab05_vae peaked at 1.2 GB resident (0.85 GB of data
# segments at the end; it ran under a 1.5 GB RLIMIT_DATA), 24 threads and 32 s of CPU; lab02_kl at 0.7 GB,
# 18 threads, 17 s. The defaults leave at least 3x headroom; the CPU bound is twice DGM_NOTEBOOK_TIMEOUT.
SANDBOX_MEMORY = _bytes(os.environ.get("DGM_SANDBOX_MEMORY", "4G"))
SANDBOX_CPU_SECONDS = int(os.environ.get("DGM_SANDBOX_CPU_SECONDS", str(2 * NOTEBOOK_TIMEOUT)))
SANDBOX_PROCESSES = int(os.environ.get("DGM_SANDBOX_PROCESSES", "512"))  # threads count too (TF starts many)
SANDBOX_DISK = _bytes(os.environ.get("DGM_SANDBOX_DISK", "512M"))
SANDBOX_OUTPUT = _bytes(os.environ.get("DGM_SANDBOX_OUTPUT", "1M"))
SANDBOX_BWRAP = os.environ.get("DGM_SANDBOX_BWRAP", "")


def course_root() -> Path:
    """The nbgrader course folder: the current folder when it holds nbgrader_config.py, else the checkout."""
    here = Path.cwd()
    return here.resolve() if (here / "nbgrader_config.py").is_file() else REPOSITORY_ROOT


def grading_dir(root: Path | None = None) -> Path:
    """Where student data lives (``DGM_GRADING_DIR``, default ``../dgm-grading`` beside the course)."""
    default = (root or course_root()).parent / "dgm-grading"
    return Path(os.environ.get("DGM_GRADING_DIR", default)).resolve()


def gradebook_url(grading: Path | None = None) -> str:
    """``DGM_GRADEBOOK_URL`` (PostgreSQL for a class graded in parallel), else SQLite in the grading folder."""
    return os.environ.get("DGM_GRADEBOOK_URL") or f"sqlite:///{(grading or grading_dir()) / 'gradebook.db'}"


def _project_urls() -> dict[str, str]:
    with open(REPOSITORY_ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["urls"]


def repository_url() -> str:
    """The instructor's repository (everything, solutions included): ``[project.urls] Repository``."""
    return _project_urls()["Repository"]


def student_edition_url() -> str:
    """Where the student edition is published: ``[project.urls] "Student edition"`` in pyproject.toml,
    the one setting behind the setup cell, the Colab badges and the README's unit table."""
    return _project_urls()["Student edition"]


def edition_dir() -> Path:
    """Where ``make edition`` writes the student edition: ``DGM_EDITION_DIR``, default ``../dgm-course-student``."""
    default = REPOSITORY_ROOT.parent / "dgm-course-student"
    return Path(os.environ.get("DGM_EDITION_DIR", default)).resolve()


def tool_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader: the environment's bin first on PATH (nbgrader runs `alembic`)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def nbgrader(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float | None = None):
    """Run a real nbgrader command in the course folder (so nbgrader_config.py applies)."""
    return subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=cwd or course_root(),
        env=tool_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def generate_assignment(lab: str, *extra: str, cwd: Path | None = None, env: dict | None = None):
    """``nbgrader generate_assignment``: the student lab in labs/<lab>/ and its cells in the gradebook."""
    return nbgrader("generate_assignment", lab, "--force", "--log-level=WARN", *extra, cwd=cwd, env=env)
