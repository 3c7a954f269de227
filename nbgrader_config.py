"""nbgrader configuration for the course (nbgrader 0.9.6).

Student data (submissions, autograded notebooks, feedback, the gradebook) lives outside the
repository, in ``DGM_GRADING_DIR`` (default: ``../dgm-grading`` beside the course folder), so that it
is never committed. Every value comes from ``grading/settings.py``. The settings below close holes of
plain nbgrader that ``docs/stack.md`` ("nbgrader") describes; the plain nbgrader commands are as safe
as ``python -m grading``.
"""

import os
import secrets
import sys
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from grading import sandbox, settings
from grading.nbgrader_ext import BoundedOutput, GuardedExecute, ScrubHiddenTests, StderrIsNotAVerdict

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# nbgrader runs `alembic` as a command when it creates a gradebook (nbgrader/api.py): without the venv's bin
# on PATH the formgrader hangs on "Loading...". This file is loaded by every nbgrader command and by the
# formgrader, however the server was started from the course folder, so this Python's bin goes first here.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

HERE = Path(__file__).resolve().parent
GRADING = settings.grading_dir(HERE)
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.source_directory = settings.SOLUTIONS
c.CourseDirectory.release_directory = settings.LABS
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]
c.CourseDirectory.submitted_directory = str(GRADING / "submitted")
c.CourseDirectory.autograded_directory = str(GRADING / "autograded")
c.CourseDirectory.feedback_directory = str(GRADING / "feedback")
c.CourseDirectory.db_url = settings.gradebook_url(GRADING)

# The stub left where a solution was: it tells the student what to write (a function's body, or a
# prediction's value: the docstring or the comment above says which).
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR ANSWER HERE: replace the line below (the docstring or the comment above says what to write).\n"
        'raise NotImplementedError("Not answered yet: write your answer here, then run the test cell below it.")'
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE (a few sentences)."

# A student who tags a test cell "skip-execution" must not skip it: the tag that skips is a fresh
# random value each time nbgrader starts, so no notebook can carry it.
c.Execute.skip_cells_with_tag = "never-skip-" + secrets.token_hex(16)
c.ClearOutput.enabled = True

# Per cell: long enough for a FAST training cell; per notebook: an outer bound for the whole run.
c.Execute.timeout = settings.CELL_TIMEOUT
c.BoundedExecute.notebook_timeout = settings.NOTEBOOK_TIMEOUT
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# Student code runs in the grading sandbox (grading/sandbox.py) for plain `nbgrader autograde`, the
# formgrader's autograde button and `python -m grading autograde` alike. Jupyter finds kernelspecs only
# through JUPYTER_PATH, which this file (Python run inside nbgrader, before any kernel starts) can set.
# Where the sandbox cannot run, the kernel refuses to start unless DGM_ALLOW_UNSANDBOXED=1.
os.environ.update(sandbox.kernel_env(GRADING / ".sandbox"))
c.BoundedExecute.kernel_name = sandbox.KERNEL_NAME
c.KernelManager.transport = "ipc"  # TCP cannot cross the sandbox's network namespace
c.KernelManager.connection_file = os.path.join(sandbox.private_runtime(), "kernel.json")

# Deleted or retyped graded cells come back from the gradebook instead of needing manual grading.
c.OverwriteCells.add_missing_cells = True

# TensorFlow log lines and Python warnings on stderr must not zero a correct answer: drop stderr
# outputs that look like TF/absl/XLA logging or a warning
# (e.g. "2026-01-01 12:00:00.000: I tensorflow/..." or "W0000 00:00:... cc:123]").
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] (tensorflow|external|xla)/"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*oneDNN custom operations are on"
    # Python warnings (e.g. NumPy's "divide by zero encountered in log" inside a correct np.where):
    # a test's verdict is its exceptions, not its warnings.
    r"|.*\b\w*Warning: )"
)

# Autograde: execute with the outer time bound, test cells that an answer cannot disarm and output
# bounded in bytes as it arrives (GuardedExecute, a BoundedExecute), instead of nbgrader's plain
# Execute; a test cell's leftover stderr is shown, not scored (StderrIsNotAVerdict); outputs are cut to
# bytes per cell and per notebook as well as lines (BoundedOutput, LimitOutput).
c.Autograde.autograde_preprocessors = [
    GuardedExecute,
    IgnorePattern,
    StderrIsNotAVerdict,
    ClearMetadataPreprocessor,
    LimitOutput,
    BoundedOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.LimitOutput.max_lines = settings.OUTPUT_LINES
c.LimitOutput.max_traceback = settings.TRACEBACK_LINES
c.GuardedExecute.output_bytes = settings.OUTPUT_BYTES
c.BoundedOutput.cell_bytes = settings.OUTPUT_BYTES
c.BoundedOutput.notebook_bytes = settings.NOTEBOOK_OUTPUT_BYTES

# Feedback shows each failed test's message, never the hidden tests' code (grading/nbgrader_ext.py).
c.GenerateFeedback.preprocessors = [GetGrades, ScrubHiddenTests, BoundedOutput, CSSHTMLHeaderPreprocessor]
