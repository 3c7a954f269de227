"""The instructor tooling's parts, without running nbgrader: markers, scrubbing, catalogue edits, CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from catalogue import Edits

from grading import cli, markers
from grading.nbgrader_ext import REMOVED, ScrubHiddenTests

LAB = """# %% [markdown]
# # A lab

# %% badge

# %% intro

# %% setup

# %% locked imports
import math

# %% solution double
def double(x):
    \"\"\"Twice x.\"\"\"
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %% test double points=2
import math

checks.assert_close(double(1), 2, "double(1)")

# %% test double:negative points=1
checks.assert_close(double(-1), -2, "double(-1)")

# %% written why points=1.5
# ### BEGIN SOLUTION
# Because.
# ### END SOLUTION
"""


def _expanded():
    return markers.expand(markers.read(LAB), lab=True, setup="SETUP", badge="BADGE")


def test_markers_expand_into_nbgrader_metadata():
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in _expanded().cells}
    assert cells["double"].metadata.nbgrader == markers.nbgrader_metadata("solution", "double")
    assert cells["test_double"].metadata.nbgrader["points"] == 2 and cells["test_double"].metadata.nbgrader["locked"]
    assert cells["test_double_negative"].metadata.nbgrader["points"] == 1  # one test cell per property
    assert cells["test_double_negative"].source.startswith("# Tests of double, negative:")
    assert cells["written_why"].cell_type == "markdown" and cells["written_why"].metadata.nbgrader["points"] == 1.5
    assert cells["imports"].metadata.nbgrader["locked"] and not cells["imports"].metadata.nbgrader["grade"]
    assert cells["setup"].source == "SETUP" and "setup" in cells["setup"].metadata.tags


def test_test_cell_gets_the_preamble_with_its_imports_merged():
    (test,) = [c for c in _expanded().cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double"]
    head = test.source.split("\n\n")
    assert head[0].endswith("\nimport importlib\nimport math"), head  # standard library, sorted, no duplicate
    assert head[1:3] == ["import numpy as np", "import dgm.checks"], head
    assert "checks = importlib.reload(dgm.checks)" in test.source
    assert test.source.rstrip().endswith('checks.assert_close(double(1), 2, "double(1)")')


@pytest.mark.parametrize(
    "line,message",
    [
        ("# %% solutoin double", "cannot read the marker"),
        ("# %% test double", "needs points"),
        ("# %% solution", "needs a name"),
    ],
)
def test_a_bad_marker_names_its_line_and_the_fix(line, message):
    with pytest.raises(markers.MarkerError, match=message) as err:
        markers.read(f"# %%\nx = 1\n\n{line}\n", "lab.py")
    assert "lab.py:4" in str(err.value)


def _graded_notebook():
    nb = nbformat.v4.new_notebook()
    test = nbformat.v4.new_code_cell(
        "checks.assert_close(f(1), 1)\n### BEGIN HIDDEN TESTS\n_secret_case = f(123456789)\n### END HIDDEN TESTS"
    )
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_f", "points": 1}
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="CheckFailure",
            evalue="f(123456789): expected 1, got 2",
            traceback=["Traceback", "----> 3 _secret_case = f(123456789)"],
        )
    ]
    answer = nbformat.v4.new_code_cell("print(open('lab.ipynb').read())")
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="... _secret_case = f(123456789) ...")]
    nb.cells = [answer, test]
    return nb


def test_feedback_preprocessor_removes_hidden_tests_and_their_traces():
    nb, _ = ScrubHiddenTests().preprocess(_graded_notebook(), {})
    text = nbformat.writes(nb)
    assert "_secret_case" not in text
    assert "CheckFailure: f(123456789): expected 1, got 2" in text  # the failure still explains itself
    assert nb.cells[0].outputs[0].text == REMOVED
    assert "checks.assert_close(f(1), 1)" in nb.cells[1].source  # the visible tests stay


def test_catalogue_edit_fails_loudly_when_the_solution_changed():
    edit = Edits("lab02_kl")
    assert "def kl_laplace(" in edit("kl_laplace", {"def kl_laplace(": "def kl_laplace("})
    with pytest.raises(ValueError, match="no longer applies"):
        edit("kl_laplace", {"this text is not in the solution": ""})
    with pytest.raises(KeyError, match="no answer cell"):
        edit("no_such_exercise", {})


def test_cli_lists_every_step_in_order():
    assert list(cli.COMMANDS) == ["release", "collect", "check", "autograde", "feedback", "export", "report"]
    help_text = cli.parser().format_help()
    assert all(name in help_text for name in cli.COMMANDS)


# ------------------------------------------------------------------------------- the sandbox's parts


def test_sandbox_command_sets_every_limit_and_hides_the_notebooks(tmp_path, monkeypatch):
    from grading import sandbox, settings

    monkeypatch.setattr(settings, "SANDBOX_DISK", 5 * 2**20)
    work, runtime = tmp_path / "work", tmp_path / "runtime"
    work.mkdir()
    runtime.mkdir()
    (work / "lab02_kl.ipynb").write_text("{}")
    (work / "data.csv").write_text("1,2")
    argv = sandbox.command(str(runtime / "kernel.json"), str(work))
    line = " ".join(argv)
    assert f"--size {5 * 2**20} --tmpfs /tmp" in line and f"--size {5 * 2**20} --tmpfs {work}" in line, line
    assert f"--ro-bind /dev/null {work / 'lab02_kl.ipynb'}" in line, "the notebook with hidden tests is readable"
    assert f"--ro-bind {work / 'data.csv'} {work / 'data.csv'}" in line
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--remount-ro / --remount-ro /dev" in line
    assert "--unsetenv DGM_GRADEBOOK_URL" in line, "student code would see the gradebook's address (and password)"
    inner = argv[-1]
    for name in ("RLIMIT_DATA", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE"):
        assert name in inner, f"{name} is not set inside the sandbox"
    compile(inner, "inner", "exec")  # the code run inside is valid Python


def test_sandbox_size_settings_read_suffixes():
    from grading import settings

    assert settings._bytes("4G") == 4 * 2**30 and settings._bytes("512M") == 512 * 2**20
    assert settings._bytes("1.5k") == 1536 and settings._bytes("1000") == 1000


def test_launcher_refuses_where_bwrap_cannot_start(tmp_path):
    """bwrap pointed at `false`: the kernel launcher runs no student code and says what to do."""
    import os
    import subprocess
    import sys

    from grading import sandbox

    env = {**os.environ, "DGM_SANDBOX_BWRAP": "false"}
    env.pop(sandbox.ALLOW_UNSANDBOXED, None)
    launched = subprocess.run(
        [sys.executable, "-I", "-m", "grading.sandbox", str(tmp_path / "kernel.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert launched.returncode == 1, launched
    assert "Student code was NOT run" in launched.stderr and "DGM_ALLOW_UNSANDBOXED=1" in launched.stderr
    assert "bwrap could not start" in launched.stderr, launched.stderr


def test_runtime_folders_of_ended_processes_are_removed():
    """A grading killed at its time limit cannot remove its kernel's runtime folder: the next one does."""
    from grading import sandbox

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.mkdtemp(prefix=f"{sandbox.RUNTIME_PREFIX}{int(ended.stdout)}-"))
    mine = Path(sandbox.private_runtime(remove_at_exit=False))
    try:
        assert not stale.exists(), "the folder of an ended process was left"
        assert mine.is_dir() and mine.name.startswith(f"{sandbox.RUNTIME_PREFIX}{os.getpid()}-")
        sandbox.remove_stale_runtimes()
        assert mine.is_dir(), "the folder of a running process was removed"
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
