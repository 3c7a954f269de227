"""The course website: every lecture as executed in FAST mode, rendered by Sphinx and MyST-NB.

    python tools/site.py   # `make site`: build build/site/ (open build/site/index.html)

The lectures are not run again when the tests already ran them: `tests/test_notebooks.py` saves each
lecture it executes in FAST mode to ``build/executed/NAME.ipynb``, stamped with the SHA-256 of the
generated notebook it ran. Only a lecture whose executed copy is missing or stale (its notebook has
changed since) is executed here, with one progress line per lecture. Sphinx then renders the copies
as they are (``nb_execution_mode = "off"``, `site/conf.py`).

Nothing is fetched from the internet when a page is read: MathJax 3 comes from the PyPI package
``sphinx-mathjax-offline`` and is copied into the site, the theme's fonts and scripts are its own
static files, and the Colab badge image is a local copy (`site/colab-badge.svg`). Widgets
are drawn once, headless, as the static figure of their initial state (``dgm.widgets.explore``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grading import settings

ROOT = settings.REPOSITORY_ROOT
CONFIG = ROOT / "site"  # conf.py, the index page's text and the static files, committed
EXECUTED = ROOT / "build" / "executed"  # lectures executed in FAST mode (the tests write them)
SOURCES = ROOT / "build" / "site-src"  # what Sphinx reads, generated at each build
SITE = ROOT / "build" / "site"  # the website
STAMP = "dgm_executed"  # notebook metadata key: what an executed copy was executed from
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "colab-badge.svg"  # in site/: the same badge, served by the site itself


def lectures() -> list[Path]:
    return sorted((ROOT / settings.LECTURES).glob("*.ipynb"))


def fingerprint(notebook: Path) -> str:
    """The SHA-256 of a generated notebook: an executed copy is current while this is unchanged."""
    return hashlib.sha256(notebook.read_bytes()).hexdigest()


def executed_copy(lecture: Path) -> Path:
    return EXECUTED / lecture.name


def save_executed(lecture: Path, nb) -> Path:
    """Keep a lecture executed in FAST mode for the website (called by tests/test_notebooks.py)."""
    nb.metadata[STAMP] = {"source": lecture.name, "sha256": fingerprint(lecture), "mode": "fast"}
    EXECUTED.mkdir(parents=True, exist_ok=True)
    target = executed_copy(lecture)
    # Write then rename: parallel test workers and a reader never see half a notebook.
    with tempfile.NamedTemporaryFile("w", dir=EXECUTED, suffix=".tmp", delete=False) as handle:
        nbformat.write(nb, handle)
    os.chmod(handle.name, 0o644)  # a temporary file is private; the copy is not
    os.replace(handle.name, target)
    return target


def is_current(lecture: Path) -> bool:
    copy = executed_copy(lecture)
    if not copy.is_file():
        return False
    try:
        stamp = nbformat.read(copy, as_version=4).metadata.get(STAMP, {})
    except Exception:  # a broken copy is as good as none: execute again
        return False
    return stamp.get("sha256") == fingerprint(lecture) and stamp.get("mode") == "fast"


def execute(lecture: Path) -> Path:
    """Execute one lecture in FAST mode, as the tests do, and keep the executed copy."""
    from nbclient import NotebookClient

    from grading.course import isolated_env

    nb = nbformat.read(lecture, as_version=4)
    with tempfile.TemporaryDirectory(prefix="dgm-site-") as home:
        env = {**isolated_env(Path(home)), "DGM_MODE": "fast"}
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            NotebookClient(
                nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(lecture.parent)}}
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return save_executed(lecture, nb)


def ensure_executed(paths: list[Path]) -> None:
    """Execute the lectures whose executed copy is missing or stale; one progress line per lecture."""
    for index, lecture in enumerate(paths, 1):
        head = f"[{index}/{len(paths)}] {lecture.stem}:"
        if is_current(lecture):
            print(f"{head} executed copy is current ({executed_copy(lecture).relative_to(ROOT)})", flush=True)
            continue
        reason = "stale" if executed_copy(lecture).exists() else "missing"
        print(f"{head} executed copy {reason}, executing in FAST mode ...", flush=True)
        start = time.perf_counter()
        try:
            execute(lecture)
        except Exception as err:
            raise SystemExit(
                f"{lecture.name} failed in FAST mode, so the site cannot show it: {type(err).__name__}: "
                f"{str(err)[-2000:]}\nRun it in JupyterLab (DGM_MODE=fast) to see the failing cell."
            ) from err
        print(f"{head} executed in {time.perf_counter() - start:.0f} s", flush=True)


def colab_url(nb) -> str:
    """The Colab address in a notebook's badge cell (generated from the one repository setting)."""
    for cell in nb.cells:
        if "badge" in cell.metadata.get("tags", []):
            found = re.search(r"\]\((https://colab\.research\.google\.com/[^)\s]+)\)\s*$", cell.source)
            if found:
                return found.group(1)
    raise SystemExit("no Colab badge cell (tag `badge`) in a notebook: run `make notebooks`")


def badge(url: str, up: str) -> str:
    """The Colab badge as Markdown, its image served by the site (`up`: the path to the site's top)."""
    return f"[![Open In Colab]({up}{LOCAL_BADGE})]({url})"


def unit_of(lecture: Path) -> dict:
    """What the site shows of one unit: its number, title, lecture, lab and their Colab addresses."""
    number = lecture.stem.split("_", 1)[0]
    nb = nbformat.read(lecture, as_version=4)
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
    title = re.sub(rf"^Unit {number}\s*[—:-]\s*", "", title)
    labs = sorted((ROOT / settings.LABS).glob(f"lab{number}_*/lab{number}_*.ipynb"))
    lab = labs[0] if labs else None
    return {
        "number": number,
        "title": title,
        "lecture": lecture,
        "lecture_colab": colab_url(nb),
        "lab": lab,
        "lab_colab": colab_url(nbformat.read(lab, as_version=4)) if lab else None,
    }


def lab_links(unit: dict, up: str) -> str:
    """The lab of a unit: the student notebook to download, and its Colab badge."""
    if unit["lab"] is None:
        return "no lab yet"
    name = unit["lab"].name
    return f"{{download}}`{name} <{up}labs/{name}>` {badge(unit['lab_colab'], up)}"


# Inline math, $...$ (not $$): JupyterLab finds it before it parses Markdown, MyST after, so a line
# break inside it followed by "+ " or "- " would start a list and leave the math half typed.
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$]+?)(?<!\\)\$(?!\$)")


def one_line_math(markdown: str) -> str:
    """The Markdown with every inline formula on one line, so that MyST reads it as JupyterLab does."""
    return INLINE_MATH.sub(lambda m: "$" + " ".join(m.group(1).split("\n")) + "$", markdown)


def page_for(unit: dict):
    """The executed lecture as the site shows it: badge image served locally, the lab linked under it."""
    nb = nbformat.read(executed_copy(unit["lecture"]), as_version=4)
    nb.metadata.pop("widgets", None)  # no widget was shown (headless); no widget manager is wanted
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = one_line_math(cell.source)
        if "setup" in cell.metadata.get("tags", []):  # collapsed, as in JupyterLab; its output stays in view
            cell.metadata["tags"] = [*cell.metadata["tags"], "hide-input"]
    for index, cell in enumerate(nb.cells):
        if "badge" in cell.metadata.get("tags", []):
            cell.source = badge(unit["lecture_colab"], "../")
            lab = "**Lab:** " + lab_links(unit, "../")
            nb.cells.insert(index + 1, nbformat.v4.new_markdown_cell(lab, metadata={"tags": ["lab-link"]}))
            break
    return nb


def index_page(units: list[dict]) -> str:
    rows = [
        f"| {u['number']} | {u['title']} | [lecture](lectures/{u['lecture'].stem}) "
        f"{badge(u['lecture_colab'], '')} | {lab_links(u, '')} |"
        for u in units
    ]
    table = "\n".join(["| # | unit | lecture | lab |", "|---|---|---|---|", *rows])
    pages = [f"lectures/{u['lecture'].stem}" for u in units]
    toctree = "\n".join(["```{toctree}", ":hidden:", ":maxdepth: 1", "", *pages, "```"])
    text = (CONFIG / "index.md").read_text()
    return text.replace("<!-- units -->", table).replace("<!-- toctree -->", toctree)


def write_sources(units: list[dict]) -> None:
    """build/site-src: the index page, the executed lectures as pages and the student labs to download."""
    shutil.rmtree(SOURCES, ignore_errors=True)
    (SOURCES / "lectures").mkdir(parents=True)
    (SOURCES / "labs").mkdir()
    (SOURCES / "index.md").write_text(index_page(units))
    shutil.copy(CONFIG / LOCAL_BADGE, SOURCES / LOCAL_BADGE)
    for unit in units:
        nbformat.write(page_for(unit), SOURCES / "lectures" / unit["lecture"].name)
        if unit["lab"] is not None:
            shutil.copy(unit["lab"], SOURCES / "labs" / unit["lab"].name)


def sphinx() -> None:
    """Render build/site-src into build/site with site/conf.py; warnings are errors, its lines the progress."""
    shutil.rmtree(SITE, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-c", str(CONFIG)]
    command += ["-d", str(SITE.parent / "site-doctrees"), str(SOURCES), str(SITE)]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        raise SystemExit(f"sphinx-build failed (exit {result.returncode}); its messages are above.")


def build() -> Path:
    paths = lectures()
    ensure_executed(paths)
    units = [unit_of(p) for p in paths]
    write_sources(units)
    print(f"Rendering {len(units)} lectures with Sphinx ...", flush=True)
    start = time.perf_counter()
    sphinx()
    print(f"Site built in {time.perf_counter() - start:.0f} s: open {(SITE / 'index.html').relative_to(ROOT)}")
    return SITE


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
