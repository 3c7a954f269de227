"""A failed check reads like feedback: in a real IPython kernel (what JupyterLab, Colab and nbgrader's
autograde run), its error output is the message and the failing test line, not frames of dgm/checks.py."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("checks_display")]

TEST_CELL = """\
import importlib

import dgm.checks

checks = importlib.reload(dgm.checks)
checks.assert_close(
    kl(0.0),
    0.51,
    "kl(0)",
    hints=[(0.37, "that is KL(q || p): are the arguments swapped?")],
)
"""


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def errors():
    """The test cell's error after a wrong answer (a failed check) and after a crashing one (the student's bug),
    from one kernel run."""
    answers = {"wrong": "def kl(x):\n    return 0.37\n", "crash": "def kl(x):\n    return 1 / 0\n"}
    cells = [nbformat.v4.new_code_cell(source) for answer in answers.values() for source in (answer, TEST_CELL)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    errors = {}
    for name, cell in zip(answers, notebook.cells[1::2]):
        outputs = [o for o in cell.outputs if o.output_type == "error"]
        assert outputs, f"the test cell after the {name} answer did not fail: {cell.outputs}"
        errors[name] = dict(outputs[0], traceback=[ANSI.sub("", line) for line in outputs[0]["traceback"]])
    return errors


def test_failed_check_shows_message_first_and_short(errors):
    error = errors["wrong"]
    text = "\n".join(error["traceback"])
    assert error["ename"] == "CheckFailure" and len(error["traceback"]) <= 3, (
        f"expected a short CheckFailure (message, then the test line), got {len(error['traceback'])} lines:\n{text}"
    )
    assert "kl(0): expected 0.51, got 0.37. Hint: that is KL(q || p)" in error["traceback"][0], text
    assert "line 6 of this cell, `checks.assert_close(`" in text, text
    assert "checks.py" not in text, f"frames inside dgm/checks.py are shown:\n{text}"


def test_a_students_own_error_keeps_its_traceback(errors):
    # The short form is for failed checks only: a bug in the answer needs its frames to be found.
    error = errors["crash"]
    text = "\n".join(error["traceback"])
    assert error["ename"] == "ZeroDivisionError" and "return 1 / 0" in text and len(error["traceback"]) > 3, text
