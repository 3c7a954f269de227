"""The layout of a lab's data: released notebooks, who submitted, and the nbgrader metadata of a cell.

Submissions live in ``$DGM_GRADING_DIR/submitted/<student>/<lab>/``, as nbgrader expects.
"""

from __future__ import annotations

import nbformat

from grading import settings


def release_notebooks(lab: str) -> dict[str, nbformat.NotebookNode]:
    return {
        p.name: nbformat.read(p, as_version=4)
        for p in sorted((settings.course_root() / settings.LABS / lab).glob("*.ipynb"))
    }


def students(lab: str) -> list[str]:
    base = settings.grading_dir() / "submitted"
    return sorted(p.name for p in base.iterdir() if (p / lab).is_dir()) if base.is_dir() else []


def nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def gid(cell) -> str | None:
    return nbg(cell).get("grade_id")
