"""Step 2, collect: submissions from an nbgrader exchange, or from a zip of notebooks (Colab
downloads, an LMS export), into ``$DGM_GRADING_DIR/submitted/<student>/<lab>/``.

In a zip, the student id comes from each file's path by ``--id-rule``: a regular expression whose group
``id`` (or first group) is the id; by default the first folder, or the file name up to its first
``_``. Several files for one student: the newest is kept, and the report says so.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from grading import settings
from grading.problems import Problems


def student_id(member: str, rule: str) -> tuple[str | None, str]:
    """(student id, file name) of a path in the zip; the id's part of the file name is dropped."""
    match = re.search(rule, member)
    base = Path(member).name
    if not match:
        return None, base
    groups = {k: v for k, v in match.groupdict().items() if v}
    value = next(iter(groups.values()), None) or next((g for g in match.groups() if g), None)
    if match.end() > len(member) - len(base):  # the id was taken from the file name itself
        base = member[match.end() :].lstrip("_- ") or base
    sid = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") if value else ""
    return sid or None, base


def run(args) -> int:
    problems = Problems(args.lab)
    if args.exchange:
        result = settings.nbgrader("collect", args.lab, "--update")
        print(result.stdout + result.stderr)
        return result.returncode
    submitted = settings.grading_dir() / "submitted"
    kept: dict[str, tuple] = {}
    with zipfile.ZipFile(args.zip) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or not name.endswith(".ipynb") or "__MACOSX" in name or "/." in "/" + name:
                continue
            sid, base = student_id(name, args.id_rule)
            if not sid:
                problems.add("?", "collect", f"no student id in {name!r} (id rule {args.id_rule!r}): skipped")
                continue
            if sid in kept:
                older, newer = sorted([kept[sid], (info.date_time, name, info, base)], key=lambda t: t[:2])
                problems.add(sid, "collect", f"several files ({older[1]!r}, {newer[1]!r}): kept the newest")
                kept[sid] = newer
            else:
                kept[sid] = (info.date_time, name, info, base)
        for sid, (stamp, name, info, base) in sorted(kept.items()):
            folder = submitted / sid / args.lab
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / base).write_bytes(archive.read(info))
            (folder / "timestamp.txt").write_text(datetime(*stamp).strftime("%Y-%m-%d %H:%M:%S"))
            print(f"  {sid}: {name}")
    problems.save()
    print(f"collected {len(kept)} submissions of {args.lab} into {submitted}")
    return 0
