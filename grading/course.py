"""A temporary nbgrader course for the tests and the benchmark: real nbgrader commands, a real gradebook,
isolated paths (no user Jupyter configuration, student data inside the temporary folder)."""

from __future__ import annotations

import csv
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat

from grading import settings

ROOT = settings.REPOSITORY_ROOT
BIN = settings.BIN


def isolated_env(home: Path) -> dict[str, str]:
    """Environment for nbgrader and kernels: no user Jupyter config, the venv's bin on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER", "DGM_GRADING"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (home / name.lower()).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / name.lower())
    env = settings.tool_env(env)
    env["DGM_HEADLESS"] = "1"  # no widgets: nobody is watching (see dgm.widgets.headless)
    env.pop("DGM_MODE", None)  # nbgrader runs FAST by itself (NBGRADER_EXECUTION)
    return env


def solution_code(cell) -> str:
    """A solution cell as a student who solved it would leave it: the markers removed."""
    lines = [ln for ln in cell.source.splitlines() if not re.match(r"\s*#* *(BEGIN|END) SOLUTION", ln)]
    return "\n".join(lines)


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


class Course:
    """A copy of the course in ``root``, with student data in ``root / 'dgm-grading'``; the gradebook there
    (SQLite) or at ``gradebook_url`` (e.g. a database of ``Postgres``)."""

    def __init__(self, root: Path, gradebook_url: str | None = None):
        self.root = root
        # Not "grading": `python -m grading` run in the course folder would import that folder instead.
        self.grading = root / "dgm-grading"
        self.grading.mkdir(parents=True, exist_ok=True)  # nbgrader creates the gradebook, not its folder
        shutil.copy(ROOT / "nbgrader_config.py", root)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / settings.SOLUTIONS, root / settings.SOLUTIONS, ignore=ignore)
        self.env = isolated_env(root / "home")
        self.env["DGM_GRADING_DIR"] = str(self.grading)
        self.gradebook_url = gradebook_url or settings.gradebook_url(self.grading)
        if gradebook_url:
            self.env["DGM_GRADEBOOK_URL"] = gradebook_url

    def nbgrader(self, *args: str, check: bool = True, timeout: int = 1800) -> subprocess.CompletedProcess:
        result = settings.nbgrader(*args, cwd=self.root, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            command = " ".join(args)
            raise AssertionError(f"nbgrader {command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def generate(self, assignment: str) -> None:
        result = settings.generate_assignment(assignment, cwd=self.root, env=self.env)
        if result.returncode != 0:
            raise AssertionError(f"nbgrader generate_assignment {assignment} failed:\n{result.stdout}\n{result.stderr}")

    def lab(self, assignment: str) -> nbformat.NotebookNode:
        (path,) = (self.root / "labs" / assignment).glob("*.ipynb")
        return nbformat.read(path, as_version=4)

    def solution(self, assignment: str) -> nbformat.NotebookNode:
        (path,) = (self.root / "solutions" / assignment).glob("*.ipynb")
        return nbformat.read(path, as_version=4)

    def submit(self, assignment: str, student: str, nb, name: str | None = None) -> Path:
        name = name or next((self.root / "labs" / assignment).glob("*.ipynb")).name
        folder = self.grading / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, path)
        return path

    def autograde(self, assignment: str, *extra: str) -> subprocess.CompletedProcess:
        return self.nbgrader("autograde", assignment, "--force", *extra, check=False)

    def scores(self, assignment: str, student: str) -> dict[str, float]:
        """Score of every graded cell of one student's submission, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.gradebook_url) as gb:
            submission = gb.find_submission(assignment, student)
            return {g.name: g.score for nb in submission.notebooks for g in nb.grades}

    def max_scores(self, assignment: str) -> dict[str, float]:
        from nbgrader.api import Gradebook

        with Gradebook(self.gradebook_url) as gb:
            return {c.name: c.max_score for nb in gb.find_assignment(assignment).notebooks for c in nb.grade_cells}

    def feedback(self, assignment: str) -> None:
        self.nbgrader("generate_feedback", assignment, "--force")

    def export(self) -> list[dict[str, str]]:
        out = self.root / "grades.csv"
        self.nbgrader("export", f"--to={out}")
        with open(out) as handle:
            return list(csv.DictReader(handle))


def filled(lab, solution, replace: dict[str, str] | None = None):
    """The lab with every solution cell filled from the solution, except those in ``replace``."""
    replace = replace or {}
    answers = {grade_id(c): solution_code(c) for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = json.loads(json.dumps(lab))  # a deep copy as plain dicts
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = replace.get(gid, answers[gid]).strip("\n")
    return nb


def grading_cells(cat, exercise: str) -> list[str]:
    """The test cells that grade an answer: one name, or a list (one test cell per property)."""
    tests = cat.TESTS[exercise]
    return [tests] if isinstance(tests, str) else list(tests)


def every_grading_cell(cat) -> list[str]:
    return [test for exercise in cat.TESTS for test in grading_cells(cat, exercise)]


def catalogue(assignment: str):
    """The wrong-answer catalogue of a lab (tests/catalogue/<assignment>.py; the tests folder is on sys.path)."""
    return importlib.import_module(f"catalogue.{assignment}")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (``make postgres`` installs Debian's), or no user to run them as."""


class Postgres:
    """A real PostgreSQL server of Debian's packages for the tests and the benchmark: a fresh cluster in a
    temporary folder, on loopback only, at a free port, trust authentication, stopped by ``stop()``.

    PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user the package creates."""

    def __init__(self):
        import glob
        import pwd
        import socket
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise PostgresUnavailable("no /usr/lib/postgresql/*/bin/initdb: run `make postgres` (as root, Debian)")
        self.bin = Path(found[-1]).parent
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError as err:
                raise PostgresUnavailable("running as root, and no `postgres` user to run the server as") from err
        self.folder = Path(tempfile.mkdtemp(prefix="dgm-pg-"))
        if self.user:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.folder,
            user=self.user.pw_uid if self.user else None,
            group=self.user.pw_gid if self.user else None,
            timeout=120,
        )
        if result.returncode:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}"
            )

    def database(self, name: str) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
