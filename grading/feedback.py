"""Step 5, feedback: one HTML page per student, without the hidden tests.

The scrubbing is done by the ``ScrubHiddenTests`` preprocessor that nbgrader_config.py registers, so
the plain ``nbgrader generate_feedback`` is just as safe. This step runs it, then reads every page
back and fails if any line of a hidden test (from the student's autograded notebook) is still shown.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from grading import settings
from grading.nbgrader_ext import hidden_lines


def html_text(path: Path) -> str:
    """The text of an HTML file as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def leaks(lab: str) -> list[Path]:
    """Feedback pages of this lab that show a line of the hidden tests.

    A line counts as hidden when it is in a hidden-test block of the student's autograded notebook
    and nowhere else in it (not in their answers, not in the visible tests).
    """
    grading = settings.grading_dir()
    out = []
    for page in sorted((grading / "feedback").glob(f"*/{lab}/*.html")):
        autograded = grading / "autograded" / page.parts[-3] / lab / page.with_suffix(".ipynb").name
        if autograded.exists():
            secret = hidden_lines(nbformat.read(autograded, as_version=4))
            if any(line in html_text(page) for line in secret):
                out.append(page)
    return out


def run(args) -> int:
    result = settings.nbgrader("generate_feedback", args.lab, "--force")
    print(result.stdout[-2000:] + result.stderr[-2000:])
    found = leaks(args.lab)
    for path in found:
        print(f"WARNING: {path} shows a hidden-test line")
    return result.returncode or bool(found)
