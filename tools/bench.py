"""Benchmark (``make bench``): how long each notebook takes and how good its models are, in BENCHMARK.md.

Speed (FAST mode). Per lecture: seconds to execute it top to bottom on a fresh kernel. Per lab: seconds
to execute the solved lab, and seconds per submission to grade the same notebook with plain nbgrader
autograde and with the instructor command (python -m grading, sandboxed), in a temporary course, with the
ratios to plain execution (the grading overhead).

Quality. A lecture that trains a model leaves its measurements in a dict ``RESULTS``. Three operating
points (docs/design.md, "Quality targets"): the FAST run above (what CI asserts); "60 s": FULL data
with every training stopped before 60 s (``DGM_TRAIN_SECONDS=60``), meant for two CPU cores; "FULL":
FULL mode as a student runs it, only measured when a GPU is visible (``--full`` forces it).

A benchmark, not a test: it asserts nothing; it reports what it measured, and on what machine.
Usage: ``python tools/bench.py [--only NAME ...] [--no-speed] [--no-quality] [--full]``.
"""

from __future__ import annotations

import argparse
import json
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # this process imports TensorFlow to describe the machine
from grading.course import ROOT, Course, filled, isolated_env

MARK = "BENCH-RESULTS "
REPORT_CELL = f'import json as _json\nprint("{MARK}" + _json.dumps(globals().get("RESULTS")))'

# Quality targets: lecture -> [(what, RESULTS key, scale, {operating point: (comparison, target)})].
# Scale turns the stored value into the reported one (a rate as a percentage, a log-likelihood as an NLL).
TARGETS = {
    "05_vae": [
        ("VAE test ELBO (nats)", "test_elbo", 1, {"fast": (">=", -130), "60s": (">=", -100)}),
        ("VAE NLL, importance sampled (nats)", "test_log_likelihood", -1, {"full": ("<=", 86.5)}),
        ("VAE active units", "active_units", 1, {}),
    ],
    "06_cvae": [
        ("CVAE requested digit recognised (%)", "recognition_rate", 100, {"60s": (">=", 80), "full": (">=", 95)}),
        ("CVAE -log p(x|y), importance sampled (nats)", "test_log_likelihood", -1, {"full": ("<=", 82.3)}),
        ("CVAE classifier test accuracy (%)", "classifier_accuracy", 100, {}),
    ],
}
POINTS = {"fast": "FAST (CI check)", "60s": "60 s of training", "full": "FULL"}


def execute(nb, cwd: Path, env: dict[str, str], timeout: int = 1800) -> float:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_lecture(path: Path, env: dict[str, str]) -> tuple[float, dict | None]:
    """Execute a lecture with a report cell appended; returns its seconds and its RESULTS, if any."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    seconds = execute(nb, path.parent, env)
    for output in nb.cells[-1].get("outputs", []):
        if output.get("output_type") == "stream" and MARK in output.get("text", ""):
            return seconds, json.loads(output["text"].split(MARK, 1)[1])
    return seconds, None


def has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


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

    gpus = tf.config.list_physical_devices("GPU")
    device = ", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus)
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"{device or 'CPU only'}"
    )


def speed(env: dict[str, str], tmp: Path, only: list[str], quality: dict) -> list[tuple]:
    rows = []
    for path in sorted((ROOT / "lectures").glob("*.ipynb")):
        if only and path.stem not in only:
            continue
        seconds, results = run_lecture(path, env)
        if results:
            quality.setdefault(path.stem, {})["fast"] = results
        rows.append((f"lectures/{path.name}", seconds, None, None))
        print(rows[-1], flush=True)
    course = Course(tmp / "course")
    for folder in sorted(p for p in (ROOT / "solutions").iterdir() if p.is_dir()):
        assignment = folder.name
        if only and assignment not in only:
            continue
        course.generate(assignment)
        solved = filled(course.lab(assignment), course.solution(assignment))
        plain = execute(nbformat.from_dict(solved), tmp, {**env, "NBGRADER_EXECUTION": "autograde"})
        course.submit(assignment, "bench", solved)
        start = time.perf_counter()
        course.autograde(assignment, "--student=bench")
        graded = time.perf_counter() - start
        # What instructors run: python -m grading, each submission in the bubblewrap sandbox.
        course.submit(assignment, "sandboxed", solved)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "grading", "autograde", assignment, "--student=sandboxed"],
            cwd=course.root,
            env=course.env,
            capture_output=True,
            check=True,
        )
        rows.append((f"labs/{assignment}", plain, graded, time.perf_counter() - start))
        print(rows[-1], flush=True)
    return rows


def speed_table(rows: list[tuple]) -> list[str]:
    lines = [
        "## Speed (FAST mode)",
        "",
        "*Execute*: the notebook top to bottom on a fresh kernel (a lab: its solved version).",
        "*nbgrader autograde*: `nbgrader autograde` of one solved submission, kernel start and gradebook",
        "included. *grading autograde*: the instructor command (`make grade`), the kernel in the bubblewrap",
        "sandbox. *Overhead*: each over plain execution of the same notebook (goal: at most 1.2×).",
        "",
        "| notebook | execute (s) | nbgrader autograde (s) | overhead | grading autograde, sandboxed (s) | overhead |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, seconds, graded, sandboxed in rows:
        if graded is None:
            lines.append(f"| {name} | {seconds:.1f} | | | | |")
        else:
            lines.append(
                f"| {name} | {seconds:.1f} | {graded:.1f} | {graded / seconds:.2f}× "
                f"| {sandboxed:.1f} | {sandboxed / seconds:.2f}× |"
            )
    return lines


def _cell(results: dict | None, key: str, scale: float, target: tuple | None) -> str:
    if results is None:
        return "not yet measured"
    if results.get(key) is None:
        return "not reported"
    value = results[key] * scale
    text = f"{value:.0f}" if isinstance(results[key], int) else f"{value:.1f}"
    if target:
        op, bound = target
        ok = value >= bound if op == ">=" else value <= bound
        text += f" ({'meets' if ok else 'misses'} {op} {bound})"
    return text


def quality_table(quality: dict, seconds: dict) -> list[str]:
    lines = [
        "## Quality (dynamically binarised MNIST)",
        "",
        "*FAST (CI check)*: the FAST run above (5,000 training images, short training). *60 s of training*:",
        "FULL data, each training in the lecture stopped before 60 s (`DGM_TRAIN_SECONDS=60`), on this",
        'machine. *FULL*: the lecture in FULL mode, measured only on a GPU; otherwise "not yet measured".',
        "Importance-sampled likelihoods use the k and the number of test images each run reports below.",
        "",
        "| measure | " + " | ".join(POINTS.values()) + " |",
        "|---|" + "---|" * len(POINTS),
    ]
    for stem, rows in TARGETS.items():
        for what, key, scale, targets in rows:
            cells = [_cell(quality.get(stem, {}).get(p), key, scale, targets.get(p)) for p in POINTS]
            lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines += ["", "Runs (lecture, operating point: wall seconds, what the lecture reported):", ""]
    for stem, runs in quality.items():
        for point, results in runs.items():
            wall = seconds.get((stem, point))
            wall_text = f"{wall:.0f} s" if wall else "see the speed table"
            lines.append(f"- `{stem}`, {POINTS[point]}: {wall_text}; `{json.dumps(results)}`")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="lecture stems or lab names (default: all)")
    parser.add_argument("--no-speed", action="store_true", help="skip the FAST speed table")
    parser.add_argument("--no-quality", action="store_true", help="skip the 60 s and FULL quality runs")
    parser.add_argument("--full", action="store_true", help="run FULL even without a GPU (slow)")
    args = parser.parse_args()
    quality: dict = {}
    seconds: dict = {}
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = isolated_env(tmp / "home")
        env["DGM_MODE"] = "fast"
        if not args.no_speed:
            rows = speed(env, tmp, args.only, quality)
        if not args.no_quality:
            points = {"60s": {"DGM_MODE": "full", "DGM_TRAIN_SECONDS": "60"}}
            if args.full or has_gpu():
                points["full"] = {"DGM_MODE": "full"}
            for stem in TARGETS:
                if args.only and stem not in args.only:
                    continue
                path = ROOT / "lectures" / f"{stem}.ipynb"
                for point, extra in points.items():
                    wall, results = run_lecture(path, {**env, **extra})
                    quality.setdefault(stem, {})[point] = results
                    seconds[(stem, point)] = wall
                    print(stem, point, f"{wall:.0f} s", results, flush=True)
    lines = ["# Benchmark", "", f"Written by `make bench` on {date.today().isoformat()}; machine: {machine()}.", ""]
    if rows:
        lines += speed_table(rows) + [""]
    if quality:
        lines += quality_table(quality, seconds)
    (ROOT / "BENCHMARK.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
