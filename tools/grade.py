"""Grade a lab for a class: from a pile of submissions to grades, feedback and a class report.

Run from the course folder with the environment active; student data lives in ``DGM_GRADING_DIR``
(default ``../dgm-grading``), as in ``nbgrader_config.py``. One command per step::

    python tools/grade.py release  lab02_kl                  # gradebook (with hidden tests) and labs/
    python tools/grade.py collect  lab02_kl --exchange       # from a JupyterHub/nbgrader exchange
    python tools/grade.py collect  lab02_kl --zip subs.zip   # or from a zip of .ipynb (Colab downloads, LMS export)
    python tools/grade.py check    lab02_kl                  # repair what can be repaired, report the rest
    python tools/grade.py autograde lab02_kl                 # one nbgrader process per student, in a sandbox
    python tools/grade.py feedback lab02_kl                  # HTML feedback without the hidden tests' source
    python tools/grade.py export   lab02_kl --to grades.csv
    python tools/grade.py report   lab02_kl                  # score per student, and every problem found

Every step goes through the real nbgrader command line (so ``nbgrader_config.py`` applies) and never
stops at a bad submission: what goes wrong for one student is recorded in
``$DGM_GRADING_DIR/problems/<lab>.json`` and printed by ``report``.

- ``collect --zip`` takes the student id from each file's path in the zip with ``--id-rule`` (a
  regular expression whose group ``id``, or first group, is the id; default: the first folder, or the
  file name up to the first ``_``). Several files for one student: the newest is kept (reported).
- ``check`` works on each submitted notebook (keeping the original in ``originals/``): names such as
  "Copy of lab02_kl.ipynb" or "lab02_kl (1).ipynb" are normalised; invalid JSON is rejected; nbformat
  4.0 notebooks get cell ids; graded cells whose nbgrader metadata is missing (Colab, a retyped cell)
  get it back from the release, matched by ``def NAME(`` (answers), by source similarity (tests and
  read-only cells) or by position (written answers); ``skip-execution`` tags are removed; edited tests
  and points are reported (nbgrader restores them from the gradebook at autograde); deleted test
  cells are reported (restored at autograde).
- ``autograde`` runs ``nbgrader autograde --student=S`` for each student under a wall-clock limit
  (``--timeout``, default ``DGM_NOTEBOOK_TIMEOUT`` + 120 s); the per-cell and per-notebook limits come
  from ``nbgrader_config.py`` (``DGM_CELL_TIMEOUT``, ``DGM_NOTEBOOK_TIMEOUT``). A student whose grading
  fails (a kernel crash, the limit) scores 0 on the cells not graded, and is reported. Kernels run in
  a bubblewrap sandbox (``tools/sandbox_kernel.py``) that hides the gradebook, the solutions and the
  other students' work; without ``bwrap`` grading still runs, unprotected, and the report says so.
- ``feedback`` generates the HTML from a copy of the autograded notebooks whose test cells show the
  released (visible) tests and, for a failed test, only its error line (``CheckFailure: message``):
  the hidden tests' source never reaches a student.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import difflib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
DEFAULT_ID_RULE = r"^(?:(?P<id>[^/]+)/|(?P<id2>[^/_]+)_)"


# ----------------------------------------------------------------------------------------- helpers


def grading_dir() -> Path:
    return Path(os.environ.get("DGM_GRADING_DIR", ROOT.parent / "dgm-grading")).resolve()


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = os.pathsep.join([str(BIN), out.get("PATH", "")])
    out["DGM_GRADING_DIR"] = str(grading_dir())
    return out


def nbgrader(*args: str, timeout: float | None = None, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """A real nbgrader command from the course folder (so nbgrader_config.py applies)."""
    return subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=ROOT,
        env={**env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def release_notebooks(lab: str) -> dict[str, nbformat.NotebookNode]:
    return {p.name: nbformat.read(p, as_version=4) for p in sorted((ROOT / "labs" / lab).glob("*.ipynb"))}


def students(lab: str) -> list[str]:
    base = grading_dir() / "submitted"
    return sorted(p.name for p in base.iterdir() if (p / lab).is_dir()) if base.is_dir() else []


def nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def gid(cell) -> str | None:
    return nbg(cell).get("grade_id")


class Problems:
    """Per-student problems of one lab, kept in $DGM_GRADING_DIR/problems/<lab>.json."""

    def __init__(self, lab: str):
        self.path = grading_dir() / "problems" / f"{lab}.json"
        self.data = json.loads(self.path.read_text()) if self.path.exists() else {}

    def reset(self, step: str, student: str | None = None) -> None:
        for name in list(self.data):
            if student is None or name == student:
                self.data[name] = [p for p in self.data[name] if p["step"] != step]

    def add(self, student: str, step: str, message: str) -> None:
        self.data.setdefault(student, []).append({"step": step, "problem": message})
        print(f"  {student}: {message}")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({k: v for k, v in sorted(self.data.items())}, indent=1) + "\n")


# ----------------------------------------------------------------------------------------- release


def cmd_release(args) -> int:
    result = nbgrader("generate_assignment", args.lab, "--force")
    print(result.stdout + result.stderr if result.returncode else f"released {args.lab} into labs/{args.lab}/")
    return result.returncode


# ----------------------------------------------------------------------------------------- collect


def student_id(member: str, rule: str) -> tuple[str | None, str]:
    """(student id, file name) of a path in the zip; the id's part of the file name is dropped."""
    match = re.search(rule, member)
    base = Path(member).name
    if not match:
        return None, base
    groups = {k: v for k, v in match.groupdict().items() if v}
    value = next(iter(groups.values()), None) or next((g for g in match.groups() if g), None)
    if match.end() > len(member) - len(base):  # the id was taken from the file name itself
        base = member[match.end() :].lstrip("_- ") or base
    sid = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") if value else ""
    return sid or None, base


def cmd_collect(args) -> int:
    problems = Problems(args.lab)
    if args.exchange:
        result = nbgrader("collect", args.lab, "--update")
        print(result.stdout + result.stderr)
        return result.returncode
    submitted = grading_dir() / "submitted"
    kept: dict[str, tuple] = {}
    with zipfile.ZipFile(args.zip) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or not name.endswith(".ipynb") or "__MACOSX" in name or "/." in "/" + name:
                continue
            sid, base = student_id(name, args.id_rule)
            if not sid:
                problems.add("?", "collect", f"no student id in {name!r} (id rule {args.id_rule!r}): skipped")
                continue
            if sid in kept:
                older, newer = sorted([kept[sid], (info.date_time, name, info, base)], key=lambda t: t[:2])
                problems.add(sid, "collect", f"several files ({older[1]!r}, {newer[1]!r}): kept the newest")
                kept[sid] = newer
            else:
                kept[sid] = (info.date_time, name, info, base)
        for sid, (stamp, name, info, base) in sorted(kept.items()):
            folder = submitted / sid / args.lab
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / base).write_bytes(archive.read(info))
            (folder / "timestamp.txt").write_text(datetime(*stamp).strftime("%Y-%m-%d %H:%M:%S"))
            print(f"  {sid}: {name}")
    problems.save()
    print(f"collected {len(kept)} submissions of {args.lab} into {submitted}")
    return 0


# ------------------------------------------------------------------------------------------- check


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


def check_student(lab: str, student: str, releases: dict, problems: Problems) -> None:
    folder = grading_dir() / "submitted" / student / lab
    original = grading_dir() / "originals" / student / lab
    if original.is_dir():  # check always starts again from what the student handed in
        shutil.rmtree(folder)
        shutil.copytree(original, folder)
    else:
        shutil.copytree(folder, original)

    def report(message: str) -> None:
        problems.add(student, "check", message)

    files = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime)
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
    for name, release in releases.items():
        path = folder / name
        if not path.exists():
            report(f"{name} not submitted: scores 0")
            continue
        try:
            nb = nbformat.read(path, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no cells")
        except Exception as err:  # noqa: BLE001 (any unreadable file is the student's problem, reported)
            report(f"{name} is not a readable notebook ({type(err).__name__}: {str(err)[:80]}): scores 0")
            path.rename(path.with_suffix(".ipynb.rejected"))
            continue
        if nb.nbformat_minor < 5:
            report(f"nbformat 4.{nb.nbformat_minor} (as Colab saves): cell ids added")
        repair(nb, release, report)
        nbformat.write(nb, path)


def cmd_check(args) -> int:
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


# --------------------------------------------------------------------------------------- autograde


def sandbox_env(work: Path) -> dict[str, str] | None:
    """Environment that makes nbgrader run its kernels in tools/sandbox_kernel.py (None: no bwrap)."""
    if not shutil.which("bwrap"):
        return None
    spec = work / "kernels" / "dgm-sandbox"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, str(ROOT / "tools" / "sandbox_kernel.py"), "{connection_file}"],
                "display_name": "Python 3 (grading sandbox)",
                "language": "python",
                "interrupt_mode": "message",
            }
        )
    )
    import dgm  # the course's helper package: its folder (and data) stay visible, its repository does not

    package = Path(dgm.__file__).resolve().parent
    hide = [
        ROOT,
        grading_dir(),
        ROOT.parent / "dgm-grading",
        package.parent,
        package.parent.parent / "dgm-grading",
        *os.environ.get("DGM_SANDBOX_HIDE", "").split(os.pathsep),
    ]
    show = [package, package.parent / "assets", os.environ.get("DGM_DATA_DIR", "")]
    return {
        "JUPYTER_PATH": os.pathsep.join([str(work), os.environ.get("JUPYTER_PATH", "")]),
        "DGM_SANDBOX_HIDE": os.pathsep.join(str(p) for p in hide if p),
        "DGM_SANDBOX_SHOW": os.pathsep.join(str(p) for p in show if p),
    }


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def grade_one(lab: str, student: str, limit: float, sandbox: dict | None) -> tuple[str, str | None, str]:
    """nbgrader autograde for one student under a wall-clock limit: (student, failure or None, log)."""
    runtime = tempfile.mkdtemp(prefix="dgm-k-")  # short: unix socket paths are limited to 108 bytes
    extra = {"JUPYTER_RUNTIME_DIR": runtime}
    args = [str(BIN / "nbgrader"), "autograde", lab, f"--student={student}", "--force"]
    if sandbox:
        extra.update(sandbox)
        args += [
            "--Execute.kernel_name=dgm-sandbox",
            "--KernelManager.transport=ipc",
            f"--KernelManager.connection_file={runtime}/kernel.json",
        ]
    if not list((grading_dir() / "submitted" / student / lab).glob("*.ipynb")):
        shutil.rmtree(runtime, ignore_errors=True)
        return student, "nothing to grade (no notebook left after check)", ""
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**env(), **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = proc.communicate(timeout=limit)
        failure = None if proc.returncode == 0 else _failure_reason(log)
    except subprocess.TimeoutExpired:
        for pid in [*_descendants(proc.pid), proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log, _ = proc.communicate()
        failure = f"grading stopped at the per-submission limit ({limit:.0f} s)"
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    return student, failure, log


def _failure_reason(log: str) -> str:
    for pattern, reason in [
        (r"DeadKernelError|Kernel died|kernel died", "the kernel died (os._exit, a crash or out of memory)"),
        (r"CellTimeoutError|TimeoutError", "a time limit was reached"),
        (r"database is locked", "the gradebook was busy"),
    ]:
        if re.search(pattern, log):
            return f"autograde failed: {reason}"
    lines = [ln for ln in log.splitlines() if "Error" in ln or "error" in ln]
    return "autograde failed: " + (lines[-1].strip()[:160] if lines else "see the nbgrader log")


def zero_ungraded(lab: str, student: str) -> None:
    """A submission whose grading failed scores 0 on every cell that got no automatic score."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{grading_dir() / 'gradebook.db'}") as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(lab, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is None and grade.manual_score is None and grade.cell.cell_type == "code":
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        gb.db.commit()


def autograded_findings(lab: str, student: str) -> list[str]:
    """Problems visible in the autograded notebook: cells that raised, time limits, cut output."""
    out, unanswered = [], []
    for path in sorted((grading_dir() / "autograded" / student / lab).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            name = gid(cell) or f"cell {index + 1}"
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) if output.get("output_type") == "stream" else ""
                if "... Output truncated ..." in text:
                    out.append(f"{name}: huge output, cut to the configured limit")
                if output.get("output_type") != "error":
                    continue
                ename, evalue = output.get("ename", ""), str(output.get("evalue", "")).splitlines()[:1]
                if ename == "NotImplementedError":
                    unanswered.append(name)
                elif ename in ("CellTimeoutError", "TimeoutError", "KeyboardInterrupt") or "Timeout" in ename:
                    out.append(f"{name}: time limit reached (DGM_CELL_TIMEOUT / DGM_NOTEBOOK_TIMEOUT), scored 0")
                elif not nbg(cell).get("grade"):
                    out.append(f"{name} raised {ename}: {(evalue or [''])[0][:100]}")
    if unanswered:
        out.insert(0, "not answered (NotImplementedError): " + ", ".join(dict.fromkeys(unanswered)))
    return list(dict.fromkeys(out))


def cmd_autograde(args) -> int:
    problems = Problems(args.lab)
    names = args.student or students(args.lab)
    limit = args.timeout or int(os.environ.get("DGM_NOTEBOOK_TIMEOUT", "900")) + 120
    work = grading_dir() / ".sandbox"
    sandbox = None if args.no_sandbox else sandbox_env(work)
    if sandbox is None:
        print("WARNING: grading without a sandbox (no bwrap, or --no-sandbox): student code can read the gradebook.")
    failures = {}
    logs = grading_dir() / "logs" / args.lab
    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        jobs = [pool.submit(grade_one, args.lab, s, limit, sandbox) for s in names]
        for job in concurrent.futures.as_completed(jobs):
            student, failure, log = job.result()
            if failure and "gradebook was busy" in failure:  # sqlite, several writers: once more, alone
                student, failure, log = grade_one(args.lab, student, limit, sandbox)
            (logs / f"{student}.log").write_text(log)
            failures[student] = failure
            print(f"  {student}: {'ok' if not failure else failure}", flush=True)
    for student in names:
        problems.reset("autograde", student)
        if sandbox is None:
            problems.add(student, "autograde", "graded WITHOUT sandbox: the kernel could read the gradebook")
        if failures[student]:
            zero_ungraded(args.lab, student)
            problems.add(
                student,
                "autograde",
                f"{failures[student]}; scored 0 where not graded (log: logs/{args.lab}/{student}.log)",
            )
        for finding in autograded_findings(args.lab, student):
            problems.add(student, "autograde", finding)
    problems.save()
    print(
        f"autograded {len(names)} submissions of {args.lab} in {time.perf_counter() - start:.0f} s, "
        f"{sum(bool(f) for f in failures.values())} failed"
    )
    return 0


# ---------------------------------------------------------------------------------------- feedback


def hidden_lines(lab: str) -> set[str]:
    """Every line of the hidden tests (from the solutions), stripped, long enough to be telling and not visible."""
    out, visible = set(), set()  # a line that is part of a visible one gives nothing away
    for nb in release_notebooks(lab).values():
        visible |= {ln.strip() for cell in nb.cells for ln in cell.source.splitlines()}
    for path in (ROOT / "solutions" / lab).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for block in HIDDEN.findall(cell.source):
                out |= {ln.strip() for ln in block.splitlines()[1:-1] if len(ln.strip()) >= 12}
    return {line for line in out if not any(line in seen for seen in visible)}


def scrubbed(nb, release, secret: set[str]):
    """The autograded notebook as a student may see it: visible tests only, errors as one line."""
    visible = {gid(c): c.source for c in release.cells if gid(c)}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if nbg(cell).get("grade") and not nbg(cell).get("solution") and gid(cell) in visible:
            cell.source = visible[gid(cell)]
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if any(json.dumps(line)[1:-1] in text for line in secret):
                output.clear()
                output.update(
                    nbformat.v4.new_output(
                        "stream", name="stdout", text="[output removed: it contained hidden test code]\n"
                    )
                )
    return nb


def html_text(path: Path) -> str:
    """The text of an HTML file as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def cmd_feedback(args) -> int:
    releases, secret = release_notebooks(args.lab), hidden_lines(args.lab)
    with tempfile.TemporaryDirectory() as tmp:
        for folder in sorted((grading_dir() / "autograded").glob(f"*/{args.lab}")):
            target = Path(tmp) / folder.parent.name / args.lab
            shutil.copytree(folder, target)
            for name, release in releases.items():
                if (target / name).exists():
                    nb = scrubbed(nbformat.read(target / name, as_version=4), release, secret)
                    nbformat.write(nb, target / name)
        result = nbgrader("generate_feedback", args.lab, "--force", f"--CourseDirectory.autograded_directory={tmp}")
    print(result.stdout[-2000:] + result.stderr[-2000:])
    leaks = [
        p
        for p in (grading_dir() / "feedback").glob(f"*/{args.lab}/*.html")
        if any(line in html_text(p) for line in secret)
    ]
    for path in leaks:
        print(f"WARNING: {path} shows a hidden-test line")
    return result.returncode or bool(leaks)


# ------------------------------------------------------------------------------------------- export


def cmd_export(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = nbgrader("export", f"--to={Path(tmp) / 'all.csv'}")
        if result.returncode:
            print(result.stdout + result.stderr)
            return result.returncode
        with open(Path(tmp) / "all.csv") as handle:
            rows = [row for row in csv.DictReader(handle) if row["assignment"] == args.lab]
    fields = list(rows[0]) if rows else ["assignment", "student_id", "score", "max_score"]
    with open(args.to, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} grades of {args.lab} to {args.to}")
    return 0


# ------------------------------------------------------------------------------------------- report


def class_report(lab: str) -> str:
    from nbgrader.api import Gradebook

    problems = Problems(lab).data
    rows = []
    with Gradebook(f"sqlite:///{grading_dir() / 'gradebook.db'}") as gb:
        assignment = gb.find_assignment(lab)
        auto = sum(c.max_score for nb in assignment.notebooks for c in nb.grade_cells if c.cell_type == "code")
        total = assignment.max_score
        names = sorted(set(students(lab)) | {s.student.id for s in assignment.submissions} | set(problems) - {"?"})
        for name in names:
            try:
                sub = gb.find_submission(lab, name)
                score, manual = f"{sub.score:g}/{total:g}", " (+ by hand)" if sub.needs_manual_grade else ""
            except Exception:  # noqa: BLE001
                score, manual = "not graded", ""
            rows.append((name, score + manual, problems.get(name, [])))
    lines = [f"{lab}: {len(rows)} students; {auto:g} points autograded, {total - auto:g} by hand"]
    for name, score, found in rows:
        lines.append(f"{name:<24} {score}")
        lines += [f"    {p['step']}: {p['problem']}" for p in found]
    for p in problems.get("?", []):
        lines.append(f"(unassigned) {p['step']}: {p['problem']}")
    stops = ("autograde failed", "grading stopped", "nothing to grade")
    failed = [n for n, s, f in rows if s == "not graded" or any(p["problem"].startswith(stops) for p in f)]
    lines.append(f"grading failed for {len(failed)}: {', '.join(failed) or '-'}")
    return "\n".join(lines)


def cmd_report(args) -> int:
    print(class_report(args.lab))
    return 0


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("release", "collect", "check", "autograde", "feedback", "export", "report"):
        p = sub.add_parser(name)
        p.add_argument("lab")
        p.set_defaults(func=globals()[f"cmd_{name}"])
        if name == "collect":
            src = p.add_mutually_exclusive_group(required=True)
            src.add_argument("--zip", help="a zip of .ipynb files (Colab downloads, an LMS export)")
            src.add_argument("--exchange", action="store_true", help="nbgrader collect from the exchange")
            p.add_argument(
                "--id-rule",
                default=os.environ.get("DGM_ID_RULE", DEFAULT_ID_RULE),
                help="regex on each path in the zip; group 'id' (or the first group) is the student id",
            )
        if name in ("check", "autograde"):
            p.add_argument("--student", action="append", help="only this student (repeatable)")
        if name == "autograde":
            p.add_argument("--timeout", type=float, help="seconds per submission (default DGM_NOTEBOOK_TIMEOUT + 120)")
            p.add_argument(
                "--jobs",
                type=int,
                default=int(os.environ.get("DGM_GRADING_JOBS", "1")),
                help="submissions graded at once (sqlite gradebook: keep it small)",
            )
            p.add_argument("--no-sandbox", action="store_true", help="run kernels without bubblewrap (unsafe)")
        if name == "export":
            p.add_argument("--to", default="grades.csv")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
