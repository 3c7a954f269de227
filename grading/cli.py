"""The instructor's commands, one per step: ``python -m grading STEP LAB`` from the course folder.

    python -m grading release   lab02_kl                  # gradebook (with hidden tests) and labs/lab02_kl/
    python -m grading collect   lab02_kl --exchange       # from a JupyterHub/nbgrader exchange
    python -m grading collect   lab02_kl --zip subs.zip   # or a zip of .ipynb (Colab downloads, an LMS export)
    python -m grading check     lab02_kl                  # repair what can be repaired, report the rest
    python -m grading autograde lab02_kl                  # one nbgrader process per student, in a sandbox
    python -m grading feedback  lab02_kl                  # HTML feedback without the hidden tests
    python -m grading export    lab02_kl --to grades.csv
    python -m grading report    lab02_kl                  # score per student, and every problem found

Every step goes through the real nbgrader command line (so nbgrader_config.py applies) and never stops
at a bad submission: what goes wrong for one student is recorded in
``$DGM_GRADING_DIR/problems/<lab>.json`` and printed by ``report``. Settings: grading/settings.py.
"""

from __future__ import annotations

import argparse
import sys

from grading import autograde, check, collect, feedback, release, report, settings

# The commands, in the order an instructor runs them: name -> (what it does, function).
COMMANDS = {
    "release": ("record the lab and its hidden tests in the gradebook; write labs/LAB/", release.run),
    "collect": ("gather submissions from the exchange or a zip", collect.run),
    "check": ("repair submitted notebooks, report what cannot be repaired", check.run),
    "autograde": ("grade each submission in the sandbox, under time limits", autograde.run),
    "feedback": ("HTML feedback per student, without the hidden tests", feedback.run),
    "export": ("the lab's grades as CSV", report.export),
    "report": ("each student's score and every problem found", report.run),
}


def parser() -> argparse.ArgumentParser:
    out = argparse.ArgumentParser(
        prog="python -m grading", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    steps = out.add_subparsers(dest="command", required=True, metavar="STEP")
    for name, (help_text, function) in COMMANDS.items():
        step = steps.add_parser(name, help=help_text, description=help_text)
        step.add_argument("lab", help="the assignment, e.g. lab02_kl")
        step.set_defaults(run=function)
        if name == "collect":
            source = step.add_mutually_exclusive_group(required=True)
            source.add_argument("--zip", help="a zip of .ipynb files (Colab downloads, an LMS export)")
            source.add_argument("--exchange", action="store_true", help="nbgrader collect from the exchange")
            step.add_argument(
                "--id-rule", default=settings.ID_RULE, help="regex on each path; group 'id' (or the first) is the id"
            )
        if name in ("check", "autograde"):
            step.add_argument("--student", action="append", help="only this student (repeatable)")
        if name == "autograde":
            step.add_argument("--timeout", type=float, help="seconds per submission (default: notebook limit + 120)")
            step.add_argument(
                "--jobs",
                type=int,
                default=settings.GRADING_JOBS,
                help=f"submissions graded at once, one process each (SQLite gradebook: at most {settings.SQLITE_JOBS})",
            )
            step.add_argument(
                "--scheduler",
                default=settings.SCHEDULER,
                help="run the jobs on Dask: 'local' (a LocalCluster of --jobs workers) or a scheduler address "
                "(tcp://host:8786; needs a PostgreSQL gradebook, DGM_GRADEBOOK_URL); default: this machine",
            )
            step.add_argument(
                "--unsandboxed",
                action="store_true",
                help="where the sandbox cannot run (no bwrap), grade anyway WITHOUT it: student code runs with your "
                "rights (the report says so at the top); without this flag grading refuses",
            )
        if name == "export":
            step.add_argument("--to", default="grades.csv", help="the CSV file to write")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings.grading_dir().mkdir(parents=True, exist_ok=True)  # nbgrader makes the gradebook, not its folder
    if not settings.gradebook_url().startswith("sqlite"):  # a database server: ready before nbgrader uses it
        autograde.open_gradebook(settings.gradebook_url())
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
