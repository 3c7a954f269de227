"""Step 1, release: the student lab in labs/<lab>/, and its cells (hidden tests included) in the gradebook."""

from __future__ import annotations

from grading import settings


def run(args) -> int:
    result = settings.generate_assignment(args.lab)
    print(result.stdout + result.stderr if result.returncode else f"released {args.lab} into labs/{args.lab}/")
    return result.returncode
