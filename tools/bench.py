"""Benchmark (``make bench``): how long each notebook takes, written to BENCHMARK.md.

Per lecture: seconds to execute it top to bottom in FAST mode on a fresh kernel.
Per lab: seconds to execute the solved lab in FAST mode, and seconds per submission to grade the same
notebook with plain nbgrader autograde and with the instructor command (tools/grade.py, sandboxed),
in a temporary course, with the ratios to plain execution (the grading overhead).
A benchmark, not a test: it asserts nothing; it reports what it measured, and on what machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from course import ROOT, Course, filled, isolated_env  # noqa: E402


def execute_seconds(nb, cwd: Path, env: dict[str, str]) -> float:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import tensorflow as tf

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, TensorFlow {tf.__version__}, "
            f"{'GPU' if tf.config.list_physical_devices('GPU') else 'CPU only'}")


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = isolated_env(tmp / "home")
        env["DGM_MODE"] = "fast"
        for path in sorted((ROOT / "lectures").glob("*.ipynb")):
            seconds = execute_seconds(nbformat.read(path, as_version=4), path.parent, env)
            rows.append((f"lectures/{path.name}", seconds, None, None))
            print(rows[-1], flush=True)
        course = Course(tmp / "course")
        for folder in sorted(p for p in (ROOT / "solutions").iterdir() if p.is_dir()):
            assignment = folder.name
            course.generate(assignment)
            solved = filled(course.lab(assignment), course.solution(assignment))
            plain = execute_seconds(nbformat.from_dict(solved), tmp, {**env, "NBGRADER_EXECUTION": "autograde"})
            course.submit(assignment, "bench", solved)
            start = time.perf_counter()
            course.autograde(assignment, "--student=bench")
            graded = time.perf_counter() - start
            # What instructors run: tools/grade.py, each submission in the bubblewrap sandbox.
            course.submit(assignment, "sandboxed", solved)
            start = time.perf_counter()
            subprocess.run([sys.executable, "tools/grade.py", "autograde", assignment, "--student=sandboxed"],
                           cwd=course.root, env=course.env, capture_output=True, check=True)
            rows.append((f"labs/{assignment}", plain, graded, time.perf_counter() - start))
            print(rows[-1], flush=True)
    lines = [
        "# Benchmark",
        "",
        f"Written by `make bench` on {date.today().isoformat()}; machine: {machine()}.",
        "",
        "FAST mode. *Execute*: the notebook top to bottom on a fresh kernel (a lab: its solved version).",
        "*nbgrader autograde*: `nbgrader autograde` of one solved submission, kernel start and gradebook",
        "included. *grade.py autograde*: the instructor command (`make grade`), the kernel in the bubblewrap",
        "sandbox. *Overhead*: each over plain execution of the same notebook (goal: at most 1.2×).",
        "",
        "| notebook | execute (s) | nbgrader autograde (s) | overhead | grade.py autograde, sandboxed (s) | overhead |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, seconds, graded, sandboxed in rows:
        if graded is None:
            lines.append(f"| {name} | {seconds:.1f} | | | | |")
        else:
            lines.append(f"| {name} | {seconds:.1f} | {graded:.1f} | {graded / seconds:.2f}× "
                         f"| {sandboxed:.1f} | {sandboxed / seconds:.2f}× |")
    (ROOT / "BENCHMARK.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
