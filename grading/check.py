"""Step 3, check: repair what Colab and students break in a submitted notebook, and report the rest.

Each submitted notebook is worked on in place, the original kept in ``originals/``: names such as
"Copy of lab02_kl.ipynb" or "lab02_kl (1).ipynb" are normalised; an unreadable file is rejected
(scores 0); nbformat 4.0 notebooks get cell ids; graded cells whose nbgrader metadata is missing
(Colab, a retyped cell) get it back from the release, matched by ``def NAME(`` (answers), by source
similarity (tests and read-only cells) or by position (written answers); ``skip-execution`` tags are
removed; edited tests and points are reported (nbgrader restores them from the gradebook at
autograde), and so are deleted test cells (restored at autograde).
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import uuid
from pathlib import Path

import nbformat

from grading import settings
from grading.problems import Problems
from grading.submissions import gid, nbg, release_notebooks, students


def normalised(name: str) -> str:
    """'Copy of lab02_kl (1).ipynb' -> 'lab02_kl.ipynb'."""
    stem = name[: -len(".ipynb")] if name.endswith(".ipynb") else name
    stem = re.sub(r"^(Copy of |Copie de |Kopie von |Copia de )+", "", stem.strip())
    stem = re.sub(r"(\s*\(\d+\)|-checkpoint|\s+copy)+$", "", stem)
    return stem.strip() + ".ipynb"


def _function_name(source: str) -> str | None:
    match = re.search(r"^def (\w+)\(", source, re.M)
    return match.group(1) if match else None


def repair(nb, release, report) -> None:
    """Give back the nbgrader metadata of graded cells from the release; report what was done."""
    for cell in nb.cells:  # nbformat 4.0 (Colab) has no cell ids
        cell.setdefault("id", uuid.uuid4().hex[:12])
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    ids = [c["id"] for c in nb.cells]
    for cell in nb.cells:
        if ids.count(cell["id"]) > 1:
            cell["id"] = uuid.uuid4().hex[:12]
            ids.append(cell["id"])
    wanted = [c for c in release.cells if gid(c)]
    present = {gid(c) for c in nb.cells if gid(c)}
    free = [c for c in nb.cells if not gid(c)]
    restored, missing = [], []
    for ref in wanted:
        if gid(ref) in present:
            continue
        match, how = None, ""
        name = _function_name(ref.source) if nbg(ref).get("solution") and ref.cell_type == "code" else None
        if name:
            hits = [c for c in free if c.cell_type == "code" and re.search(rf"^def {name}\(", c.source, re.M)]
            match, how = (hits[-1], f"def {name}") if hits else (None, "")
        elif nbg(ref).get("locked"):
            scored = sorted(
                (difflib.SequenceMatcher(None, ref.source, c.source).ratio(), i, c)
                for i, c in enumerate(free)
                if c.cell_type == ref.cell_type
            )
            if scored and scored[-1][0] >= 0.6:
                match, how = scored[-1][2], "source"
        else:  # a written answer: the cell right after the release's preceding cell
            before = release.cells[release.cells.index(ref) - 1].source
            for prev, cell in zip(nb.cells, nb.cells[1:]):
                if cell in free and prev.source == before and cell.cell_type == ref.cell_type:
                    match, how = cell, "position"
        if match is None:
            missing.append(ref)
            continue
        match.metadata["nbgrader"] = json.loads(json.dumps(nbg(ref)))
        free.remove(match)
        restored.append(f"{gid(ref)} (by {how})")
    if restored:
        report(
            f"nbgrader metadata missing on {len(restored)} graded cell(s), restored from the release: "
            + ", ".join(restored)
        )
    for ref in missing:
        if nbg(ref).get("grade") and not nbg(ref).get("solution"):
            report(f"test cell {gid(ref)} deleted: restored from the gradebook at autograde")
        elif nbg(ref).get("solution"):
            report(f"answer cell {gid(ref)} missing and not found: graded as unanswered")
        else:
            report(f"read-only cell {gid(ref)} deleted: restored from the gradebook at autograde")
    by_id = {gid(c): c for c in wanted}
    for cell in nb.cells:
        ref = by_id.get(gid(cell))
        if ref is None:
            continue
        tags = cell.metadata.get("tags", [])
        if "skip-execution" in tags or "raises-exception" in tags:
            cell.metadata["tags"] = [t for t in tags if t not in ("skip-execution", "raises-exception")]
            tagged = "/".join(t for t in tags if t != "setup")
            report(f"cell {gid(cell)} was tagged {tagged}: tag removed, the cell runs")
        if nbg(ref).get("locked") and cell.source.strip() != ref.source.strip():
            report(f"read-only cell {gid(cell)} edited by the student: the original from the gradebook is graded")
        if nbg(cell).get("points") != nbg(ref).get("points"):
            report(
                f"points of {gid(cell)} changed to {nbg(cell).get('points')}: the gradebook's "
                f"{nbg(ref).get('points')} count"
            )
            cell.metadata["nbgrader"]["points"] = nbg(ref).get("points")


def read_submission(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """(the notebook, None), or (None, one sentence saying what the file is instead)."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        return None, f"not a Jupyter notebook: {path.name} is not JSON ({type(err).__name__}: {str(err)[:60]})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or "nbformat" not in data:
        keys = ", ".join(sorted(data)[:5]) if isinstance(data, dict) else type(data).__name__
        return None, f"not a Jupyter notebook: {path.name} is JSON without a notebook's cells ({keys})"
    try:
        return nbformat.reads(json.dumps(data), as_version=4), None
    except Exception as err:  # noqa: BLE001 (any unreadable notebook is the student's problem, reported)
        return None, f"{path.name} is a damaged notebook ({type(err).__name__}: {str(err)[:80]})"


def _signature(nb) -> set[str]:
    """What identifies a lab in a notebook: its answers' and tests' grade ids and the functions it defines."""
    ids = {gid(c) for c in nb.cells if nbg(c).get("grade") or nbg(c).get("solution")}
    defs = {
        f"def {n}" for c in nb.cells if c.cell_type == "code" for n in re.findall(r"^def ([a-z]\w*)\(", c.source, re.M)
    }
    return (ids | defs) - {None}


def other_lab(nb, lab: str, release) -> str | None:
    """The lab a notebook belongs to when it is plainly not ``lab`` (shares no answer or test with it)."""
    mine = _signature(nb)
    if mine & _signature(release):
        return None
    overlap = {}
    root = settings.course_root()
    for path in sorted([*root.glob(f"{settings.LABS}/*/*.ipynb"), *root.glob(f"{settings.SOLUTIONS}/*/*.ipynb")]):
        if path.parent.name != lab:
            found = len(mine & _signature(nbformat.read(path, as_version=4)))
            overlap[path.parent.name] = max(found, overlap.get(path.parent.name, 0))
    best = max(overlap, key=overlap.get, default=None)
    return best if best and overlap[best] > 0 else None


# What an answer has no reason to touch: the kernel's machinery that decides how test cells run. The
# grader puts it back before each test cell (grading/kernel_guard.py); the instructor is told anyway.
KERNEL_TOOLS = re.compile(
    r"input_transformer|ast_transformers|set_custom_exc|settrace|setprofile|excepthook|\bctypes\b"
    r"|__closure__|gc\.get_(?:referrers|objects)|_dgm_guard|meta_path|linecache|sys\.modules\["
    r"|\bbuiltins\.\w+\s*=|__builtins__|importlib\.\w+\s*=|get_ipython\(\)\.(?:events|kernel|run_cell)"
)


def kernel_tools(nb) -> list[str]:
    """'answer NAME uses X' for each answer cell that reaches for the kernel's machinery."""
    out = []
    for cell in nb.cells:
        if nbg(cell).get("solution") and cell.cell_type == "code":
            found = sorted(set(KERNEL_TOOLS.findall(cell.source)))
            if found:
                out.append(
                    f"answer {gid(cell)} uses {', '.join(found)}, which can change how tests run: review it by hand"
                )
    return out


def check_student(lab: str, student: str, releases: dict, problems: Problems) -> None:
    folder = settings.grading_dir() / "submitted" / student / lab
    original = settings.grading_dir() / "originals" / student / lab
    if original.is_dir():  # check always starts again from what the student handed in
        shutil.rmtree(folder)
        shutil.copytree(original, folder)
    else:
        shutil.copytree(folder, original)

    def report(message: str) -> None:
        problems.add(student, "check", message)

    files = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime)
    handed_in = {}  # graded name -> the name the student gave it
    for path in files:
        target = normalised(path.name)
        if target not in releases and len(releases) == 1 and len(files) == 1:
            target = next(iter(releases))
        if target not in releases:
            report(f"{path.name!r} is not a notebook of this lab ({', '.join(releases)}): ignored")
            path.rename(path.with_suffix(".ipynb.ignored"))
            continue
        if target != path.name:
            if (folder / target).exists():
                report(f"both {path.name!r} and {target!r} submitted: graded the newer, {path.name!r}")
            else:
                report(f"notebook renamed {path.name!r}: graded as {target!r}")
            path.replace(folder / target)
        handed_in[target] = path.name
    for name, release in releases.items():
        path = folder / name
        if not path.exists():
            report(f"{name} not submitted: scores 0")
            continue
        nb, problem = read_submission(path)
        if nb is not None and (lab_of := other_lab(nb, lab, release)):
            problem = f"a notebook of {lab_of} was handed in as {lab} ({handed_in.get(name, name)!r})"
        if problem:
            report(f"{problem}: scores 0")
            path.rename(path.with_suffix(".ipynb.rejected"))
            continue
        if nb.nbformat_minor < 5:
            report(f"nbformat 4.{nb.nbformat_minor} (as Colab saves): cell ids added")
        repair(nb, release, report)
        for finding in kernel_tools(nb):
            report(finding)
        nbformat.write(nb, path)


def run(args) -> int:
    releases = release_notebooks(args.lab)
    if not releases:
        print(f"no release of {args.lab} in labs/: run `grade.py release {args.lab}` first")
        return 1
    problems = Problems(args.lab)
    for student in args.student or students(args.lab):
        problems.reset("check", student)
        check_student(args.lab, student, releases, problems)
    problems.save()
    print(f"checked {len(args.student or students(args.lab))} submissions of {args.lab}")
    return 0
