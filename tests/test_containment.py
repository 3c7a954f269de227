"""Test cells that an answer cannot disarm, stderr that is not a verdict, output bounded in bytes
(grading/nbgrader_ext.py, grading/kernel_guard.py).

One real kernel runs one notebook in which each exercise brings its own trick in the answer cell
before its test cell, as a student's notebook would. ``GuardedExecute`` puts the kernel back before
every test cell, so the tricks of earlier exercises are gone by the next test: each trick is proven
on its own, and correct answers between them keep their points. Scores are nbgrader's own
(``utils.determine_grade``) after the course's preprocessors. The whole-lab proof through a real
``nbgrader autograde`` is in tests/test_hardening.py.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from nbgrader.utils import determine_grade

from grading.nbgrader_ext import BoundedOutput, GuardedExecute, StderrIsNotAVerdict, bound_outputs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("containment")]

TEST = """import importlib

import dgm.checks

checks = importlib.reload(dgm.checks)
checks.assert_close({name}(), 2.0, "{name}()")
print("{name} checked")"""

# name -> (answer cell, score its test cell deserves: 1 = full marks[, test cell]). Wrong answers return 1.0.
CASES = {
    "honest": ("def honest():\n    return 2.0", 1),
    "patched_reload": (
        "import importlib, dgm.checks\n"
        "dgm.checks.assert_close = lambda *args, **kwargs: None\n"
        "importlib.reload = lambda module: module\n"
        "def patched_reload():\n    return 1.0",
        0,
    ),
    "settrace": (
        "import sys, types, numpy\n"
        "_quiet = types.SimpleNamespace(**vars(numpy))\n"
        "_quiet.allclose = lambda *args, **kwargs: True\n"
        "def _tracer(frame, event, arg):\n"
        "    if event == 'call' and frame.f_code.co_filename.endswith('checks.py'):\n"
        "        frame.f_globals.update(np=_quiet)\n"
        "sys.settrace(_tracer)\n"
        "def settrace():\n    return 1.0",
        0,
    ),
    "custom_exception_handler": (
        "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: [])\n"
        "import sys\nsys.excepthook = lambda *args: None\n"
        "def custom_exception_handler():\n    return 1.0",
        0,
    ),
    "patched_numpy": (
        "import numpy\nnumpy.allclose = lambda *args, **kwargs: True\ndef patched_numpy():\n    return 1.0",
        0,
    ),
    "patched_builtins": (
        # its test calls abs() itself
        "import builtins\nbuiltins.abs = lambda value: 0.0\ndef patched_builtins():\n    return 1.0",
        0,
        'assert abs(patched_builtins() - 2.0) < 1e-9, "patched_builtins() should be 2"\nprint("checked")',
    ),
    "replaced_print_and_stdout": (
        # A correct answer: a replaced print and sys.stdout must neither hide nor forge the grader's line.
        "import builtins, io, sys\nbuiltins.print = lambda *args, **kwargs: None\nsys.stdout = io.StringIO()\n"
        "def replaced_print_and_stdout():\n    return 2.0",
        1,
    ),
    "exit_in_the_test": (
        "import sys\ndef exit_in_the_test():\n    sys.exit(0)",
        0,
    ),
    "transformer_on_tests_correct": (
        # A hook that blanks test cells (not the grader's reset): gone before the test, a correct answer passes.
        "def _blank(lines):\n    return [] if any('checks' in line for line in lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_blank)\n"
        "def transformer_on_tests_correct():\n    return 2.0",
        1,
    ),
    "transformer_on_tests": (
        "def _blank(lines):\n    return [] if any('checks' in line for line in lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_blank)\n"
        "get_ipython().ast_transformers.append(__import__('ast').NodeTransformer())\n"
        "def transformer_on_tests():\n    return 1.0",
        0,
    ),
    "stderr_debug": (
        "import sys\ndef stderr_debug():\n    print('debug: computing', file=sys.stderr)\n    return 2.0",
        1,
    ),
    "huge_output": ("def huge_output():\n    print('x' * 3_000_000)\n    return 2.0", 1),
    # Last: it would take every later cell, and prints a guessed token (32 hex digits, as the grader's
    # would be). The grader's reset runs outside the input transformers, removes it, and the test runs.
    "forged_token": (
        "import secrets\n"
        "def _forge(lines):\n    return [f'print({secrets.token_hex(16)!r})\\n']\n"
        "get_ipython().input_transformers_cleanup.append(_forge)\n"
        "def forged_token():\n    return 1.0",
        0,
    ),
}


def _test_cell(name):
    cell = nbformat.v4.new_code_cell((CASES[name][2:] or [TEST.format(name=name)])[0])
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": f"test_{name}",
        "points": 1,
        "schema_version": 3,
    }
    return cell


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(tests by name, the executed notebook, the executor): one kernel, every case in order."""
    from grading.course import isolated_env

    home = tmp_path_factory.mktemp("containment")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for name, (answer, *_) in CASES.items():
        nb.cells += [nbformat.v4.new_code_cell(answer), _test_cell(name)]
    env = isolated_env(home)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        executor = GuardedExecute(timeout=60, notebook_timeout=300, output_bytes=100_000)
        nb, resources = executor.preprocess(nb, {"metadata": {"path": str(home)}})
    for index, cell in enumerate(nb.cells):
        StderrIsNotAVerdict().preprocess_cell(cell, resources, index)
    tests = {c.metadata["nbgrader"]["grade_id"][len("test_") :]: c for c in nb.cells if "nbgrader" in c.metadata}
    return tests, nb, executor


@pytest.mark.parametrize("name", list(CASES))
def test_each_trick_scores_what_its_answer_deserves(graded, name):
    tests, _, _ = graded
    cell = tests[name]
    score, _ = determine_grade(cell)
    assert score == CASES[name][1], f"{name}: scored {score}, expected {CASES[name][1]}; outputs {cell.outputs}"


def test_tokens_and_grader_line_are_not_saved(graded):
    tests, nb, executor = graded
    text = json.dumps(nb)
    for secret in (executor._reset_token, executor._end_token, executor._guard):
        assert secret not in text
    assert tests["honest"].source == TEST.format(name="honest")
    assert tests["honest"].outputs[-1].text == "honest checked\n", tests["honest"].outputs


def test_stderr_is_shown_not_scored(graded):
    tests, _, _ = graded
    texts = [o.get("text", "") for o in tests["stderr_debug"].outputs]
    assert "[stderr] debug: computing\n" in texts, texts
    # Control: the same cell with the stderr output nbgrader saw scores 0 without the preprocessor.
    raw = nbformat.from_dict(json.loads(json.dumps(tests["stderr_debug"])))
    for output in raw.outputs:
        if output.get("text", "").startswith("[stderr] "):
            output["name"], output["text"] = "stderr", output["text"][len("[stderr] ") :]
    assert determine_grade(raw)[0] == 0


def test_huge_output_is_cut_as_it_arrives(graded):
    tests, _, _ = graded
    outputs = tests["huge_output"].outputs
    size = sum(len(json.dumps(o)) for o in outputs)
    assert size < 110_000, size
    assert "bytes of output cut" in outputs[-1].text, outputs[-1]


def test_one_50_mb_line_is_cut_in_bytes():
    """BoundedOutput (autograde and feedback): one 50 MB line, which nbgrader's LimitOutput keeps whole."""
    nb = nbformat.v4.new_notebook()
    line = "y" * 50_000_000
    nb.cells = [nbformat.v4.new_code_cell("print(...)") for _ in range(3)]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=line + "\n")]
    for cell in nb.cells[1:]:  # together past the notebook's bound
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="z" * 40_000 + "\n")]
    nb, _ = BoundedOutput(cell_bytes=100_000, notebook_bytes=150_000).preprocess(nb, {})
    sizes = [sum(len(json.dumps(o).encode()) for o in c.outputs) for c in nb.cells]
    assert sizes[0] <= 100_500 and sum(sizes) <= 151_500, sizes
    assert "49900" in nb.cells[0].outputs[-1].text and "bytes of output cut" in nb.cells[0].outputs[-1].text
    assert len(nb.cells[1].outputs) == 1 and "bytes of output cut" in nb.cells[2].outputs[-1].text, sizes
    # Small outputs are untouched.
    small = nbformat.v4.new_notebook()
    small.cells = [nbformat.v4.new_code_cell("1")]
    small.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="fine\n")]
    assert bound_outputs(small, 100, 1000) == 0 and small.cells[0].outputs[0].text == "fine\n"


# ------------------------------------------------------------------ collect: no student merged or dropped


def test_collect_keeps_every_student(tmp_path, monkeypatch):
    """collect --zip: accents, combining accents (macOS), Chinese names, names without letters, collisions."""
    import argparse
    import unicodedata
    import zipfile

    from grading import collect, settings

    monkeypatch.setenv("DGM_GRADING_DIR", str(tmp_path / "grading"))
    nfd = unicodedata.normalize("NFD", "José")
    members = {
        "José/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        "Josè/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        f"{nfd}/lab02_kl.ipynb": (2026, 1, 2, 10, 0, 0),  # the same José, saved later on a Mac
        "汉字/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        "!!!/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        "Ann Lee/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        "Ann_Lee/lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
        "Ann Lee/notes.txt": (2026, 1, 1, 10, 0, 0),
        "__MACOSX/José/._lab02_kl.ipynb": (2026, 1, 1, 10, 0, 0),
    }
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for member, stamp in members.items():
            handle.writestr(zipfile.ZipInfo(member, stamp), member)
    args = argparse.Namespace(lab="lab02_kl", exchange=False, zip=str(archive), id_rule=settings.ID_RULE)
    assert collect.run(args) == 0
    submitted = tmp_path / "grading" / "submitted"
    got = {p.name: (p / "lab02_kl" / "lab02_kl.ipynb").read_text() for p in submitted.iterdir()}
    bang = f"student-{collect.hashed('!!!')}"
    second = f"Ann_Lee-{collect.hashed('Ann_Lee')}"
    assert got == {
        "José": f"{nfd}/lab02_kl.ipynb",  # the newer of José's two files
        "Josè": "Josè/lab02_kl.ipynb",
        "汉字": "汉字/lab02_kl.ipynb",
        bang: "!!!/lab02_kl.ipynb",
        "Ann_Lee": "Ann Lee/lab02_kl.ipynb",
        second: "Ann_Lee/lab02_kl.ipynb",
    }, got
    manifest = json.loads((tmp_path / "grading" / "problems" / "lab02_kl.collected.json").read_text())
    assert set(manifest) == set(members), manifest
    assert manifest["José/lab02_kl.ipynb"].startswith("not graded: ") and "newer" in manifest["José/lab02_kl.ipynb"]
    assert manifest["Ann Lee/notes.txt"] == "skipped: not a .ipynb file"
    problems = json.loads((tmp_path / "grading" / "problems" / "lab02_kl.json").read_text())
    said = " | ".join(p["problem"] for p in problems["?"])
    assert "'Ann Lee' and 'Ann_Lee' both map to the id 'Ann_Lee'" in said and "'!!!' has no letter" in said, said


# ---------------------------------------------------------------- report: sentences and gradebook scores


def test_report_says_the_gradebooks_score_after_a_stopped_grading(tmp_path, monkeypatch):
    """A grading stopped by a time limit after every test passed: the report says full marks, not 'scored 0'."""
    from nbgrader.api import Gradebook

    from grading import report, settings
    from grading.problems import Problems

    monkeypatch.setenv("DGM_GRADING_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", settings.tool_env()["PATH"])  # the gradebook runs `alembic`
    with Gradebook(settings.gradebook_url()) as gb:
        gb.add_assignment("lab02_kl")
        gb.add_notebook("lab02_kl", "lab02_kl")
        gb.add_grade_cell("test_kl", "lab02_kl", "lab02_kl", max_score=3, cell_type="code")
        gb.add_student("late")
        submission = gb.add_submission("lab02_kl", "late")
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 3
                grade.needs_manual_grade = False
        gb.db.commit()
    problems = Problems("lab02_kl")
    problems.add("late", "autograde", "grading stopped at the per-submission limit (40 s); scored 0 where not graded")
    problems.save()
    text = report.class_report("lab02_kl")
    assert "late                     3/3" in text, text
    assert "scored 3/3 on the cells graded before it stopped" in text and "scored 0" not in text, text


def test_check_names_answers_that_reach_for_the_kernel():
    """grading/check.py tells the instructor about an answer that touches the kernel's machinery."""
    from grading.check import kernel_tools

    flagged = {"patched_reload", "settrace", "custom_exception_handler", "patched_builtins", "forged_token"}
    flagged |= {"transformer_on_tests", "transformer_on_tests_correct", "replaced_print_and_stdout"}
    nb = nbformat.v4.new_notebook()
    for name, (answer, *_) in CASES.items():
        nb.cells.append(nbformat.v4.new_code_cell(answer))
        nb.cells[-1].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": name}
    said = {line.split()[1] for line in kernel_tools(nb)}
    # patched_numpy rebinds numpy.allclose: ordinary-looking code the grader undoes, not flagged.
    assert said == flagged, said ^ flagged
