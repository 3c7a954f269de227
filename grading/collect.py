"""Step 2, collect: submissions from an nbgrader exchange, or from a zip of notebooks (Colab
downloads, an LMS export), into ``$DGM_GRADING_DIR/submitted/<student>/<lab>/``.

In a zip, the student id comes from each file's path by ``--id-rule``: a regular expression whose group
``id`` (or first group) is the id; by default the first folder, or the file name up to its first
``_``. Ids keep every letter of the name (José, Josè and 汉字 are three ids): the name is normalised
(Unicode NFC, so a name spelt with combining accents, as macOS zips do, is the same name), and only
what is neither a letter, a digit nor ``.``, ``_``, ``-`` becomes ``_``. A name with nothing left
gets an id from its hash. Two different names that still map to one id are both kept (the second
with its hash appended) and reported. Several files for one student: the newest is kept, and the
report says so. Every file of the zip is listed with where it went, in
``$DGM_GRADING_DIR/problems/<lab>.collected.json`` and in the report.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

from grading import settings
from grading.problems import Problems


def slug(name: str) -> str:
    """A folder-safe id that keeps every letter: 'José Pérez' -> 'José_Pérez', '汉字' -> '汉字'."""
    name = unicodedata.normalize("NFC", name)
    kept = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return re.sub(r"_+", "_", kept).strip("._-")


def hashed(name: str) -> str:
    return hashlib.sha256(unicodedata.normalize("NFC", name).encode()).hexdigest()[:8]


def student_name(member: str, rule: str) -> tuple[str | None, str]:
    """(the student's name as written in the path, file name) of a path in the zip."""
    match = re.search(rule, member)
    base = Path(member).name
    if not match:
        return None, base
    groups = {k: v for k, v in match.groupdict().items() if v}
    value = next(iter(groups.values()), None) or next((g for g in match.groups() if g), None)
    if match.end() > len(member) - len(base):  # the id was taken from the file name itself
        base = member[match.end() :].lstrip("_- ") or base
    return (unicodedata.normalize("NFC", value.strip()) or None) if value else None, base


def student_id(member: str, rule: str) -> tuple[str | None, str]:
    """(student id, file name) of a path in the zip; the id's part of the file name is dropped."""
    name, base = student_name(member, rule)
    return (None if name is None else slug(name) or f"student-{hashed(name)}"), base


def assign_ids(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """An id for each distinct name, never the same for two names; and a sentence for each collision."""
    ids, taken, notes = {}, {}, []
    for name in sorted(set(names)):
        sid = slug(name) or f"student-{hashed(name)}"
        if not slug(name):
            notes.append(f"the name {name!r} has no letter or digit: its id is {sid}")
        if sid in taken:
            other, sid = taken[sid], f"{sid}-{hashed(name)}"
            notes.append(
                f"the names {other!r} and {name!r} both map to the id {slug(name)!r}: both kept, {name!r} as {sid}"
            )
        taken.setdefault(sid, name)
        ids[name] = sid
    return ids, notes


def run(args) -> int:
    problems = Problems(args.lab)
    if args.exchange:
        result = settings.nbgrader("collect", args.lab, "--update")
        print(result.stdout + result.stderr)
        return result.returncode
    problems.reset("collect")
    submitted = settings.grading_dir() / "submitted"
    manifest: dict[str, str] = {}  # every file of the zip -> where it went, or why not
    found: list[tuple[str, tuple, str, zipfile.ZipInfo, str]] = []
    with zipfile.ZipFile(args.zip) as archive:
        for info in archive.infolist():
            member = info.filename
            if info.is_dir():
                continue
            if "__MACOSX" in member or "/." in "/" + member:
                manifest[member] = "skipped: operating-system metadata, not a submission"
                continue
            if not member.endswith(".ipynb"):
                manifest[member] = "skipped: not a .ipynb file"
                continue
            name, base = student_name(member, args.id_rule)
            if not name:
                manifest[member] = f"skipped: no student name in the path (id rule {args.id_rule!r})"
                problems.add("?", "collect", f"no student name in {member!r} (id rule {args.id_rule!r}): skipped")
                continue
            found.append((name, info.date_time, member, info, base))
        ids, notes = assign_ids([f[0] for f in found])
        for note in notes:
            problems.add("?", "collect", note)
        kept: dict[str, tuple] = {}
        for name, stamp, member, info, base in found:
            sid = ids[name]
            if sid in kept:
                older, newer = sorted([kept[sid], (stamp, member, info, base)], key=lambda t: t[:2])
                problems.add(sid, "collect", f"several files ({older[1]!r}, {newer[1]!r}): kept the newest")
                manifest[older[1]] = f"not graded: {newer[1]!r} of the same student is newer"
                kept[sid] = newer
            else:
                kept[sid] = (stamp, member, info, base)
        for sid, (stamp, member, info, base) in sorted(kept.items()):
            folder = submitted / sid / args.lab
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / base).write_bytes(archive.read(info))
            (folder / "timestamp.txt").write_text(datetime(*stamp).strftime("%Y-%m-%d %H:%M:%S"))
            manifest[member] = f"{sid}/{args.lab}/{base}"
            print(f"  {sid}: {member}")
    path = problems.path.with_name(f"{args.lab}.collected.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(manifest.items())), indent=1, ensure_ascii=False) + "\n")
    problems.save()
    print(f"collected {len(kept)} submissions of {args.lab} into {submitted} (every file: {path})")
    return 0
