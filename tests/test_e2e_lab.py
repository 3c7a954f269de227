"""JupyterLab end to end in a real browser (Playwright over Debian's Chromium, never a downloaded one).

Two real `jupyter lab` servers on loopback, as `make lab` and `make lab-instructor` start them, on a
temporary copy of the course. A student opens the unfilled lab 02, runs all, types a wrong answer and
reads the short hint, types the solution and sees its test pass, and presses nbgrader's Validate; the
student view has no instructor tools and no news pop-up. An instructor opens the formgrader from the
Nbgrader menu and sees the lab, on a server started WITHOUT the venv's bin on PATH (the alembic trap).
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import start_jupyter_lab

from tests.test_browser import CHROMIUM, FLAGS, needs_browser

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jupyterlab"), needs_browser]

ROOT = Path(__file__).resolve().parent.parent
LAB = "lab02_kl"
NOTEBOOK = f"labs/{LAB}/{LAB}.ipynb"
TIMEOUT_MS = 240_000  # generous: two servers, a kernel and Chromium share two CPU cores with other tests


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """{"student": (base, token), "instructor": (base, token)} on one temporary copy of the course."""
    tmp = tmp_path_factory.mktemp("e2e")
    course = tmp / "course"
    for folder in ("labs", "solutions", "jupyter_config"):
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("README.md", "nbgrader_config.py"):
        shutil.copy(ROOT / name, course / name)
    (tmp / "grading").mkdir()
    config = course / "jupyter_config"
    venv_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    started = {
        "student": start_jupyter_lab(
            tmp_path_factory.mktemp("student"),
            tmp / "student.log",
            course,
            JUPYTER_CONFIG_PATH=f"{config / 'student'}:{config}",
            DGM_GRADING_DIR=str(tmp / "grading"),
            PATH=venv_path,
        ),
        # No venv bin on PATH: the formgrader must still find alembic (nbgrader_config.py).
        "instructor": start_jupyter_lab(
            tmp_path_factory.mktemp("instructor"),
            tmp / "instructor.log",
            course,
            JUPYTER_CONFIG_PATH=str(config),
            DGM_GRADING_DIR=str(tmp / "grading"),
            PATH="/usr/bin:/bin",
        ),
    }
    try:
        yield {role: (base, token) for role, (_, base, token) in started.items()}
    finally:
        for proc, _, _ in started.values():
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras: `make env`")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _answer(grade_id: str, wrong: bool = False) -> str:
    """The solution of one exercise as a student would type it; ``wrong``: the same with the arguments swapped."""
    from grading.course import grade_id as cell_id
    from grading.course import solution_code

    solutions = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    code = next(solution_code(cell) for cell in solutions.cells if cell_id(cell) == grade_id)
    if wrong:
        swapped = f"def {grade_id}(logits_p, logits_q):\n    return _right(logits_q, logits_p)\n"
        code += f"\n\n\n_right = {grade_id}\n\n\n{swapped}"
    return code


def _cell(page, grade_id: str):
    """A cell of the open notebook by its nbgrader id (its index in the generated lab)."""
    lab = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    index = next(i for i, cell in enumerate(lab.cells) if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def _type_into(page, cell, code: str):
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)  # as a paste: no auto-indent or bracket closing on the way


def _run_all(page):
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def test_student_runs_fills_and_validates_a_lab(servers, browser):
    base, token = servers["student"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()

    page.locator(".jp-NotebookPanel:visible .jp-RenderedMarkdown h1", has_text="Lab 02 — The KL divergence").wait_for()
    test_cell, answer_cell = _cell(page, "test_kl_bernoulli"), _cell(page, "kl_bernoulli")
    _run_all(page)
    # "attached", not "visible": JupyterLab does not lay out cells scrolled out of view (content-visibility).
    test_cell.locator(".jp-OutputArea-output", has_text="Not answered yet").wait_for(state="attached")

    # A wrong answer: the check's message is the output, short, without frames of dgm/checks.py.
    _type_into(page, answer_cell, _answer("kl_bernoulli", wrong=True))
    _run_all(page)
    error = test_cell.locator(".jp-OutputArea-output", has_text="Hint: that is KL(q || p)")
    error.wait_for(state="attached")
    text = error.text_content()  # not inner_text: an off-screen cell is not laid out (content-visibility)
    assert "CheckFailure" in text and "checks.py" not in text and len(text.strip().splitlines()) <= 4, text

    # The solution: its test passes, and Run All goes on to the next (unanswered) exercise.
    _type_into(page, answer_cell, _answer("kl_bernoulli"))
    _run_all(page)
    _cell(page, "test_kl_laplace").locator(".jp-OutputArea-output", has_text="Not answered yet").wait_for(
        state="attached"
    )
    assert test_cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    # nbgrader's Validate runs the whole lab and says what still fails.
    page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_text("Validate", exact=True).click()
    verdict = page.locator(".jp-Dialog-content")
    verdict.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('.jp-Dialog-content').innerText.includes('Validating')", timeout=TIMEOUT_MS
    )
    text = verdict.text_content()
    assert "Not answered yet" in text and "kl_laplace" in text, f"unexpected Validate verdict: {text[:2000]}"
    assert "test_kl_bernoulli" not in text, f"Validate still reports the answered exercise: {text[:2000]}"
    page.keyboard.press("Escape")

    # The student view: no instructor tools, no news pop-up.
    assert page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").count() == 0
    assert page.locator("[title='Nbgrader Create Assignment']").count() == 0
    assert "Jupyter news" not in page.locator("body").inner_text()
    page.close()


def test_student_view_has_no_formgrader(servers):
    base, token = servers["student"]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{base}/formgrader/api/assignments?token={token}", timeout=30)
    assert info.value.code == 404


def test_instructor_opens_the_formgrader_and_sees_the_lab(servers, browser):
    base, token = servers["instructor"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/lab?token={token}")
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    formgrader = page.frame_locator("iframe").first
    formgrader.locator("td", has_text=LAB).first.wait_for()
    assert "Jupyter news" not in page.locator("body").inner_text()
    page.close()
