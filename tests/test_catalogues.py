"""The wrong-answer catalogues are well formed: a wrong entry that does not even compile, or defines
another function, would "lose points" for the wrong reason and prove nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from grading.course import ROOT, catalogue, grade_id, grading_cells

ASSIGNMENTS = sorted(p.stem for p in (Path(__file__).parent / "catalogue").glob("lab*.py"))


def _entries():
    for assignment in ASSIGNMENTS:
        cat = catalogue(assignment)
        for kind in ("WRONG", "CORRECT"):
            for exercise, variants in getattr(cat, kind).items():
                for name, code in variants.items():
                    yield pytest.param(assignment, exercise, code, id=f"{assignment}:{kind.lower()}:{exercise}:{name}")


@pytest.mark.parametrize("assignment,exercise,code", list(_entries()))
def test_entry_compiles_and_defines_its_function(assignment, exercise, code):
    tree = ast.parse(code)
    # A function, a class, a method of a class (e.g. a model's train_step), or for a "predict, then
    # run" question the variable holding the prediction, named like its cell.
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {
        item.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef)
    }
    defined |= {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert exercise in defined, f"the entry for {exercise} defines {sorted(defined)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalogue_matches_the_lab(assignment):
    cat = catalogue(assignment)
    (path,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    cells = {grade_id(c): c for c in nbformat.read(path, as_version=4).cells if grade_id(c)}
    assert cat.ASSIGNMENT == assignment
    for exercise in cat.TESTS:
        assert cells[exercise].metadata["nbgrader"]["solution"], f"{exercise} is not a solution cell"
        for test in grading_cells(cat, exercise):
            assert cells[test].metadata["nbgrader"]["grade"], f"{test} is not a graded test cell"
    assert set(cat.WRONG) <= set(cat.TESTS) and set(cat.CORRECT) <= set(cat.TESTS)
    assert sum(len(v) for v in cat.WRONG.values()) >= 8, "a catalogue needs at least 8 wrong answers"
    # Transfer: where a lecture has a version to paste, that version must be a wrong answer (docs/design.md).
    pasted = [name for variants in cat.WRONG.values() for name in variants if name.startswith("pasted the lecture")]
    assert len(pasted) >= 2, f"{assignment}: expected 'pasted the lecture's version: ...' wrong answers, got {pasted}"
