"""A class graded in parallel: the same small class of lab02_kl graded three ways, with real nbgrader, a
real PostgreSQL server (Debian's packages, started on loopback in a temporary folder) and a real Dask
cluster, must get the same grades:

- sequentially, on the embedded SQLite gradebook (the default for one instructor);
- two submissions at once (one nbgrader process each), on PostgreSQL (``DGM_GRADEBOOK_URL``);
- through Dask distributed (``--scheduler local``: a LocalCluster of two worker processes, one thread
  each), on PostgreSQL.

The class is a right, a wrong and a broken submission (kept small: each graded one costs ~15 s).
Skipped, saying why, only where the PostgreSQL server cannot be installed (``make postgres``: root, apt).
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from grading import autograde
from grading.course import Course, Postgres, PostgresUnavailable, catalogue, filled, grade_id

LAB = "lab02_kl"
CAT = catalogue(LAB)
# The wrong student also prints what its kernel sees of the gradebook's address (it must see nothing).
SPY = "import os\nprint('GRADEBOOK URL SEEN:', os.environ.get('DGM_GRADEBOOK_URL'))\n"
MODES = {
    "sqlite, sequential": ("sqlite", ["--jobs", "1"]),
    "postgres, 2 jobs": ("postgres", ["--jobs", "2"]),
    "postgres, dask 2 workers": ("postgres", ["--jobs", "2", "--scheduler", "local"]),
}


def grade(course: Course, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "grading", *args],
        cwd=course.root,
        env=course.env,  # the default time limits: a busy machine must not turn a right answer into a timeout
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"python -m grading {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def submissions(lab, solution) -> dict:
    wrong = next(iter(CAT.WRONG["kl_bernoulli"].values()))
    return {
        "right": filled(lab, solution),
        "wrong": filled(lab, solution, {"kl_bernoulli": SPY + wrong}),
        "broken": '{"cells": [',
    }


@pytest.fixture(scope="module")
def postgres():
    try:
        server = Postgres()
    except PostgresUnavailable as err:
        pytest.skip(f"no PostgreSQL server for the parallel grading tests: {err}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, postgres):
    """mode -> (course, {student: {test cell: score}}, autograde's output, report)."""
    out = {}
    for number, (mode, (gradebook, args)) in enumerate(MODES.items()):
        url = postgres.database(f"class{number}") if gradebook == "postgres" else None
        course = Course(tmp_path_factory.mktemp(f"scale{number}"), gradebook_url=url)
        grade(course, "release", LAB)
        for student, nb in submissions(course.lab(LAB), course.solution(LAB)).items():
            course.submit(LAB, student, nb)
        grade(course, "check", LAB)
        log = grade(course, "autograde", LAB, *args)
        report = grade(course, "report", LAB)
        scores = {s: course.scores(LAB, s) for s in ("right", "wrong", "broken")}
        out[mode] = (course, scores, log, report)
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
def test_sequential_sqlite_grades_are_fair(graded):
    course, scores, log, report = graded["sqlite, sequential"]
    full = course.max_scores(LAB)
    tests = {t for t in full if t.startswith("test_")}
    assert {t: scores["right"][t] for t in tests} == {t: full[t] for t in tests}, report
    assert scores["wrong"]["test_kl_bernoulli"] == 0 and all(
        scores["wrong"][t] == full[t] for t in tests - {"test_kl_bernoulli"}
    ), report
    assert all(scores["broken"][t] == 0 for t in tests), report
    assert "1 at once on this machine; gradebook sqlite:///" in log, log


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
@pytest.mark.parametrize("mode", ["postgres, 2 jobs", "postgres, dask 2 workers"])
def test_parallel_postgres_grades_equal_sequential_sqlite(graded, mode):
    _, sequential, _, sequential_report = graded["sqlite, sequential"]
    course, scores, log, report = graded[mode]
    assert scores == sequential, f"{mode}:\n{report}\nsequential on SQLite:\n{sequential_report}\n{log}"
    # The report (read from the PostgreSQL gradebook) says the same as the sequential one, line for line.
    assert report == sequential_report, f"{mode}:\n{report}\nsequential:\n{sequential_report}"
    where = "on a Dask LocalCluster of 2 worker processes" if "dask" in mode else "2 at once on this machine"
    assert f"{where}; gradebook postgresql+psycopg2://postgres@127.0.0.1:" in log, log
    assert course.gradebook_url.startswith("postgresql") and not (course.grading / "gradebook.db").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
def test_student_code_never_sees_the_gradebook_address(graded):
    for mode, (course, _, _, _) in graded.items():
        nb = nbformat.read(course.grading / "autograded" / "wrong" / LAB / f"{LAB}.ipynb", as_version=4)
        (cell,) = [c for c in nb.cells if grade_id(c) == "kl_bernoulli"]
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "GRADEBOOK URL SEEN: None" in text, f"{mode}: {text!r}"


def test_a_remote_cluster_refuses_a_sqlite_gradebook(tmp_path):
    """Workers on other machines cannot share an SQLite file: refuse before grading anything, and say why."""
    course = Course(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "grading", "autograde", LAB, "--scheduler", "tcp://127.0.0.1:1"],
        cwd=course.root,
        env=course.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs a gradebook every worker can reach (PostgreSQL: set DGM_GRADEBOOK_URL)" in result.stdout


def test_a_password_never_reaches_the_log():
    assert autograde._safe("postgresql://grader:s3cret@db.example:5432/course") == (
        "postgresql://grader:***@db.example:5432/course"
    )
    assert autograde._safe("sqlite:////x/gradebook.db") == "sqlite:////x/gradebook.db"
