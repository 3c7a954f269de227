"""The instructor workflow (python -m grading) on a fault matrix: real nbgrader, real gradebook, temporary course.

A class of submissions of lab02_kl, each carrying one or more faults (independent faults on different
exercises share a submission, as in test_roundtrip.py, to keep the run short), goes through the
documented steps: collect (from a zip, as an LMS exports Colab downloads), check, autograde (in the
sandbox, with small time limits), feedback, export, report. For every kind of fault: the batch goes
on, each test cell scores what a fair grader gives, and the report names the problem.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from grading import settings
from grading.course import Course, catalogue, filled, grade_id

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

LAB = "lab02_kl"
CAT = catalogue(LAB)
TESTS = list(CAT.TESTS.values())
FULL = {
    "test_kl_bernoulli": 3,
    "test_kl_laplace": 3,
    "test_kl_mvn": 4,
    "test_kl_monte_carlo": 3,
    "test_fit_gaussian": 4,
    "test_predicted_kl_growth": 1,
    "test_predicted_swap": 1,
    "test_predicted_se_ratio": 1,
}
CELL_TIMEOUT = 45  # every FAST cell of the lab needs far less, even on 2 busy cores
HANG_LIMIT = 40  # per-submission limit for the student whose kernel ignores interrupts


def wrong(exercise: str) -> str:
    return next(iter(CAT.WRONG[exercise].values()))


def cells(nb, name):
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == name)


def scores(*zero: str, **given) -> dict:
    out = {t: (0 if t in zero else FULL[t]) for t in TESTS}
    out.update(given)
    return out


# ------------------------------------------------------------------------------- the submissions

# Where a thief would look: the gradebook, the notebook with hidden tests, this checkout's solutions,
# the default grading folder beside it, and any other checkout beside it (paths of this machine).
_CHECKOUT = settings.REPOSITORY_ROOT
THIEF = f"""
import glob, os
_grading = os.environ.get("DGM_GRADING_DIR", "")
_paths = [os.path.join(_grading, "gradebook.db"), "lab02_kl.ipynb",
          {str(_CHECKOUT.parent / "dgm-grading" / "gradebook.db")!r},
          os.path.join(os.path.dirname(_grading), "solutions", "lab02_kl", "lab02_kl.ipynb"),
          *glob.glob({str(_CHECKOUT.parent / "*" / "solutions" / "*" / "*.ipynb")!r}),
          *glob.glob("../../../*/*/lab02_kl.ipynb")]
_stolen = []
for _path in _paths:
    try:
        with open(_path, "rb") as _handle:
            if b"default_rng(1)" in _handle.read():
                _stolen.append(_path)
    except OSError as _err:
        print("cannot read", _path, type(_err).__name__)
if not _stolen:
    raise PermissionError("could not read the gradebook or the solutions")
print("STOLEN FROM", _stolen)
""" + CAT.CORRECT["kl_bernoulli"]["a plain Python loop over the batch"]

NOISE = """
import os, sys
def kl_monte_carlo(m, s, weights, means, stds, n, seed=0):
    # What TensorFlow's C++ logging and absl write on the process's stderr (file descriptor 2).
    os.write(2, b"2026-11-21 12:00:00.000001: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.\\n")
    sys.stderr.write("W0000 00:00:1700000000.000000    1234 cpu_feature_guard.cc:210] Could not find cuda drivers.\\n")
    z = m + s * np.random.default_rng(seed).standard_normal(n)
    parts = np.log(weights) - 0.5 * ((z[:, None] - np.asarray(means)) / np.asarray(stds)) ** 2 - np.log(stds)
    r = -0.5 * ((z - m) / s) ** 2 - np.log(s) - np.logaddexp.reduce(parts, axis=1)
    return float(r.mean()), float(r.std() / np.sqrt(n))
"""


def plan(lab, solution):
    """student -> (zip member name, notebook or raw text, expected scores, phrases the report must show)."""
    nb = lambda replace=None: filled(lab, solution, replace)  # noqa: E731
    out = {}
    out["solution"] = ("solution/lab02_kl.ipynb", nb(), scores(), [])
    out["blank"] = (
        "blank/lab02_kl.ipynb",
        lab,
        scores(*TESTS),
        ["not answered (NotImplementedError): test_kl_bernoulli"],
    )

    # Per-cell faults, one submission: a syntax error, a raising extra cell, huge output, TF log noise.
    s = nb(
        {
            "kl_bernoulli": "def kl_bernoulli(logits_p, logits_q)\n    return 0",
            "kl_mvn": solution_of(solution, "kl_mvn") + "\nfor _i in range(100_000):\n    print('line', _i)",
            "kl_monte_carlo": NOISE,
        }
    )
    s.cells.insert(cells(s, "imports") + 1, nbformat.v4.new_code_cell("raise ValueError('a stray cell that raises')"))
    out["cells"] = (
        "cells/lab02_kl.ipynb",
        s,
        scores("test_kl_bernoulli"),
        [
            "kl_bernoulli raised SyntaxError",
            "raised ValueError: a stray cell that raises",
            "kl_mvn: huge output, cut",
        ],
    )

    # Metadata faults, one submission (each on its own exercise).
    s = nb({"kl_bernoulli": wrong("kl_bernoulli"), "kl_monte_carlo": wrong("kl_monte_carlo")})
    s.cells[cells(s, "test_kl_bernoulli")].metadata["tags"] = ["skip-execution"]  # the skip exploit
    s.cells[cells(s, "test_kl_monte_carlo")].source = "# tests removed by the student\npass"  # an edited test
    s.cells[cells(s, "test_fit_gaussian")].metadata["nbgrader"]["points"] = 40  # edited points
    del s.cells[cells(s, "test_kl_mvn")]  # a deleted test cell
    retyped = s.cells[cells(s, "kl_laplace")]  # a graded cell retyped without metadata (Colab)
    s.cells[cells(s, "kl_laplace")] = nbformat.v4.new_code_cell(retyped.source)
    out["metadata"] = (
        "metadata/lab02_kl.ipynb",
        s,
        scores("test_kl_bernoulli", "test_kl_monte_carlo"),
        [
            "restored from the release: kl_laplace (by def kl_laplace)",
            "test cell test_kl_mvn deleted",
            "test_kl_bernoulli was tagged skip-execution",
            "test_kl_monte_carlo edited",
            "points of test_fit_gaussian changed to 40",
        ],
    )

    # All nbgrader metadata stripped.
    s = nb()
    for cell in s.cells:
        cell.metadata.pop("nbgrader", None)
    out["stripped"] = ("stripped/lab02_kl.ipynb", s, scores(), ["nbgrader metadata missing on 19 graded cell(s)"])

    # Colab: "Copy of …", downloaded twice ("(1)", the newer counts), nbformat 4.0 without cell ids.
    s = json.loads(nbformat.writes(nb()))
    s["nbformat_minor"] = 0
    for cell in s["cells"]:
        cell.pop("id", None)
    out["colab"] = (
        "colab_Copy of lab02_kl (1).ipynb",
        json.dumps(s),
        scores(),
        ["several files", "notebook renamed 'Copy of lab02_kl (1).ipynb'", "nbformat 4.0"],
    )

    out["loop"] = (
        "loop/lab02_kl.ipynb",
        nb({"kl_mvn": "while True:\n    pass"}),
        scores("test_kl_mvn"),
        ["kl_mvn: time limit reached"],
    )
    out["crash"] = (
        "crash/lab02_kl.ipynb",
        nb({"kl_laplace": "import os\nos._exit(1)"}),
        scores(*TESTS),
        ["the kernel died"],
    )
    hang = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)"
    out["hang"] = ("hang/lab02_kl.ipynb", nb({"kl_laplace": hang}), scores(*TESTS), ["per-submission limit"])
    out["thief"] = (
        "thief/lab02_kl.ipynb",
        nb({"kl_bernoulli": THIEF}),
        scores("test_kl_bernoulli"),
        ["kl_bernoulli raised PermissionError: could not read the gradebook or the solutions"],
    )
    out["broken"] = (
        "broken/lab02_kl.ipynb",
        '{"cells": [',
        scores(*TESTS),
        ["not a Jupyter notebook: lab02_kl.ipynb is not JSON"],
    )
    out["notanotebook"] = (
        "notanotebook/lab02_kl.ipynb",
        '{"name": "lab02_kl", "answers": [1, 2]}',
        scores(*TESTS),
        ["not a Jupyter notebook: lab02_kl.ipynb is JSON without a notebook's cells"],
    )
    other = nbformat.read(settings.REPOSITORY_ROOT / settings.SOLUTIONS / "lab05_vae" / "lab05_vae.ipynb", as_version=4)
    out["otherlab"] = (
        "otherlab/lab05_vae.ipynb",
        other,
        scores(*TESTS),
        ["a notebook of lab05_vae was handed in as lab02_kl ('lab05_vae.ipynb'): scores 0"],
    )
    return out


def solution_of(solution, name):
    from grading.course import solution_code

    return solution_code(solution.cells[cells(solution, name)])


# ------------------------------------------------------------------------------------ the workflow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("faults"))
    env = {**course.env, "DGM_CELL_TIMEOUT": str(CELL_TIMEOUT), "DGM_NOTEBOOK_TIMEOUT": "240"}

    def grade(*args, timeout=900):
        result = subprocess.run(
            [sys.executable, "-m", "grading", *args],
            cwd=course.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"python -m grading {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result.stdout

    grade("release", LAB)
    lab, solution = course.lab(LAB), course.solution(LAB)
    subs = plan(lab, solution)
    archive = course.root / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        # The older of colab's two downloads: blank (must be superseded by the newer one).
        handle.writestr(zipfile.ZipInfo("colab_Copy of lab02_kl.ipynb", (2026, 1, 1, 10, 0, 0)), nbformat.writes(lab))
        for member, nb, _, _ in subs.values():
            text = nb if isinstance(nb, str) else nbformat.writes(nb)
            handle.writestr(zipfile.ZipInfo(member, (2026, 1, 2, 10, 0, 0)), text)
        handle.writestr("__MACOSX/._solution", "junk")
    logs = {"collect": grade("collect", LAB, "--zip", str(archive)), "check": grade("check", LAB)}
    main = [s for s in subs if s != "hang"]
    logs["autograde"] = grade("autograde", LAB, "--jobs", "2", *[f"--student={s}" for s in main])
    logs["hang"] = grade("autograde", LAB, "--student=hang", "--timeout", str(HANG_LIMIT))
    logs["feedback"] = grade("feedback", LAB)
    grade("export", LAB, "--to", str(course.root / "grades.csv"))
    logs["report"] = grade("report", LAB)
    with open(course.root / "grades.csv") as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    got = {s: course.scores(LAB, s) for s in subs}
    return {"course": course, "subs": subs, "logs": logs, "scores": got, "grades": grades, "solution": solution}


def _student_lines(report: str, student: str) -> str:
    match = re.search(rf"^{student}\s.*?(?=^\S)", report, re.S | re.M)
    assert match, f"{student} missing from the report:\n{report}"
    return match.group(0)


STUDENTS = [
    *["solution", "blank", "cells", "metadata", "stripped", "colab", "loop", "crash", "hang", "thief", "broken"],
    *["notanotebook", "otherlab"],
]


@pytest.mark.parametrize("student", STUDENTS)
def test_fair_score_per_test_cell(graded, student):
    expected = graded["subs"][student][2]
    got = {t: graded["scores"][student].get(t) for t in TESTS}
    assert got == expected, f"{student}\n{graded['logs']['report']}\n{graded['logs']['autograde'][-2000:]}"


@pytest.mark.parametrize("student", STUDENTS)
def test_report_names_the_problem(graded, student):
    lines = _student_lines(graded["logs"]["report"], student)
    for phrase in graded["subs"][student][3]:
        assert phrase in lines, f"report for {student} lacks {phrase!r}:\n{lines}"
    if not graded["subs"][student][3]:
        assert lines.count("\n") == 1, f"problems reported for a clean submission:\n{lines}"


def test_batch_completed_and_failures_named(graded):
    report = graded["logs"]["report"]
    assert "grading failed for 5: broken, crash, hang, notanotebook, otherlab" in report, report
    assert set(graded["grades"]) == set(STUDENTS), graded["grades"].keys()
    assert float(graded["grades"]["solution"]["raw_score"]) == sum(FULL.values())


def test_thief_read_nothing(graded):
    """The sandbox: the gradebook, the solutions and the notebook with hidden tests are out of reach."""
    nb = nbformat.read(graded["course"].grading / "autograded" / "thief" / LAB / f"{LAB}.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "STOLEN FROM [" not in text and "cannot read" in text, text[:3000]


def test_feedback_has_no_hidden_test_source(graded):
    """Every feedback file exists, shows failed tests' messages, and no line of any hidden test."""
    from grading.feedback import html_text
    from grading.nbgrader_ext import HIDDEN

    visible = {ln.strip() for cell in graded["course"].lab(LAB).cells for ln in cell.source.splitlines()}
    hidden = set()
    for cell in graded["solution"].cells:
        for block in HIDDEN.findall(cell.source):
            hidden |= {ln.strip() for ln in block.splitlines()[1:-1] if len(ln.strip()) >= 12}
    hidden = {line for line in hidden if not any(line in seen for seen in visible)}
    assert len(hidden) > 20
    grading = graded["course"].grading
    # Control: the instructor's autograded notebooks do hold the hidden tests (so the search below can see them).
    autograded = (grading / "autograded" / "solution" / LAB / f"{LAB}.ipynb").read_text()
    assert sum(json.dumps(line)[1:-1] in autograded for line in hidden) > 20
    pages = {p.parts[-3]: html_text(p) for p in grading.glob(f"feedback/*/{LAB}/*.html")}
    assert set(pages) >= {"solution", "blank", "cells", "metadata", "stripped", "colab", "loop", "thief"}, pages.keys()
    for student, page in pages.items():
        leaked = [line for line in hidden if line in page]
        assert not leaked, f"{student}: hidden test lines in the feedback: {leaked[:3]}"
    # A failed hidden test still explains itself.
    assert "CheckFailure" in pages["metadata"] and "kl_monte_carlo" in pages["metadata"]


def test_originals_kept(graded):
    originals = graded["course"].grading / "originals"
    assert (originals / "colab" / LAB / "Copy of lab02_kl (1).ipynb").exists()
    assert "lab02_kl.ipynb" in os.listdir(originals / "broken" / LAB)
