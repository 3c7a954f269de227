"""The course's source format: short cell markers in the text twins, expanded into notebook cells.

A text twin is a jupytext percent-format file (``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell). A few one-line markers say what a cell is for; the build expands them, so that no
source line carries nbgrader's JSON::

    # %% badge                       the Colab badge (generated)
    # %% setup                       the setup cell, the same in every notebook (generated)
    # %% intro                       "How this lab works" (generated, labs only)
    # %% locked imports              a read-only cell with this grade id
    # %% solution kl_gaussian        an answer cell: a function whose body lies between the solution markers
    # %% test kl_gaussian points=3   the test cell of that answer (grade id test_kl_gaussian)
    # %% test kl_gaussian:shapes points=1   one of several tests of that answer, one property each
                                     (grade id test_kl_gaussian_shapes): partial credit per property
    # %% written direction points=3  an answer graded by hand (markdown; grade id written_direction)

Test cells start with a generated preamble (``test_source``): they re-import what they use and
reload the course's checks, so that an answer cell that rebinds those names cannot change a verdict.
A test cell's own imports (its first lines) are merged into that preamble.
"""

from __future__ import annotations

import json
import re
import sys

import jupytext
import nbformat

TEXT_FORMAT = {"extension": ".py", "format_name": "percent", "notebook_metadata_filter": "-all"}
MARKER = re.compile(
    r"^# %% (badge|setup|intro|locked|solution|test|written)(?:\s+(\w+(?::\w+)?))?((?:\s+\w+=\S+)*)\s*$"
)
MARKDOWN = {"badge", "intro", "written"}

INTRO = """**How this lab works.** Each exercise is a function or class with a docstring that says what it
takes and returns. Replace the `raise NotImplementedError(...)` line with your code, then run the test
cell below it: the visible tests check a few known cases and explain what went wrong. When the lab is
graded, hidden tests also check random cases, edge cases and common mistakes, so make your code work
for *any* valid input, not just the visible cases. Each exercise is graded on its own: a test never
relies on your answer to another exercise. A *predict, then run* question asks for your prediction in a
variable: write it before you run the experiment below it, which then shows you the answer. Do not rename
anything, and do not delete or edit the test cells. Answers marked *graded by hand* are read by your
instructor."""

TEST_COMMENT = "# Tests of {name}: the visible ones; hidden ones also run when the lab is graded."
TEST_PROPERTY_COMMENT = "# Tests of {name}, {property}: the visible ones; hidden ones also run when the lab is graded."
TEST_IMPORTS = ["import importlib", "import numpy as np", "import dgm.checks"]
TEST_RELOAD = "checks = importlib.reload(dgm.checks)  # a fresh copy: an answer cell cannot have replaced it"


class MarkerError(ValueError):
    """A marker line that the build cannot read; the message says which line and what is expected."""


def nbgrader_metadata(kind: str, name: str, points: float | None = None) -> dict:
    """The nbgrader cell metadata (schema 3) that a marker stands for."""
    grade_id = {"test": f"test_{name}", "written": f"written_{name}"}.get(kind, name).replace(":", "_")
    meta = {
        "grade": kind in ("test", "written"),
        "grade_id": grade_id,
        "locked": kind in ("setup", "locked", "test"),
        "schema_version": 3,
        "solution": kind in ("solution", "written"),
        "task": False,
    }
    if meta["grade"]:
        meta["points"] = points
    return meta


def _parse(line: str, number: int, path: str) -> dict:
    match = MARKER.match(line)
    if not match:
        raise MarkerError(f"{path}:{number}: cannot read the marker {line!r}")
    kind, name, options = match.group(1), match.group(2), match.group(3)
    values = dict(option.split("=", 1) for option in options.split())
    if kind in ("locked", "solution", "test", "written") and not name:
        raise MarkerError(f"{path}:{number}: `# %% {kind}` needs a name, e.g. `# %% {kind} kl_gaussian`")
    if kind in ("test", "written"):
        if "points" not in values:
            raise MarkerError(f"{path}:{number}: `# %% {kind} {name}` needs points, e.g. points=3")
        values["points"] = float(values["points"])
        values["points"] = int(values["points"]) if values["points"].is_integer() else values["points"]
    return {"kind": kind, "name": name, **values}


def read(text: str, path: str = "<source>") -> nbformat.NotebookNode:
    """The notebook a twin describes, each marked cell carrying ``metadata['marker']``."""
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        word = re.match(r"^# %% ([a-z]\w*)(?=\s|$)", line)  # a marker, not `[markdown]` or `key=value`
        if word:
            marker = _parse(line, number, path)
            cell_type = "[markdown] " if marker["kind"] in MARKDOWN else ""
            line = f"# %% {cell_type}marker={json.dumps(marker)}"
        lines.append(line)
    return jupytext.reads("\n".join(lines) + "\n", fmt=TEXT_FORMAT)


def expand(nb: nbformat.NotebookNode, *, lab: bool, setup: str, badge: str) -> nbformat.NotebookNode:
    """Fill the generated cells and turn markers into tags and nbgrader metadata."""
    for cell in nb.cells:
        marker = cell.metadata.pop("marker", None)
        if marker is None:
            continue
        kind, name = marker["kind"], marker.get("name")
        if kind == "badge":
            cell.source = badge
            cell.metadata["tags"] = ["badge"]
        elif kind == "setup":
            cell.source = setup
            cell.metadata["tags"] = ["setup"]
            cell.metadata["jupyter"] = {"source_hidden": True}  # collapsed in JupyterLab: one click shows it
            if lab:
                cell.metadata["nbgrader"] = nbgrader_metadata("setup", "setup")
        elif kind == "intro":
            cell.source = INTRO
        elif kind == "test":
            cell.source = test_source(name, cell.source)
            cell.metadata["nbgrader"] = nbgrader_metadata(kind, name, marker["points"])
        elif kind == "written":
            cell.metadata["nbgrader"] = nbgrader_metadata(kind, name, marker["points"])
        else:
            cell.metadata["nbgrader"] = nbgrader_metadata(kind, name)
    return nb


def _import_block(lines: list[str]) -> str:
    """Import lines grouped and sorted as ruff's isort rule wants: standard library, others, the course."""
    groups: dict[int, set[str]] = {0: set(), 1: set(), 2: set()}
    for line in lines:
        top = line.split()[1].split(".")[0]
        groups[0 if top in sys.stdlib_module_names else 2 if top == "dgm" else 1].add(line)
    key = lambda line: (line.startswith("from "), line.split()[1].lower())  # noqa: E731
    return "\n\n".join("\n".join(sorted(group, key=key)) for group in groups.values() if group)


def test_source(name: str, body: str) -> str:
    """A test cell: the preamble, with the imports the body starts with merged into it, then the body."""
    lines = body.splitlines()
    extra = []
    while lines and (not lines[0].strip() or lines[0].startswith(("import ", "from "))):
        line = lines.pop(0)
        if line.strip():
            extra.append(line)
    imports = _import_block([*TEST_IMPORTS, *extra])
    rest = "\n".join(lines)
    answer, _, prop = name.partition(":")
    comment = TEST_PROPERTY_COMMENT.format(name=answer, property=prop) if prop else TEST_COMMENT.format(name=name)
    return f"{comment}\n{imports}\n\n{TEST_RELOAD}\n\n{rest}"


def cells(text: str, path: str = "<source>") -> dict[str, str]:
    """Source of each named cell of a twin, as written (solution markers kept), by its marker name."""
    out = {}
    for cell in read(text, path).cells:
        marker = cell.metadata.get("marker")
        if marker and marker.get("name"):
            out.setdefault(f"{marker['kind']} {marker['name']}", cell.source)
    return out
