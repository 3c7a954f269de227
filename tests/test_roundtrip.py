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

import pytest
from course import Course, catalogue, filled

pytestmark = pytest.mark.slow

ASSIGNMENTS = ["lab02_kl"]


def _packed(entries: dict[str, dict[str, str]]) -> list[dict[str, tuple[str, str]]]:
    """Submission k = {exercise: (name, code)} for the k-th entry of every exercise."""
    width = max(len(v) for v in entries.values())
    return [{ex: list(v.items())[k] for ex, v in entries.items() if k < len(v)} for k in range(width)]


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    assignment = request.param
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
    grades = course.export()
    return {
        "course": course, "cat": cat, "plan": plan, "log": result.stdout + result.stderr,
        "scores": {s: course.scores(assignment, s) for s in plan}, "max": course.max_scores(assignment),
        "grades": grades, "assignment": assignment,
    }


def _auto(g) -> dict[str, float]:
    """Max points of the autograded test cells (not the manually graded answers)."""
    return {name: pts for name, pts in g["max"].items() if name in g["cat"].TESTS.values()}


def test_solution_scores_full_marks(graded):
    scores = graded["scores"]["solution"]
    for name, pts in _auto(graded).items():
        assert scores[name] == pts, f"the solution lost points on {name}: {scores[name]}/{pts}\n{graded['log'][-3000:]}"


def test_blank_lab_scores_zero(graded):
    scores = graded["scores"]["blank"]
    assert all(scores[name] == 0 for name in _auto(graded)), scores


def _entries(kind):
    out = []
    for assignment in ASSIGNMENTS:
        cat = catalogue(assignment)
        for k, pack in enumerate(_packed(getattr(cat, kind))):
            for exercise, (name, _) in pack.items():
                label = f"{assignment}:{exercise}:{name}"
                out.append(pytest.param(assignment, f"{kind.lower()}{k}", exercise, id=label))
    return out


@pytest.mark.parametrize("assignment,student,exercise", _entries("WRONG"))
def test_wrong_answer_loses_points_on_its_test(graded, assignment, student, exercise):
    if graded["assignment"] != assignment:
        pytest.skip("other assignment")
    tests = graded["cat"].TESTS
    scores = graded["scores"][student]
    assert scores[tests[exercise]] == 0, f"{exercise}: wrong answer kept {scores[tests[exercise]]} points"
    # Exercises whose answer in this submission is the solution keep their points.
    untouched = [t for ex, t in tests.items() if ex not in graded["plan"][student]]
    for test in untouched:
        assert scores[test] == graded["max"][test], f"{test} lost points although its answer was correct"


@pytest.mark.parametrize("assignment,student,exercise", _entries("CORRECT"))
def test_correct_alternative_keeps_full_marks(graded, assignment, student, exercise):
    if graded["assignment"] != assignment:
        pytest.skip("other assignment")
    test = graded["cat"].TESTS[exercise]
    assert graded["scores"][student][test] == graded["max"][test]


def test_feedback_and_grades_exported(graded):
    course, assignment = graded["course"], graded["assignment"]
    for student in graded["plan"]:
        html = list((course.grading / "feedback" / student / assignment).glob("*.html"))
        assert html, f"no feedback for {student}"
    rows = {row["student_id"]: row for row in graded["grades"] if row["assignment"] == assignment}
    assert set(rows) == set(graded["plan"])
    auto_max = sum(_auto(graded).values())
    assert float(rows["solution"]["raw_score"]) == auto_max  # the written answer awaits manual grading
    assert float(rows["blank"]["raw_score"]) == 0
