"""Write the student edition: the course as students get it, without solutions or instructor tooling.

    python tools/edition.py              # make edition: into ../dgm-course-student (DGM_EDITION_DIR)
    python tools/edition.py --out DIR    # somewhere else

The edition is a folder ready to publish as its own git repository, at the address of the
``"Student edition"`` setting in ``pyproject.toml`` (the Colab badges and the setup cell point there).
It holds the lectures, the student labs (``labs/``, as ``nbgrader generate_assignment`` wrote them),
the helper package ``dgm``, the assets, and a README, a pyproject.toml and a Makefile for students.
It never holds ``solutions/``, ``source/`` (the twins carry solutions), hidden tests, the catalogues,
``grading/``, ``tools/`` or ``nbgrader_config.py``: only the folders in ``COPIED`` are copied, and the
finished folder is searched for nbgrader's markers and for every solution and hidden-test body of the
twins (``leaks``); if anything is found, the edition is emptied again and the command fails.

A rebuild replaces everything in the folder but its ``.git``, and only in a folder this command wrote
(it leaves a ``.dgm-edition`` file there): any other non-empty folder is refused, so nothing is lost.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import sys
from pathlib import Path

import tomllib

import build  # tools/build.py: the setup cell and the unit table come from the same functions
from grading import markers, settings

ROOT = settings.REPOSITORY_ROOT
COPIED = ("lectures", settings.LABS, "dgm", "assets")  # students get these folders as they are
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
STAMP = ".dgm-edition"  # marks a folder this tool wrote: only such a folder is ever emptied
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
BLOCKS = {
    "solution": re.compile(r"BEGIN SOLUTION[^\n]*\n(.*?)\n[^\n]*END SOLUTION", re.S),
    "hidden test": re.compile(r"BEGIN HIDDEN TESTS[^\n]*\n(.*?)\n[^\n]*END HIDDEN TESTS", re.S),
}
MIN_BODY = 12  # characters without whitespace: shorter bodies (`return x`) would match ordinary code


def _squeeze(text: str) -> str:
    """Text without any whitespace, so that re-indenting or re-wrapping a body does not hide it."""
    return re.sub(r"\s+", "", text)


@functools.cache  # the twins are read once per process (jupytext parsing is the slow part)
def secret_bodies(source: Path | None = None) -> dict[str, str]:
    """Every solution and hidden-test body of the lab twins: {"lab02_kl solution kl_gaussian": squeezed body}."""
    out = {}
    for twin in sorted((source or ROOT / settings.SOURCE / "labs").glob("*.py")):
        for name, cell in markers.cells(twin.read_text(), str(twin)).items():
            for kind, block in BLOCKS.items():
                for index, body in enumerate(block.findall(cell)):
                    if len(_squeeze(body)) >= MIN_BODY:
                        out[f"{twin.stem} {name}: {kind} {index + 1}"] = _squeeze(body)
    return out


def _readable_text(path: Path) -> str | None:
    """What a student can read in a file: a notebook's cell sources and outputs, any other text as is."""
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError):
        return None  # binary (the embedded data): no code in it
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        parts = ["".join(c.get("source", "")) for c in nb.get("cells", [])]
        parts += [json.dumps(c.get("outputs", [])) for c in nb.get("cells", [])]
        return "\n".join([*parts, text])
    return text


def leaks(folder: Path, source: Path | None = None) -> list[str]:
    """Every nbgrader marker and every solution or hidden-test body found in the files of ``folder``."""
    bodies = secret_bodies(source)
    if not bodies:
        raise SystemExit(f"No solution bodies found in {source or ROOT / settings.SOURCE / 'labs'}: nothing to check.")
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        text = _readable_text(path)
        if text is None:
            continue
        rel = path.relative_to(folder)
        found += [f"{rel}: holds the marker {m!r}" for m in MARKERS if m in text.upper()]
        squeezed = _squeeze(text)
        found += [f"{rel}: holds the body of {name}" for name, body in bodies.items() if body in squeezed]
    return found


def _stale_notebooks(url: str) -> list[str]:
    """Notebooks whose setup cell does not clone the edition at ``url`` (the build is older than the setting)."""
    want = build.setup_source(url)
    stale = []
    for path in sorted([*(ROOT / "lectures").glob("*.ipynb"), *(ROOT / settings.LABS).glob("*/*.ipynb")]):
        cells = [c for c in json.loads(path.read_text())["cells"] if "setup" in c["metadata"].get("tags", [])]
        if [("".join(c["source"])) for c in cells] != [want]:
            stale.append(str(path.relative_to(ROOT)))
    return stale


def _empty(out: Path) -> None:
    """Make ``out`` an empty folder (its .git kept), refusing any non-empty folder this tool did not write."""
    if out.exists() and any(out.iterdir()) and not (out / STAMP).is_file():
        raise SystemExit(
            f"{out} exists, is not empty and was not written by `make edition` (no {STAMP} file): refusing to "
            "replace it. Fix: choose another folder with DGM_EDITION_DIR=... or --out, or empty that one yourself."
        )
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def student_pyproject() -> str:
    """pyproject.toml for students: the helper package `dgm` only, the course's pins, no grading tooling."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    lab = [d for d in project["optional-dependencies"]["dev"] if re.match(r"(jupyterlab|ipykernel)\b", d)]
    listed = lambda items: "[\n" + "".join(f"    {json.dumps(item)},\n" for item in items) + "]"  # noqa: E731
    return f"""# The student edition of the course, written by `make edition` in the instructor's repository.
[build-system]
requires = ["setuptools>=64"]  # Colab's own setuptools installs it (--no-build-isolation)
build-backend = "setuptools.build_meta"

[project]
name = "dgm-course-student"
version = {json.dumps(project["version"])}
description = {json.dumps(project["description"].replace(", nbgrader labs", ", labs"))}
readme = "README.md"
requires-python = {json.dumps(project["requires-python"])}
# No `license` key: setuptools before 77 wants a table there, later ones a string ({project["license"]}).
# Colab installs the helper with --no-deps and keeps its own TensorFlow.
dependencies = {listed(project["dependencies"])}

[project.optional-dependencies]
lab = {listed(lab)}
gpu = {listed(project["optional-dependencies"]["gpu"])}

[project.urls]
Repository = {json.dumps(settings.student_edition_url())}

[tool.setuptools]
packages = ["dgm"]
"""


STUDENT_MAKEFILE = """# `make lab`: create .venv (first time: a few minutes), then open the course in JupyterLab.
PYTHON ?= python3
VENV   := .venv
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab
lab: $(VENV)/.installed
\t@# jupyter_config/settings: no news pop-up or update check; Markdown opens rendered (README.md lands first).
\t$(VENV)/bin/jupyter lab $(ROOT_FLAG) --LabApp.app_settings_dir=$(CURDIR)/jupyter_config/settings README.md

$(VENV)/.installed: pyproject.toml
\ttest -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
\t$(VENV)/bin/python -m pip install --quiet -e ".[lab]"
\ttouch $@
"""

STUDENT_GITIGNORE = ".venv/\n__pycache__/\n*.pyc\n.ipynb_checkpoints/\n*.egg-info/\n"


def student_readme(url: str) -> str:
    template = (Path(__file__).with_name("edition_readme.md")).read_text()
    return build.with_unit_table(template, url)


def write(out: Path) -> list[str]:
    """Write the edition into ``out``; returns the files written (relative), or fails with what to fix."""
    url = settings.student_edition_url()
    stale = _stale_notebooks(url)
    if stale:
        raise SystemExit(
            f"These notebooks do not point at the student edition {url}:\n  "
            + "\n  ".join(stale)
            + "\nFix: run `make notebooks` (and commit), then `make edition` again."
        )
    _empty(out)
    for folder in COPIED:
        shutil.copytree(ROOT / folder, out / folder, ignore=IGNORED)
    # The quiet JupyterLab settings of the instructor's `make lab` (the edition has no nbgrader to switch off).
    shutil.copytree(ROOT / "jupyter_config" / "settings", out / "jupyter_config" / "settings")
    (out / "README.md").write_text(student_readme(url))
    (out / "pyproject.toml").write_text(student_pyproject())
    (out / "Makefile").write_text(STUDENT_MAKEFILE)
    (out / ".gitignore").write_text(STUDENT_GITIGNORE)
    (out / STAMP).write_text(f"Written by `make edition` from the instructor's repository; published at {url}.\n")
    found = leaks(out)
    if found:
        _empty(out)
        raise SystemExit("The edition would leak answers, so it was emptied again:\n  " + "\n  ".join(found))
    files = (p.relative_to(out) for p in out.rglob("*") if p.is_file())
    return sorted(p.as_posix() for p in files if ".git" not in p.parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=settings.edition_dir(), help="the edition's folder")
    args = parser.parse_args()
    files = write(args.out.resolve())
    url = settings.student_edition_url()
    print(
        f"Student edition: {len(files)} files in {args.out.resolve()}, checked: no solution, no hidden test.\n"
        f"Publish it at {url} (the address the Colab badges and the setup cell use), e.g.\n"
        f"  cd {args.out.resolve()} && git init -b main && git add -A && git commit -m 'Student edition' "
        f"&& git remote add origin {url}.git && git push -u origin main"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
