"""Wrong-answer catalogues: for each lab, plausible wrong implementations that must lose points, and
correct alternatives that must keep them. The round-trip test submits them through real nbgrader.

Each lab's module defines ``ASSIGNMENT``, ``TESTS`` (answer cell -> its test cell), ``WRONG`` and
``CORRECT`` (answer cell -> {description: code}). Each code replaces the whole answer cell. Where the
mistake is a small change, write it as an edit of the solution, so that it follows the solution when
that changes::

    edit = Edits(ASSIGNMENT)
    WRONG = {"kl_laplace": {"missing the -1 term": edit("kl_laplace", {" - 1.0 + ": " + "})}}

Full code is for wrong answers that are structurally different from the solution.
"""

from __future__ import annotations

import re
from pathlib import Path

from grading import markers

SOURCES = Path(__file__).resolve().parents[2] / "source" / "labs"


def solution(assignment: str, name: str) -> str:
    """The answer cell ``name`` of a lab as a student who solved it leaves it (solution markers removed)."""
    cells = markers.cells((SOURCES / f"{assignment}.py").read_text(), f"{assignment}.py")
    if f"solution {name}" not in cells:
        known = sorted(key.split(" ", 1)[1] for key in cells if key.startswith("solution "))
        raise KeyError(f"{assignment} has no answer cell {name!r}; it has {known}")
    lines = cells[f"solution {name}"].splitlines()
    return "\n".join(ln for ln in lines if not re.match(r"\s*#+ *(BEGIN|END) SOLUTION", ln)) + "\n"


class Edits:
    """``edit(name, {old: new, ...})``: the solution of answer cell ``name`` with each ``old`` replaced."""

    def __init__(self, assignment: str):
        self.assignment = assignment

    def __call__(self, name: str, changes: dict[str, str], every: bool = False) -> str:
        code = solution(self.assignment, name)
        for old, new in changes.items():
            count = code.count(old)
            if count == 0:
                raise ValueError(
                    f"{self.assignment}:{name}: {old!r} is not in the solution; the edit no longer "
                    f"applies (the solution changed?):\n{code}"
                )
            if count > 1 and not every:
                raise ValueError(
                    f"{self.assignment}:{name}: {old!r} occurs {count} times in the solution: "
                    "quote more of the line, or pass every=True"
                )
            code = code.replace(old, new)
        return code
