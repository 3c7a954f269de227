"""The full nbgrader round trip in a temporary course, with real nbgrader and a real gradebook.

For every lab with a wrong-answer catalogue (tests/catalogue/<assignment>.py): generate the lab,
submit it as several students, autograde, generate feedback, export grades, and check that

- the solution scores full marks on every autograded cell, and the blank lab scores 0;
- each catalogued wrong answer scores 0 on the test cell that grades its exercise, and nothing else
  is lost (so the point is lost on the right test);
- each correct alternative keeps full marks.

Wrong answers to different exercises are independent, so submission k carries the k-th wrong
answer of every exercise at once: a handful of autograde runs prove the whole catalogue.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grading.course import Course, catalogue, every_grading_cell, filled, grading_cells
from grading.feedback import html_text
from grading.nbgrader_ext import hidden_lines

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(p.stem for p in (Path(__file__).parent / "catalogue").glob("lab*.py"))
# Under pytest-xdist, all the tests of one lab run in one worker, so that each lab is graded once.
LABS = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS]
_GRADED: dict[str, dict] = {}


def _packed(entries: dict[str, dict[str, str]]) -> list[dict[str, tuple[str, str]]]:
    """Submission k = {exercise: (name, code)} for the k-th entry of every exercise."""
    width = max(len(v) for v in entries.values())
    return [{ex: list(v.items())[k] for ex, v in entries.items() if k < len(v)} for k in range(width)]


def graded(assignment: str, tmp_path_factory) -> dict:
    """Grade every planned submission of one lab once (cached for all the tests of that lab)."""
    if assignment in _GRADED:
        return _GRADED[assignment]
    cat = catalogue(assignment)
    course = Course(tmp_path_factory.mktemp(assignment))
    course.generate(assignment)
    lab, solution = course.lab(assignment), course.solution(assignment)
    plan = {"solution": {}, "blank": None}
    for k, pack in enumerate(_packed(cat.WRONG)):
        plan[f"wrong{k}"] = pack
    for k, pack in enumerate(_packed(cat.CORRECT)):
        plan[f"correct{k}"] = pack
    for student, pack in plan.items():
        nb = lab if pack is None else filled(lab, solution, {ex: code for ex, (_, code) in pack.items()})
        course.submit(assignment, student, nb)
    result = course.autograde(assignment)
    course.feedback(assignment)
    _GRADED[assignment] = {
        "course": course,
        "cat": cat,
        "plan": plan,
        "log": result.stdout + result.stderr,
        "scores": {s: course.scores(assignment, s) for s in plan},
        "max": course.max_scores(assignment),
        "grades": course.export(),
        "assignment": assignment,
    }
    return _GRADED[assignment]


def _auto(g) -> dict[str, float]:
    """Max points of the autograded test cells (not the manually graded answers)."""
    return {name: pts for name, pts in g["max"].items() if name in every_grading_cell(g["cat"])}


@pytest.mark.parametrize("assignment", LABS)
def test_solution_scores_full_marks(assignment, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    scores = g["scores"]["solution"]
    assert set(every_grading_cell(g["cat"])) <= set(g["max"]), "the catalogue names test cells the lab does not have"
    for name, pts in _auto(g).items():
        assert scores[name] == pts, f"the solution lost points on {name}: {scores[name]}/{pts}\n{g['log'][-3000:]}"


@pytest.mark.parametrize("assignment", LABS)
def test_blank_lab_scores_zero(assignment, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    scores = g["scores"]["blank"]
    assert all(scores[name] == 0 for name in _auto(g)), scores


def _entries(kind):
    out = []
    for assignment in ASSIGNMENTS:
        cat = catalogue(assignment)
        for k, pack in enumerate(_packed(getattr(cat, kind))):
            for exercise, (name, _) in pack.items():
                label = f"{assignment}:{exercise}:{name}"
                out.append(
                    pytest.param(
                        assignment, f"{kind.lower()}{k}", exercise, id=label, marks=pytest.mark.xdist_group(assignment)
                    )
                )
    return out


@pytest.mark.parametrize("assignment,student,exercise", _entries("WRONG"))
def test_wrong_answer_loses_points_on_its_test(assignment, student, exercise, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    scores, cat = g["scores"][student], g["cat"]
    mine = grading_cells(cat, exercise)
    got, full = sum(scores[t] for t in mine), sum(g["max"][t] for t in mine)
    assert got < full, f"{exercise}: wrong answer kept all its points ({got}/{full} on {mine})"
    if len(mine) == 1:
        assert got == 0, f"{exercise}: wrong answer kept {got} points"
    # Exercises whose answer in this submission is the solution keep their points.
    for ex in cat.TESTS:
        if ex not in g["plan"][student]:
            for test in grading_cells(cat, ex):
                assert scores[test] == g["max"][test], f"{test} lost points although its answer was correct"


@pytest.mark.parametrize("assignment,student,exercise", _entries("CORRECT"))
def test_correct_alternative_keeps_full_marks(assignment, student, exercise, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    for test in grading_cells(g["cat"], exercise):
        assert g["scores"][student][test] == g["max"][test], g["log"][-3000:]


@pytest.mark.parametrize("assignment", LABS)
def test_feedback_and_grades_exported(assignment, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    course = g["course"]
    for student in g["plan"]:
        html = list((course.grading / "feedback" / student / assignment).glob("*.html"))
        assert html, f"no feedback for {student}"
    rows = {row["student_id"]: row for row in g["grades"] if row["assignment"] == assignment}
    assert set(rows) == set(g["plan"])
    assert float(rows["solution"]["raw_score"]) == sum(_auto(g).values())  # written answers await a human
    assert float(rows["blank"]["raw_score"]) == 0


@pytest.mark.parametrize("assignment", LABS)
def test_plain_nbgrader_feedback_hides_the_hidden_tests(assignment, tmp_path_factory):
    """The round trip ran the plain `nbgrader generate_feedback`: no page shows a hidden-test line.

    A line is hidden when it is in a hidden-test block of that student's autograded notebook and
    nowhere else in it (an answer may share a line with a hidden reference: the student wrote it).
    """
    g = graded(assignment, tmp_path_factory)
    grading = g["course"].grading
    # Control: the instructor's autograded notebook holds the hidden tests, so the search can see them.
    solution = nbformat.read(grading / "autograded" / "solution" / assignment / f"{assignment}.ipynb", as_version=4)
    assert len(hidden_lines(solution)) >= 5, "too few hidden-test lines to make this check telling"
    for student in g["plan"]:
        autograded = nbformat.read(grading / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
        secret = hidden_lines(autograded)
        (page,) = (grading / "feedback" / student / assignment).glob("*.html")
        leaked = [line for line in secret if line in html_text(page)]
        assert not leaked, f"{student}: hidden test lines in the feedback: {leaked[:3]}"
    # Control: nbgrader's own feedback preprocessors, without ScrubHiddenTests, do show them.
    plain = grading / "feedback-without-scrubbing"
    default = "['nbgrader.preprocessors.GetGrades', 'nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']"
    g["course"].nbgrader(
        "generate_feedback",
        assignment,
        "--force",
        "--student=solution",
        f"--GenerateFeedback.preprocessors={default}",
        f"--CourseDirectory.feedback_directory={plain}",
    )
    (page,) = (plain / "solution" / assignment).glob("*.html")
    assert any(line in html_text(page) for line in hidden_lines(solution)), "the control shows no hidden line"


@pytest.mark.parametrize("assignment", LABS)
def test_failed_checks_read_as_feedback(assignment, tmp_path_factory):
    """A failed check is graded in nbgrader's kernel as its short message (dgm.checks' _render_traceback_),
    not frames of dgm/checks.py, and the student's feedback page holds that message."""
    g = graded(assignment, tmp_path_factory)
    course, shown = g["course"], 0
    for student in g["plan"]:
        (autograded,) = (course.grading / "autograded" / student / assignment).glob("*.ipynb")
        (page,) = (course.grading / "feedback" / student / assignment).glob("*.html")
        feedback = html_text(page)
        for cell in nbformat.read(autograded, as_version=4).cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error" or output.get("ename") != "CheckFailure":
                    continue
                shown += 1
                text = "\n".join(output["traceback"])
                assert len(output["traceback"]) <= 2 and "checks.py" not in text, f"{student}: long failure:\n{text}"
                assert output["evalue"][:60] in feedback, f"{student}: feedback lacks {output['evalue'][:60]!r}"
    assert shown, "no submission failed a check: the catalogue's wrong answers should"
