"""Step 4, autograde: one ``nbgrader autograde --student=S`` per student, under a wall-clock limit,
with the kernel in the sandbox (grading/sandbox.py).

The per-cell and per-notebook limits come from nbgrader_config.py (``DGM_CELL_TIMEOUT``,
``DGM_NOTEBOOK_TIMEOUT``); ``--timeout`` bounds a whole submission (default: the notebook limit +
120 s). A student whose grading fails (a kernel crash, a limit) scores 0 on the cells not graded, and
is named in the report with the reason; the rest of the class is graded as usual.

Parallel grading: ``--jobs N`` grades N submissions at once, each in its own nbgrader process (one
worker per submission). The gradebook is nbgrader's ``db_url`` (``DGM_GRADEBOOK_URL``): the embedded
SQLite file takes at most ``settings.SQLITE_JOBS`` writers, PostgreSQL any number. ``--scheduler``
(``DGM_SCHEDULER``) hands the per-submission jobs to Dask distributed instead: ``local`` starts a
``LocalCluster`` of N worker processes, an address (``tcp://host:8786``) uses a running cluster, whose
workers must see the course and grading folders at the same paths, reach the gradebook, and have bwrap.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat

from grading import sandbox, settings
from grading.problems import Problems
from grading.submissions import gid, nbg, students


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


def place() -> dict:
    """Where a job runs: the course folder and the DGM_ settings, carried to a worker on another process
    or machine (a Dask worker has its own environment and working folder)."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("DGM_", "JUPYTER_", "IPYTHONDIR"))}
    env["DGM_GRADING_DIR"] = str(settings.grading_dir())
    env["DGM_GRADEBOOK_URL"] = settings.gradebook_url()
    return {"root": str(settings.course_root()), "env": env}


def grade_one(
    lab: str, student: str, limit: float, kernel: dict | None, where: dict | None = None
) -> tuple[str, str | None, str]:
    """nbgrader autograde for one student under a wall-clock limit: (student, failure or None, log).

    ``where`` (from ``place()``) says which course and gradebook, for a job run by a Dask worker."""
    where = where or place()
    env = {**os.environ, **where["env"]}
    # The gradebook's address goes on nbgrader's command line, not in its environment, which the kernel
    # (student code) inherits: a password in the URL must not reach a notebook's output.
    url = env.pop("DGM_GRADEBOOK_URL")
    runtime = sandbox.private_runtime(remove_at_exit=False)  # removed below, when this grading ends
    extra = {"JUPYTER_RUNTIME_DIR": runtime}
    args = [str(settings.BIN / "nbgrader"), "autograde", lab, f"--student={student}", "--force"]
    args.append(f"--CourseDirectory.db_url={url}")
    if kernel:
        extra.update(kernel)
        args += [
            "--Execute.kernel_name=dgm-sandbox",
            "--KernelManager.transport=ipc",
            f"--KernelManager.connection_file={runtime}/kernel.json",
        ]
    if not list((Path(env["DGM_GRADING_DIR"]) / "submitted" / student / lab).glob("*.ipynb")):
        shutil.rmtree(runtime, ignore_errors=True)
        return student, "nothing to grade (no notebook left after check)", ""
    proc = subprocess.Popen(
        args,
        cwd=where["root"],
        env=settings.tool_env({**env, **extra}),
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

    with Gradebook(settings.gradebook_url()) as gb:
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
    for path in sorted((settings.grading_dir() / "autograded" / student / lab).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            name = gid(cell) or f"cell {index + 1}"
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) if output.get("output_type") == "stream" else ""
                if "... Output truncated ..." in text or "bytes of output cut" in text:
                    out.append(f"{name}: huge output, cut to the configured limit")
                if output.get("output_type") != "error":
                    continue
                ename, evalue = output.get("ename", ""), str(output.get("evalue", "")).splitlines()[:1]
                if ename == "NotImplementedError":
                    unanswered.append(name)
                elif ename in ("CellTimeoutError", "TimeoutError", "KeyboardInterrupt") or "Timeout" in ename:
                    then = "scored 0" if nbg(cell).get("grade") else "the cells after it still ran"
                    out.append(f"{name}: time limit reached (DGM_CELL_TIMEOUT / DGM_NOTEBOOK_TIMEOUT), {then}")
                elif ename == "TestNotFinished":  # grading/nbgrader_ext.py:GuardedExecute
                    out.append(f"{name}: {(evalue or [''])[0]}")
                elif not nbg(cell).get("grade"):
                    out.append(f"{name} raised {ename}: {(evalue or [''])[0][:100]}")
    if unanswered:
        out.insert(0, "not answered (NotImplementedError): " + ", ".join(dict.fromkeys(unanswered)))
    return list(dict.fromkeys(out))


def _results(lab: str, names: list[str], limit: float, kernel: dict | None, jobs: int, scheduler: str):
    """Each student's (student, failure, log), as the jobs finish: here (threads, each waiting on its
    nbgrader process) or on Dask workers (one job per submission)."""
    if not scheduler:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(grade_one, lab, s, limit, kernel) for s in names]
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        return
    from distributed import Client, LocalCluster, as_completed

    where = place()
    if scheduler == "local":
        # Processes, one thread each: a worker grades one submission at a time, like a --jobs slot.
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
    else:
        cluster = None
    with Client(cluster or scheduler) as client:
        futures = {
            client.submit(grade_one, lab, s, limit, kernel, where, key=f"grade-{lab}-{s}", pure=False): s for s in names
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker lost, a job that could not run: that student only
                yield futures[future], f"the grading job failed on the cluster: {type(exc).__name__}: {exc}", ""
    if cluster is not None:
        cluster.close()


def _where(jobs: int, scheduler: str) -> str:
    if scheduler == "local":
        return f"on a Dask LocalCluster of {jobs} worker processes"
    if scheduler:
        return f"on the Dask cluster at {scheduler}"
    return f"{jobs} at once on this machine"


def _safe(url: str) -> str:
    """The gradebook's address without its password, for the log."""
    return re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", url)


def open_gradebook(url: str) -> None:
    """Create the gradebook's tables (nbgrader does it on first use) once, before several processes would,
    and the course row nbgrader's default course id ("") refers to: nbgrader never adds it, which SQLite
    lets pass (foreign keys unchecked) and PostgreSQL refuses (assignment_course_id_fkey)."""
    from nbgrader.api import Course, Gradebook

    os.environ["PATH"] = settings.tool_env()["PATH"]  # a new gradebook runs `alembic` from the environment
    try:
        with Gradebook(url, course_id="") as gb:
            if gb.db.get(Course, "") is None:
                gb.db.add(Course(id=""))
                gb.db.commit()
    except Exception as exc:  # sqlalchemy's OperationalError and kin: no server, wrong name, no rights
        raise SystemExit(
            f"autograde: cannot open the gradebook {_safe(url)} (DGM_GRADEBOOK_URL): {str(exc).splitlines()[0]}. "
            "Is the database server running and the database created? Nothing was graded."
        ) from exc


def run(args) -> int:
    problems = Problems(args.lab)
    names = args.student or students(args.lab)
    limit = args.timeout or settings.NOTEBOOK_TIMEOUT + 120
    # No silent fallback: where the sandbox cannot run, nothing is graded unless the instructor opts out.
    unprotected = sandbox.unavailable()
    if unprotected and not args.unsandboxed:
        print(sandbox.REFUSAL.format(reason=unprotected))
        return 2
    kernel = sandbox.kernel_env(settings.grading_dir() / ".sandbox")
    problems.reset("autograde", "!")  # "!": what concerns the whole class, shown at the top of the report
    if unprotected:
        kernel[sandbox.ALLOW_UNSANDBOXED] = "1"
        print(f"WARNING: grading WITHOUT the sandbox ({unprotected}; --unsandboxed): student code has your rights.")
        problems.add("!", "autograde", f"graded WITHOUT the sandbox ({unprotected}; --unsandboxed)")
    failures = {}
    logs = settings.grading_dir() / "logs" / args.lab
    logs.mkdir(parents=True, exist_ok=True)
    jobs, scheduler = max(1, args.jobs), getattr(args, "scheduler", None) or ""
    url = settings.gradebook_url()
    sqlite = url.startswith("sqlite")
    if sqlite and scheduler not in ("", "local"):
        print(
            f"autograde: a Dask cluster at {scheduler} needs a gradebook every worker can reach (PostgreSQL: "
            f"set DGM_GRADEBOOK_URL); got the SQLite file {url}. Nothing was graded."
        )
        return 2
    if sqlite and jobs > settings.SQLITE_JOBS:
        print(f"autograde: {jobs} jobs asked, {settings.SQLITE_JOBS} used: the SQLite gradebook takes no more writers")
        jobs = settings.SQLITE_JOBS
    open_gradebook(url)  # schema and course exist before parallel writers start
    print(f"grading {len(names)} submissions of {args.lab}: {_where(jobs, scheduler)}; gradebook {_safe(url)}")
    start = time.perf_counter()
    for student, failure, log in _results(args.lab, names, limit, kernel, jobs, scheduler):
        if failure and "gradebook was busy" in failure:  # sqlite, several writers: once more, alone
            student, failure, log = grade_one(args.lab, student, limit, kernel)
        (logs / f"{student}.log").write_text(log)
        failures[student] = failure
        print(f"  {student}: {'ok' if not failure else failure}", flush=True)
    for student in names:
        problems.reset("autograde", student)
        if unprotected:
            problems.add(student, "autograde", "graded WITHOUT the sandbox: the kernel could read the gradebook")
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
