"""What went wrong for each student, step by step, kept in ``$DGM_GRADING_DIR/problems/<lab>.json``.

Every step records problems here instead of stopping: the rest of the class is still graded, and
``report`` prints each student's problems under their score.
"""

from __future__ import annotations

import json

from grading import settings


class Problems:
    """Per-student problems of one lab, kept in $DGM_GRADING_DIR/problems/<lab>.json."""

    def __init__(self, lab: str):
        self.path = settings.grading_dir() / "problems" / f"{lab}.json"
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
