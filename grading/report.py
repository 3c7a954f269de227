"""Step 6, export and report: the lab's grades as CSV, and the class report (each student's score and
every problem found, by step)."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

from grading import settings
from grading.problems import Problems
from grading.submissions import students


def export(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        result = settings.nbgrader("export", f"--to={Path(tmp) / 'all.csv'}")
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


def class_report(lab: str) -> str:
    from nbgrader.api import Gradebook

    problems = Problems(lab).data
    rows = []
    with Gradebook(settings.gradebook_url()) as gb:
        assignment = gb.find_assignment(lab)
        auto = sum(c.max_score for nb in assignment.notebooks for c in nb.grade_cells if c.cell_type == "code")
        total = assignment.max_score
        names = sorted(set(students(lab)) | {s.student.id for s in assignment.submissions} | set(problems) - {"?", "!"})
        for name in names:
            try:
                sub = gb.find_submission(lab, name)
                score, manual = f"{sub.score:g}/{total:g}", " (+ by hand)" if sub.needs_manual_grade else ""
            except Exception:  # noqa: BLE001
                score, manual = "not graded", ""
            rows.append((name, score + manual, problems.get(name, [])))
    # Class-wide warnings first ("!": e.g. graded without the sandbox), where nobody can miss them.
    lines = [f"WARNING: {p['step']}: {p['problem']}" for p in problems.get("!", [])]
    lines.append(f"{lab}: {len(rows)} students; {auto:g} points autograded, {total - auto:g} by hand")
    for name, score, found in rows:
        lines.append(f"{name:<24} {score}")
        lines += [f"    {p['step']}: {sentence(p['problem'], score)}" for p in found]
    for p in problems.get("?", []):
        lines.append(f"(unassigned) {p['step']}: {p['problem']}")
    stops = ("autograde failed", "grading stopped", "nothing to grade")
    failed = [n for n, s, f in rows if s == "not graded" or any(p["problem"].startswith(stops) for p in f)]
    lines.append(f"grading failed for {len(failed)}: {', '.join(failed) or '-'}")
    collected = Problems(lab).path.with_name(f"{lab}.collected.json")
    if collected.exists():  # every file of the zip that collect read, and where it went
        manifest = json.loads(collected.read_text())
        lines.append(f"files in the zip: {len(manifest)}")
        lines += [f"    {member} -> {where}" for member, where in manifest.items()]
    return "\n".join(lines)


def sentence(problem: str, score: str) -> str:
    """A problem as the report says it: a stopped grading names the score the gradebook holds."""
    score = score.split(" (")[0]  # without "(+ by hand)"
    return problem.replace("scored 0 where not graded", f"scored {score} on the cells graded before it stopped")


def run(args) -> int:
    print(class_report(args.lab))
    return 0
