"""The student edition (`make edition`, tools/edition.py): what students get, and nothing that gives answers away.

The edition is written once per module into a temporary folder (copying files: about a second). The leak
search is proved on planted leaks (a solution notebook, a re-indented solution body, a hidden test), so
that a search that finds nothing means something.
"""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import tomllib

from grading import markers, settings

ROOT = settings.REPOSITORY_ROOT
sys.path.insert(0, str(ROOT / "tools"))
import edition  # noqa: E402

import build  # noqa: E402

pytestmark = pytest.mark.xdist_group("edition")
URL = settings.student_edition_url()


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition") / "dgm-course-student"
    edition.write(out)
    return out


def test_edition_holds_what_students_use_and_nothing_else(student):
    top = {p.name for p in student.iterdir()}
    assert top == {"lectures", "labs", "dgm", "assets", "README.md", "pyproject.toml", "Makefile", ".gitignore",
                   "jupyter_config", edition.STAMP}, f"unexpected top level of the edition: {sorted(top)}"  # fmt: skip
    for folder in ("lectures", "labs", "dgm", "assets"):
        want = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()}
        want = {n for n in want if "__pycache__" not in n and ".ipynb_checkpoints" not in n and not n.endswith(".pyc")}
        have = {p.relative_to(student).as_posix() for p in (student / folder).rglob("*") if p.is_file()}
        assert have == want, f"{folder}/: missing {sorted(want - have)}, extra {sorted(have - want)}"
    assert not list(student.rglob("*.py")) or all(p.parts[-2] == "dgm" for p in student.rglob("*.py")), (
        "only the helper package has Python files (a twin in source/ holds solutions)"
    )


def test_edition_has_no_solution_marker_or_body(student):
    """Every file searched for nbgrader's markers and for every solution and hidden-test body of the twins."""
    bodies = edition.secret_bodies()
    names = {name.split(":")[0] for name in bodies}
    for twin in (ROOT / settings.SOURCE / "labs").glob("*.py"):  # every graded answer of every lab is searched for
        answers = [n for n in markers.cells(twin.read_text()) if n.startswith(("solution ", "written "))]
        assert answers and all(f"{twin.stem} {a}" in names for a in answers), f"{twin.stem}: not all answers searched"
    assert any(": hidden test" in name for name in bodies), "hidden tests are searched for too"
    assert edition.leaks(student) == []


def test_leak_search_finds_planted_leaks(student, tmp_path):
    """A copied solution notebook, a re-indented solution body and a hidden test in a notebook are all found."""
    planted = tmp_path / "planted"
    shutil.copytree(student, planted)
    shutil.copy(ROOT / settings.SOLUTIONS / "lab02_kl" / "lab02_kl.ipynb", planted / "labs" / "answers.ipynb")
    twin = (ROOT / settings.SOURCE / "labs" / "lab02_kl.py").read_text()
    body = edition.BLOCKS["solution"].findall(markers.cells(twin)["solution kl_mvn"])[0]
    reindented = "\n".join("        " + re.sub(r" +", "  ", line) for line in body.splitlines())
    (planted / "dgm" / "notes.py").write_text(f"def helper():\n{reindented}\n")
    hidden = next(b for c in markers.cells(twin).values() for b in edition.BLOCKS["hidden test"].findall(c))
    lab = planted / "labs" / "lab02_kl" / "lab02_kl.ipynb"
    nb = json.loads(lab.read_text())
    nb["cells"][-1]["source"] = hidden
    lab.write_text(json.dumps(nb))
    found = edition.leaks(planted)
    assert any(f.startswith("labs/answers.ipynb: holds the marker") for f in found), found
    assert any(f.startswith("dgm/notes.py: holds the body of lab02_kl solution kl_mvn") for f in found), found
    assert any(f.startswith("labs/lab02_kl/lab02_kl.ipynb: holds the body of lab02_kl") for f in found), found


def test_edition_points_at_its_own_address(student):
    setup = build.setup_source(URL)
    for path in [*(student / "lectures").glob("*.ipynb"), *(student / "labs").glob("*/*.ipynb")]:
        cells = json.loads(path.read_text())["cells"]
        tagged = {tag: "".join(c["source"]) for c in cells for tag in c["metadata"].get("tags", [])}
        assert tagged.get("setup") == setup, f"{path.name}: the setup cell does not clone {URL}"
        assert f"({build.colab_url(URL, path.relative_to(student).as_posix())})" in tagged.get("badge", ""), path.name
    readme = (student / "README.md").read_text()
    assert build.unit_table(URL) in readme and "make release" not in readme and "solutions/" not in readme
    project = tomllib.loads((student / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"] == ["dgm"], "students get the helper package only"
    assert not any("nbgrader" in d for d in json.dumps(project["project"]))
    assert (
        project["project"]["dependencies"]
        == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ), "the student edition installs the course's pins"


def test_rebuild_keeps_git_and_refuses_a_foreign_folder(student, tmp_path):
    (student / ".git").mkdir(exist_ok=True)
    (student / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (student / "stray.txt").write_text("left from an older edition")
    edition.write(student)
    assert (student / ".git" / "HEAD").is_file() and not (student / "stray.txt").exists()
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    with pytest.raises(SystemExit, match="was not written by `make edition`"):
        edition.write(foreign)
    assert (foreign / "chapter1.tex").read_text() == "precious", "nothing is lost"


def test_readme_unit_table_is_generated_from_the_one_setting():
    readme = (ROOT / "README.md").read_text()
    assert build.with_unit_table(readme, URL) == readme, "README's unit table is stale: run `make notebooks`"
    table = build.unit_table(URL)
    lectures = sorted((ROOT / settings.SOURCE / "lectures").glob("*.py"))
    assert len(re.findall(r"^\| \d\d \|", table, re.M)) == len(lectures)
    for lecture in lectures:
        assert build.colab_url(URL, f"lectures/{lecture.stem}.ipynb") in table
    other = build.unit_table("https://github.com/someone/elsewhere")
    assert "someone/elsewhere/blob/main/labs/lab02_kl/lab02_kl.ipynb" in other and URL.split("/")[-1] not in other
