"""Lectures are written for students: no developer notes, and every figure says what it shows.

Static checks on the text twins (`source/lectures/*.py`), so they cost nothing to run: students do not
have the slides the course grew from, nor the benchmark, nor the CI machine, so a lecture must not
talk about them; and a figure without a title or axis labels leaves a student guessing what is drawn.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TWINS = sorted((ROOT / "source" / "lectures").glob("[0-9][0-9]_*.py"))

# What a student must not read (in prose or in code comments), and why each phrase is a sign of it.
FORBIDDEN = {
    r"\bslides?\b": "the slides, which students do not have (write a correction as a common mistake)",
    r"for the benchmark|benchmark reads|BENCHMARK\.md|\bbench\.py": "the benchmark, a developer tool",
    r"\bCPU cores here\b|\bmeasured here\b|\bon this machine\b": "a developer's timing on their machine",
    r"\(tests, CI\)|\bin CI\b|\bCI\)": "the continuous-integration machine",
    r"\bTODO\b|\bFIXME\b|\bXXX\b": "a developer's note",
    r"^# ## Results\s*$": "a results section for the benchmark (build RESULTS quietly; summarise for the student)",
}

# A cell that draws a figure, and what it must contain. Per cell and by name, so a cell that makes a
# figure in a loop or in a widget's draw function passes with one call of each.
DRAWS = re.compile(r"plt\.subplots\(|plt\.figure\(|image_grid\(|plt\.plot\(|plt\.imshow\(")
# `plotting.image_grid` refuses an empty title, so a call of it is titled.
TITLED = re.compile(r"set_title\(|suptitle\(|plt\.title\(|image_grid\(|densities\([^#]*title=")
LABELLED = re.compile(r"set_xlabel\(|plt\.xlabel\(|densities\(|image_grid\(|\.axis\(\"off\"\)|set_axis_off\(")


def cells(path):
    """(first line number, marker line, body) of each `# %%` cell of a twin."""
    found, start, marker, body = [], 1, "", []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("# %%"):
            found.append((start, marker, "\n".join(body)))
            start, marker, body = number, line, []
        else:
            body.append(line)
    found.append((start, marker, "\n".join(body)))
    return found


def test_there_are_lectures_to_check():
    assert len(TWINS) >= 9, f"expected the lecture twins in source/lectures, found {[p.name for p in TWINS]}"


@pytest.mark.parametrize("path", TWINS, ids=lambda p: p.stem)
def test_lecture_has_no_developer_notes(path):
    problems = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        for pattern, why in FORBIDDEN.items():
            if re.search(pattern, line, flags=re.IGNORECASE):
                problems.append(f"{path.name}:{number}: {line.strip()!r} speaks of {why}")
    assert not problems, "lectures are for students:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", TWINS, ids=lambda p: p.stem)
def test_every_figure_has_a_title_and_labelled_axes(path):
    problems = []
    for number, marker, body in cells(path):
        if "[markdown]" in marker or not DRAWS.search(body):
            continue
        if not TITLED.search(body):
            problems.append(f"{path.name}:{number}: a figure without a title (set_title, suptitle, title=)")
        if not LABELLED.search(body):
            problems.append(f"{path.name}:{number}: a figure without axis labels (set_xlabel, or axis('off'))")
    assert not problems, "every figure says what it shows:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The two checks fail on a lecture that speaks of the slides and draws an untitled, unlabelled plot."""
    bad = tmp_path / "99_bad.py"
    bad.write_text(
        "# %% [markdown]\n# As the slides show, this takes 3 s on two CPU cores here.\n"
        "# %%\nfig, ax = plt.subplots()\nax.plot(x, y)\n"
        "# %%\nwidgets.explore(draw, m=widgets.slider(0.0, -1, 1, 0.1, 'm'))\n"
    )
    with pytest.raises(AssertionError, match="the slides"):
        test_lecture_has_no_developer_notes(bad)
    with pytest.raises(AssertionError, match="without a title") as failure:
        test_every_figure_has_a_title_and_labelled_axes(bad)
    assert "without axis labels" in str(failure.value)
    good = tmp_path / "99_good.py"
    good.write_text(
        "# %%\nfig, ax = plt.subplots()\nax.plot(x, y)\nax.set_xlabel('x')\nax.set_title('y against x')\n"
        "# %%\nwidgets.explore(draw, m=widgets.slider(0.0, -1, 1, 0.1, 'm'))\n"
    )
    test_lecture_has_no_developer_notes(good)
    test_every_figure_has_a_title_and_labelled_axes(good)
