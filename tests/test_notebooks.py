"""Notebooks: generated files match their sources, lectures run, solutions pass, labs fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grading.course import ROOT, isolated_env
from tools import site

BIN = Path(sys.executable).parent
LECTURES = sorted((ROOT / "lectures").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
LABS = sorted((ROOT / "labs").glob("*/*.ipynb"))
FULL_IN_CI_NAMES = {"01_graphical_models", "02_kl_divergence", "03_elbo", "04_cavi_gmm"}


def test_there_is_something_to_test():
    assert LECTURES and SOLUTIONS and LABS
    assert [p.parent.name for p in SOLUTIONS] == [p.parent.name for p in LABS], "every solution has its lab"


def test_generated_files_match_their_sources():
    """`make notebooks` output is committed as is: notebooks from twins, labs from solutions, no outputs."""
    result = subprocess.run([sys.executable, "tools/build.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_setup_cell_is_identical_everywhere():
    sources = set()
    for path in LECTURES + SOLUTIONS + LABS:
        cells = [c for c in nbformat.read(path, as_version=4).cells if "setup" in c.metadata.get("tags", [])]
        assert len(cells) == 1, f"{path.name}: expected one setup cell, found {len(cells)}"
        sources.add(cells[0].source)
    assert len(sources) == 1


def test_ruff_passes_on_package_tests_and_notebooks():
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([str(BIN / "ruff"), *command], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def _labs_hold_no_solutions():
    for path in LABS:
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path}: contains {marker}"


def test_labs_hold_no_solutions_or_hidden_tests():
    _labs_hold_no_solutions()
    for path in LABS:
        assert not list(path.parent.glob("*.py")), f"{path.parent}: a text twin (with solutions) was released"


# FULL is what students run by default. The lectures whose FULL run takes at most 2 minutes on two CPU
# cores run it here too: 18-43 s each on 2026-12-02, with another notebook running beside them (BENCHMARK.md,
# "FULL mode, every lecture"). Lectures 05 and 06 train for an hour in FULL; `tools/bench.py --full` runs them.
FULL_IN_CI = [p for p in LECTURES if p.stem in FULL_IN_CI_NAMES]


def _execute(path: Path, env: dict[str, str]):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: {output.ename}: {output.evalue}"
            if output.output_type == "stream" and output.name == "stderr":
                pytest.fail(f"{path.name} wrote to stderr: {output.text[:500]}")
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_lecture_runs_top_to_bottom_in_fast_mode(path, tmp_path):
    nb = _execute(path, {**isolated_env(tmp_path), "DGM_MODE": "fast"})
    site.save_executed(path, nb)  # the course website shows this run (`make site`, tools/site.py)


@pytest.mark.slow
@pytest.mark.parametrize("path", FULL_IN_CI, ids=lambda p: p.stem)
def test_lecture_runs_top_to_bottom_in_full_mode(path, tmp_path):
    _execute(path, {**isolated_env(tmp_path), "DGM_MODE": "full"})


def _validate(path: Path, tmp_path: Path, *flags: str) -> str:
    env = isolated_env(tmp_path)
    env["DGM_GRADING_DIR"] = str(tmp_path / "dgm-grading")
    result = subprocess.run(
        [str(BIN / "nbgrader"), "validate", *flags, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_passes_nbgrader_validate(path, tmp_path):
    out = _validate(path, tmp_path)
    assert "Success! Your notebook passes all the tests." in out, out[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_unfilled_lab_fails_every_test(path, tmp_path):
    out = _validate(path, tmp_path, "--invert")
    assert "Success! The notebook does not pass any tests." in out, out[-4000:]
