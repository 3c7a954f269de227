"""Step 5, feedback: one HTML page per student, without the hidden tests.

The scrubbing is done by the ``ScrubHiddenTests`` preprocessor that nbgrader_config.py registers, so
the plain ``nbgrader generate_feedback`` is just as safe. This step runs it, then reads every page
back and fails if any line of a hidden test (taken from the solutions) is still shown.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from grading import settings
from grading.nbgrader_ext import hidden_lines
from grading.submissions import release_notebooks


def secret_lines(lab: str) -> set[str]:
    """Lines of the lab's hidden tests (from the solutions) that no released cell shows."""
    visible = {ln.strip() for nb in release_notebooks(lab).values() for c in nb.cells for ln in c.source.splitlines()}
    out = set()
    for path in (settings.course_root() / settings.SOLUTIONS / lab).glob("*.ipynb"):
        out |= hidden_lines(nbformat.read(path, as_version=4))
    return {line for line in out if not any(line in seen for seen in visible)}


def html_text(path: Path) -> str:
    """The text of an HTML file as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def leaks(lab: str) -> list[Path]:
    """Feedback pages of this lab that show a hidden-test line."""
    secret = secret_lines(lab)
    pages = (settings.grading_dir() / "feedback").glob(f"*/{lab}/*.html")
    return [page for page in pages if any(line in html_text(page) for line in secret)]


def run(args) -> int:
    result = settings.nbgrader("generate_feedback", args.lab, "--force")
    print(result.stdout[-2000:] + result.stderr[-2000:])
    found = leaks(args.lab)
    for path in found:
        print(f"WARNING: {path} shows a hidden-test line")
    return result.returncode or bool(found)
