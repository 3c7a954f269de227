"""The generated setup cell, run as Colab runs it.

Colab's signal is a `google.colab` module in `sys.modules` (a stub package here, imported before the
cell, as Colab's kernel does); TensorFlow is already installed (the project's environment, seen through a
throwaway virtual environment so that pip installs into that one only); the repository is the student
edition (`make edition`) committed to a local git repository and cloned by a file:// address. The cell
runs in IPython, which shows errors as Colab's kernel does. Only the two address lines of the cell change.
"""

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from dgm import config
from grading import settings

ROOT = settings.REPOSITORY_ROOT
sys.path.insert(0, str(ROOT / "tools"))
import edition  # noqa: E402

import build  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("colab")]
STACK = ("tensorflow", "tensorflow-probability", "tf-keras", "keras", "numpy")

# Runs the setup cell (argv[1]) in IPython, `runs` times in one kernel, and reports what a student would see.
RUNNER = """
import json, os, sys
import google.colab  # Colab's kernel has imported it before any cell runs
from IPython.core.interactiveshell import InteractiveShell

source, runs, folder, site = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3], sys.argv[4]


def state():
    found = [os.path.join(d, p) for d in (folder, site) if os.path.isdir(d) for p in os.listdir(d)]
    return sorted((p, os.stat(p).st_mtime_ns) for p in found)


shell = InteractiveShell.instance()
for run in range(runs):
    before = state()
    print(f"@@run {run}", flush=True)
    result = shell.run_cell(source)
    dgm = getattr(sys.modules.get("dgm"), "__file__", None)
    report = {"ok": result.success, "error": type(result.error_in_exec).__name__, "unchanged": state() == before}
    print("@@result " + json.dumps({**report, "dgm": dgm}), flush=True)
"""


def _cell(repository: str, folder: Path) -> str:
    """The generated setup cell with its two address lines pointed at a local clone."""
    source = build.setup_source(settings.student_edition_url())
    source, n = re.subn(
        r'^COURSE_REPOSITORY = ".*"$', f"COURSE_REPOSITORY = {json.dumps(repository)}", source, count=1, flags=re.M
    )
    source, m = re.subn(
        r'^COURSE_FOLDER = "(.*)"', f"COURSE_FOLDER = {json.dumps(str(folder))}", source, count=1, flags=re.M
    )
    assert n == m == 1, "the setup cell's COURSE_REPOSITORY / COURSE_FOLDER lines changed: update this test"
    return source


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A Colab-like runtime: (python, its site-packages, the student edition's file:// address, tmp)."""
    tmp = tmp_path_factory.mktemp("colab")
    published = tmp / "dgm-course-student"
    edition.write(published)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.org", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Student edition"]):
        subprocess.run([*git, *command], cwd=published, check=True, capture_output=True)
    stub = tmp / "stub" / "google" / "colab"
    stub.mkdir(parents=True)
    # `google` stays a namespace package, as on Colab: TensorFlow imports `google.protobuf` from the environment.
    (stub / "__init__.py").write_text(
        '"""Stands for Colab\'s own package: its presence is what the setup cell reads."""\n'
    )
    # A throwaway environment that sees the project's TensorFlow but installs into itself (no pip of its own:
    # `python -m pip` is the project's pip, installing into sys.prefix, the throwaway one).
    venv = tmp / "runtime"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())  # fmt: skip
    (site / "project_stack.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python, site, published.as_uri(), tmp


def _run(colab, source: str, runs: int, folder: Path, cwd: Path):
    python, site, _, tmp = colab
    (tmp / "cell.py").write_text(source)
    (tmp / "runner.py").write_text(RUNNER)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "PYTHONPATH": str(tmp / "stub"), "DGM_MODE": "fast",
           "TF_CPP_MIN_LOG_LEVEL": "3"}  # fmt: skip
    cwd.mkdir(exist_ok=True)
    done = subprocess.run(
        [python, tmp / "runner.py", tmp / "cell.py", str(runs), folder, site],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout + done.stderr
    parts = re.split(r"^@@run \d+$", done.stdout, flags=re.M)[1:]
    results = [json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines() if line.startswith("@@result")]
    assert len(results) == runs, f"the runner stopped early (exit {done.returncode}):\n{out[-3000:]}"
    return parts, results, out


def _stack(python) -> dict[str, str]:
    """Name, version and folder of TensorFlow, TFP, tf-keras, Keras and NumPy, as the runtime sees them."""
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: [m.version(n), str(m.distribution(n).locate_file(''))] for n in sys.argv[1:]}))"
    )
    return json.loads(subprocess.check_output([python, "-c", code, *STACK], text=True))


def test_setup_cell_clones_installs_and_imports_once(colab):
    python, site, address, tmp = colab
    folder = tmp / "content" / "dgm-course-student"
    stack_before, project_before = _stack(python), _stack(sys.executable)
    parts, results, out = _run(colab, _cell(address, folder), 2, folder, tmp / "content")
    first, second = parts
    assert results[0]["ok"], f"the setup cell failed on the first run:\n{out[-3000:]}"
    assert "Colab: cloning" in first and "where: Colab" in first and "mode: FAST" in first, first
    assert "Colab, FAST mode" in first and "DGM_MODE=full" in first, "the setup output explains FAST on Colab"
    assert (folder / ".git").is_dir() and (folder / "dgm" / "__init__.py").is_file(), "the edition was cloned"
    assert results[0]["dgm"] == str(folder / "dgm" / "__init__.py"), f"dgm imported from {results[0]['dgm']}"
    installed = [p.name for p in site.iterdir()]
    assert any(n.startswith("dgm_course_student") for n in installed), f"dgm not installed: {installed}"
    assert not {"tensorflow", "keras", "numpy", "tensorflow_probability"} & set(installed), installed
    assert _stack(python) == stack_before and _stack(sys.executable) == project_before, "TensorFlow was touched"
    # The second run of the cell (the same runtime): no clone, no pip, nothing changed; dgm still imports.
    assert results[1]["ok"] and results[1]["unchanged"], f"the second run changed files:\n{second}"
    assert "Colab: cloning" not in second and "where: Colab" in second, second


@pytest.mark.parametrize("broken", ["address", "package"])
def test_a_failed_setup_says_what_to_do_without_a_traceback(colab, broken):
    python, site, address, tmp = colab
    if broken == "address":
        repository, step = (tmp / "no-such-course").as_uri(), "cloning the course"
    else:  # a repository that clones but holds no Python project: pip fails
        empty = tmp / "not-a-course"
        empty.mkdir(exist_ok=True)
        (empty / "README.md").write_text("not the course\n")
        git = ["git", "-c", "user.name=x", "-c", "user.email=x@example.org"]
        for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
            subprocess.run([*git, *command], cwd=empty, check=True, capture_output=True)
        repository, step = empty.as_uri(), "installing its helper package dgm"
    folder = tmp / f"content-{broken}" / "dgm-course-student"
    parts, results, out = _run(colab, _cell(repository, folder), 1, folder, folder.parent)
    assert not results[0]["ok"] and results[0]["error"] == "SetupError", out[-3000:]
    assert f"Setup failed while {step}" in out and "What to do:" in out and "run this cell again" in out, out
    assert "Traceback" not in out and "CalledProcessError" not in out, f"a raw traceback was shown:\n{out}"
    assert not folder.exists(), "a half-done setup is removed, so that running the cell again retries it"


def test_colab_advice_says_how_to_change_runtime_and_mode():
    cpu = config.colab_advice("FULL", gpu=False)
    assert "T4 GPU" in cpu and "%env DGM_MODE=fast" in cpu and "hour" in cpu
    assert "%env DGM_MODE=fast" in config.colab_advice("FULL", gpu=True)
    assert "%env DGM_MODE=full" in config.colab_advice("FAST", gpu=False)
