"""The nbgrader configuration closes the holes of NOTES.md: proven with tampered submissions.

Each submission below carries a wrong answer *and* a trick that, with nbgrader's defaults, would hide
it. With the course's configuration each still scores 0 on that exercise, and its other (correct)
answers keep full marks.
"""

from __future__ import annotations

import pytest

from grading.course import Course, catalogue, filled, grade_id

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hardening")]

ASSIGNMENT = "lab02_kl"
CAT = catalogue(ASSIGNMENT)
WRONG_LAPLACE = next(iter(CAT.WRONG["kl_laplace"].values()))


def _skip_tag(nb):
    for cell in nb.cells:
        if grade_id(cell) == "test_kl_laplace":
            cell.metadata["tags"] = ["skip-execution"]
    return nb


def _delete_test(nb):
    nb.cells = [c for c in nb.cells if grade_id(c) != "test_kl_laplace"]
    return nb


def _patch_checks(nb):
    for cell in nb.cells:
        if grade_id(cell) == "kl_laplace":
            cell.source += (
                "\n\nimport dgm.checks\n"
                "dgm.checks.assert_close = lambda *args, **kwargs: None\n"
                "dgm.checks.assert_true = lambda *args, **kwargs: None\n"
            )
    return nb


def _answer_trick(code):
    """A trick written into the (wrong) answer cell of kl_laplace: it runs before the test cells."""

    def trick(nb):
        for cell in nb.cells:
            if grade_id(cell) == "kl_laplace":
                cell.source += "\n\n" + code
        return nb

    return trick


# The two tricks of issue 15, seen to save wrong answers through `make grade` before the test cells
# were guarded (grading/nbgrader_ext.py:GuardedExecute). The other tricks (settrace, exception handlers,
# builtins, NumPy, print, sys.exit, a guessed token) are proven in one kernel in tests/test_containment.py.
INPUT_TRANSFORMER = """
def _blank_tests(lines):
    return [] if any("checks" in line for line in lines) else lines

get_ipython().input_transformers_cleanup.append(_blank_tests)
"""
PATCHED_RELOAD = """
import importlib, dgm.checks
dgm.checks.assert_close = lambda *args, **kwargs: None
dgm.checks.assert_true = lambda *args, **kwargs: None
importlib.reload = lambda module: module
"""

TRICKS = {
    "skip_execution_tag": _skip_tag,
    "deleted_test_cell": _delete_test,
    "patched_checks": _patch_checks,
    "input_transformer": _answer_trick(INPUT_TRANSFORMER),
    "patched_reload": _answer_trick(PATCHED_RELOAD),
}
# A correct answer that writes a debug line to stderr: nbgrader alone scores that 0.
STDERR_DEBUG = CAT.CORRECT["kl_laplace"][next(iter(CAT.CORRECT["kl_laplace"]))] + (
    "\n\nimport sys\nprint('debug: kl_laplace defined', file=sys.stderr)\n"
)


PLAIN_AUTOGRADE = ["Execute", "LimitOutput", "SaveAutoGrades"]


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("hardening"))
    course.generate(ASSIGNMENT)
    lab, solution = course.lab(ASSIGNMENT), course.solution(ASSIGNMENT)
    for student, trick in TRICKS.items():
        course.submit(ASSIGNMENT, student, trick(filled(lab, solution, {"kl_laplace": WRONG_LAPLACE})))
    course.submit(ASSIGNMENT, "stderr_debug", filled(lab, solution, {"kl_laplace": STDERR_DEBUG}))
    log = course.autograde(ASSIGNMENT)
    # Control: the same skip-tag trick graded with nbgrader's default tag and its plain Execute (the
    # course's GuardedExecute also scores 0 a test cell that did not run) does fool it, so the test
    # above would fail without the course's configuration.
    course.submit(ASSIGNMENT, "control", _skip_tag(filled(lab, solution, {"kl_laplace": WRONG_LAPLACE})))
    plain = [f"--Autograde.autograde_preprocessors=nbgrader.preprocessors.{name}" for name in PLAIN_AUTOGRADE]
    course.autograde(ASSIGNMENT, "--student=control", "--Execute.skip_cells_with_tag=skip-execution", *plain)
    students = [*TRICKS, "stderr_debug", "control"]
    return {s: course.scores(ASSIGNMENT, s) for s in students}, course.max_scores(ASSIGNMENT), log


@pytest.mark.parametrize("student", list(TRICKS))
def test_trick_does_not_save_a_wrong_answer(scores, student):
    got, maximum, log = scores
    assert got[student]["test_kl_laplace"] == 0, f"{student}: {got[student]}\n{log.stdout[-2000:]}"
    for test in CAT.TESTS.values():
        if test != "test_kl_laplace":
            assert got[student][test] == maximum[test], f"{student}: {test} lost points"


def test_stderr_is_not_a_verdict(scores):
    """A correct answer that prints a debug line on stderr (inside the test cell's call) keeps its points."""
    got, maximum, log = scores
    for test in CAT.TESTS.values():
        assert got["stderr_debug"][test] == maximum[test], f"{test}: {got['stderr_debug']}\n{log.stdout[-2000:]}"


def test_control_default_nbgrader_is_fooled_by_the_skip_tag(scores):
    got, maximum, _ = scores
    assert got["control"]["test_kl_laplace"] == maximum["test_kl_laplace"]


def test_notebook_time_bound_stops_a_slow_submission(tmp_path, monkeypatch):
    """BoundedExecute: once the notebook's time is spent, the remaining cells time out (and score 0)."""
    import nbformat

    from grading.course import isolated_env
    from grading.nbgrader_ext import BoundedExecute

    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time; time.sleep(3)") for _ in range(3)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = BoundedExecute(timeout=60, notebook_timeout=5)
    nb, _ = executor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    timed_out = ["CellTimeoutError" in [o.get("ename") for o in c.outputs] for c in nb.cells]
    # 3 s of the 5 s go to the first cell; the second gets the 2 s left, the third the 1 s minimum.
    assert timed_out == [False, True, True], [c.outputs for c in nb.cells]
