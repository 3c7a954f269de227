"""The grading sandbox holds: every escape fails, graded in one batch with an honest student.

The escaping student hands in the lab with one extra cell per escape, each trying to break out (read the gradebook,
a solution, another student's work, the instructor's home; write into the course; open a network
connection; allocate 20 GB; fork without bound; print 1 GB; fill the disk; leave a process running).
On success the cell would leave evidence where this test can look safely (a folder outside the
sandbox, the course, a listening socket, the process table); each cell also prints what it attempted,
so that a cell that never ran cannot pass for a blocked one. The limits are small here (environment
below) so that each escape fails fast. The honest student in the same batch keeps full marks. To keep
the run short (one kernel without TensorFlow instead of one per escape), the escapes share one
submission without the lab's setup and imports cells, in an order where none hides another: output
last, since the in-kernel output bound then mutes the rest.

Also: plain ``nbgrader autograde`` gets the same sandbox, and where bwrap cannot start (its command
pointed at ``false``) grading refuses to run student code unless the instructor opts out, and the
report then says so at its top.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading import sandbox, settings
from grading.course import Course, catalogue, filled, grade_id

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("escapes")]

LAB = "lab02_kl"
CAT = catalogue(LAB)
MARKER = "dgm-escape-" + secrets.token_hex(6)  # in the command line of the process left running
LIMITS = {
    "DGM_SANDBOX_MEMORY": "2G",  # the lab needs about 0.7 GB
    "DGM_SANDBOX_PROCESSES": "128",  # the lab's kernel runs about 20 threads
    "DGM_SANDBOX_DISK": "64M",
    "DGM_SANDBOX_OUTPUT": "256K",
    "DGM_CELL_TIMEOUT": "60",
}

# Each escape: its code, given the paths it aims at. ``_escaped(what)`` records evidence of success.
PRELUDE = """
import os, pathlib
_EVIDENCE = pathlib.Path({evidence!r})
def _escaped(what):
    print("ESCAPED", what)
    try:
        (_EVIDENCE / "{escape}").write_text(what)
    except OSError:
        pass
print("ATTEMPTED {escape}")
"""

ESCAPES = {
    "reader": """
for _path in [{gradebook!r}, {solution!r}, {other!r}, {checkout_solution!r}]:
    try:
        _escaped("read " + _path + ": " + str(len(open(_path, "rb").read())))
    except OSError as _err:
        print("blocked:", _path, type(_err).__name__)
# The grader's home: a secret file in it, and anything in the machine's home folder beyond the path to
# the Python installation (which the sandbox shows).
try:
    _escaped("read the home's secret: " + open({home_secret!r}).read())
except OSError as _err:
    print("blocked: home secret", type(_err).__name__)
try:
    _seen = set(os.listdir({real_home!r})) - set({home_allowed!r})
    if _seen:
        _escaped("home: " + str(sorted(_seen)))
except OSError as _err:
    print("blocked: real home", type(_err).__name__)
""",
    "writer": """
for _path in [{course_file!r}, {grading_file!r}]:
    try:
        # Where the course lies under /tmp, this lands in the sandbox's own /tmp: the test looks at the real path.
        open(_path, "w").write("written by a student")
        print("wrote", _path)
    except OSError as _err:
        print("blocked:", _path, type(_err).__name__)
""",
    "network": """
import socket
for _address in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection(_address, timeout=3).sendall(b"escaped")
        _escaped("connected to " + str(_address))
    except OSError as _err:
        print("blocked:", _address, type(_err).__name__)
""",
    "memory": """
import numpy as np
try:
    _block = np.ones(20 * 2**30, dtype=np.uint8)  # 20 GB, every page written
    _escaped("allocated " + str(_block.nbytes))
except MemoryError as _err:
    print("blocked: 20 GB", type(_err).__name__)
""",
    "forker": """
import time
_children = []
try:
    for _ in range(2000):
        _pid = os.fork()
        if _pid == 0:
            time.sleep(60)
            os._exit(0)
        _children.append(_pid)
    _escaped("forked " + str(len(_children)))
except OSError as _err:
    print("blocked: fork after", len(_children), type(_err).__name__)
for _pid in _children:
    os.kill(_pid, 9)
    os.waitpid(_pid, 0)
""",
    "printer": """
import sys
for _ in range(1024):
    sys.stdout.write("x" * 2**20 + "\\n")  # 1 GB in all
os.write(1, b"y" * 2**24)  # and 16 MB more at the file descriptor
print("printed 1 GB")
""",
    "filler": """
_written = 0
for _folder in [".", "/tmp", "/dev/shm", "/"]:
    try:
        for _i in range(10_000):
            with open(os.path.join(_folder, f"fill{{_i}}"), "wb") as _handle:
                _handle.write(b"0" * 2**24)  # 16 MB files
            _written += 2**24
    except OSError as _err:
        print("blocked:", _folder, type(_err).__name__, "after", _written >> 20, "MB")
if _written > 4 * {disk}:
    _escaped("wrote " + str(_written))
""",
    "daemon": """
import subprocess, sys
# A detached grandchild in its own session: it would outlive the kernel without the pid namespace.
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", {marker!r}], start_new_session=True)
print("started", {marker!r})
""",
}

# Printing last: once the in-kernel output bound is spent, the cells after it would print nothing.
ESCAPES["printer"] = ESCAPES.pop("printer")


def _with_cells(lab, codes: list[str]):
    """The blank lab with these cells first, without its setup and imports cells (no TensorFlow to load:
    nbgrader puts back missing test cells only), so that the kernel runs them at once."""
    nb = nbformat.from_dict(json.loads(json.dumps(lab)))
    nb.cells = [c for c in nb.cells if grade_id(c) not in ("setup", "imports")]
    nb.cells[1:1] = [nbformat.v4.new_code_cell(code) for code in codes]
    return nb


def _outputs(course: Course, student: str, escape: str | None = None) -> str:
    """The outputs of a student's autograded notebook (of the cell of one escape, if given)."""
    path = course.grading / "autograded" / student / LAB / f"{LAB}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if escape is None or f'print("ATTEMPTED {escape}")' in c.source]
    return json.dumps([c.get("outputs", []) for c in cells])


def _escape(name: str, paths: dict) -> str:
    return PRELUDE.format(escape=name, **paths) + ESCAPES[name].format(**paths)


def _marker_processes() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if MARKER in text:
            found.append(f"{cmdline.parent.name}: {text}")
    return found


def _grade(course: Course, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args],
        cwd=course.root,
        env={**course.env, **LIMITS, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("escapes")
    course = Course(root)
    course.env.update(LIMITS)
    home = root / "instructor-home"  # the grader's home folder, with a secret in it
    home.mkdir()
    (home / "secret.txt").write_text("the instructor's secret")
    course.env["HOME"] = str(home)
    course.generate(LAB)
    lab, solution = course.lab(LAB), course.solution(LAB)
    evidence = root / "evidence"
    evidence.mkdir()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    paths = {
        "gradebook": str(course.grading / "gradebook.db"),
        "solution": str(root / "solutions" / LAB / f"{LAB}.ipynb"),
        "other": str(course.grading / "submitted" / "honest" / LAB / f"{LAB}.ipynb"),
        "checkout_solution": str(settings.REPOSITORY_ROOT / "solutions" / LAB / f"{LAB}.ipynb"),
        "home_secret": str(home / "secret.txt"),
        "real_home": str(Path.home()),
        "home_allowed": sorted(
            Path(p).relative_to(Path.home()).parts[0] for p in sandbox.shown() if Path(p).is_relative_to(Path.home())
        ),
        "course_file": str(root / "written-by-student.txt"),
        "grading_file": str(course.grading / "written-by-student.txt"),
        "port": listener.getsockname()[1],
        "disk": settings._bytes(LIMITS["DGM_SANDBOX_DISK"]),
        "marker": MARKER,
        "evidence": str(evidence),
    }
    course.submit(LAB, "honest", filled(lab, solution))
    course.submit(LAB, "escaper", _with_cells(lab, [_escape(name, paths) for name in ESCAPES]))
    result = _grade(course, "autograde", LAB, "--jobs", "2")
    # Plain nbgrader, as the README also offers: the same sandbox, through nbgrader_config.py alone.
    course.submit(LAB, "plain", _with_cells(lab, [_escape("reader", paths)]))
    plain = course.autograde(LAB, "--student=plain")
    try:
        connection = listener.accept()[0]
        connection.close()
        connected = True
    except BlockingIOError:
        connected = False
    listener.close()
    processes = _marker_processes()
    report = _grade(course, "report", LAB).stdout
    return {
        "course": course,
        "result": result,
        "plain": plain,
        "evidence": evidence,
        "paths": paths,
        "connected": connected,
        "processes": processes,
        "report": report,
    }


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_escape_fails(batch, escape):
    course, log = batch["course"], batch["result"].stdout[-3000:]
    text = _outputs(course, "escaper", escape)
    assert f"ATTEMPTED {escape}" in text, f"{escape}: the escape cell did not run\n{text[:2000]}\n{log}"
    assert "ESCAPED" not in text, f"{escape}: escaped the sandbox:\n{text[:3000]}"
    assert not list(batch["evidence"].iterdir()), f"evidence of an escape: {list(batch['evidence'].iterdir())}"


def test_plain_nbgrader_autograde_runs_in_the_sandbox(batch):
    text = _outputs(batch["course"], "plain", "reader")
    assert "ATTEMPTED reader" in text and "blocked:" in text, f"{text[:2000]}\n{batch['plain'].stdout[-2000:]}"
    assert "ESCAPED" not in text, f"plain nbgrader autograde let student code out:\n{text[:3000]}"


def test_honest_student_grades_as_before(batch):
    course = batch["course"]
    got, maximum = course.scores(LAB, "honest"), course.max_scores(LAB)
    tests = [t for test in CAT.TESTS.values() for t in ([test] if isinstance(test, str) else test)]
    assert {t: got[t] for t in tests} == {t: maximum[t] for t in tests}, f"{got}\n{batch['result'].stdout[-3000:]}"
    assert "honest" in batch["report"] and "WARNING" not in batch["report"], batch["report"]


def test_nothing_written_into_the_course_and_no_connection(batch):
    paths = batch["paths"]
    assert not os.path.exists(paths["course_file"]) and not os.path.exists(paths["grading_file"])
    assert not batch["connected"], "a student's kernel connected to a loopback port of the grading machine"


def test_no_process_outlives_its_grading(batch):
    assert f"started {MARKER}" in _outputs(batch["course"], "escaper", "daemon"), "the daemon escape did not run"
    assert batch["processes"] == [], f"left running after grading: {batch['processes']}"


def test_limits_are_what_the_settings_say(batch):
    """Each limit bit in its own way: memory, processes, disk and output (the messages say which)."""
    course = batch["course"]
    assert "blocked: 20 GB MemoryError" in _outputs(course, "escaper", "memory")
    forks = _outputs(course, "escaper", "forker")
    assert "blocked: fork after" in forks, forks[:2000]
    fills = _outputs(course, "escaper", "filler")
    assert "blocked: . OSError" in fills and "blocked: /tmp OSError" in fills, fills[:2000]
    path = course.grading / "autograded" / "escaper" / LAB / f"{LAB}.ipynb"
    assert path.stat().st_size < 8 * 2**20, f"printing 1 GB left a {path.stat().st_size}-byte notebook"


@pytest.fixture(scope="module")
def refusal(batch):
    """bwrap pointed at `false`: the sandbox cannot start. Plain nbgrader and python -m grading refuse."""
    course, paths = batch["course"], batch["paths"]
    lab = course.lab(LAB)
    code = PRELUDE.format(escape="unprotected", **paths) + '_escaped("ran without the sandbox")\n'
    course.submit(LAB, "unprotected", _with_cells(lab, [code]))
    broken = {"DGM_SANDBOX_BWRAP": "false"}
    plain = settings.nbgrader(
        "autograde", LAB, "--student=unprotected", "--force", cwd=course.root, env={**course.env, **broken}
    )
    ran_plain = (batch["evidence"] / "unprotected").exists()
    refused = _grade(course, "autograde", LAB, "--student", "unprotected", env=broken)
    ran_refused = (batch["evidence"] / "unprotected").exists()
    opted_out = _grade(course, "autograde", LAB, "--student", "unprotected", "--unsandboxed", env=broken)
    report = _grade(course, "report", LAB, env=broken).stdout
    (batch["evidence"] / "unprotected").unlink(missing_ok=True)
    ran_opted_out = "ESCAPED" in _outputs(course, "unprotected")
    return {
        "plain": plain,
        "ran_plain": ran_plain,
        "refused": refused,
        "ran_refused": ran_refused,
        "opted_out": opted_out,
        "ran_opted_out": ran_opted_out,
        "report": report,
    }


def test_plain_nbgrader_refuses_without_a_working_sandbox(refusal):
    log = refusal["plain"].stdout + refusal["plain"].stderr
    assert not refusal["ran_plain"], "plain nbgrader ran student code without the sandbox"
    assert "Student code was NOT run" in log and "DGM_ALLOW_UNSANDBOXED=1" in log, log[-3000:]


def test_grading_refuses_without_a_working_sandbox_unless_told(refusal):
    refused = refusal["refused"]
    assert refused.returncode != 0 and "Student code was NOT run" in refused.stdout, refused.stdout[-2000:]
    assert not refusal["ran_refused"]
    # The opt-out: graded, unprotected (the student's code did run), and the report says so first.
    assert refusal["opted_out"].returncode == 0, refusal["opted_out"].stdout[-2000:]
    assert refusal["ran_opted_out"], "with --unsandboxed the submission should have been graded"
    first = refusal["report"].splitlines()[0]
    assert first.startswith("WARNING") and "WITHOUT the sandbox" in first, refusal["report"]
