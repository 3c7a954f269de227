"""The course website in a real browser, offline: every page loads, links and images resolve, math is
typeset, and every figure a lecture drew is on its page.

`make site` (tools/site.py) builds it from the lectures the notebook tests executed in FAST mode; a
lecture whose executed copy is missing or stale is executed first. The site is served on loopback by
Python's HTTP server and read by Debian's Chromium through Playwright, with every request that leaves
the machine aborted and counted. Screenshots of two pages are kept in build/test-artefacts/.
"""

from __future__ import annotations

import base64
import functools
import http.server
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import nbformat
import pytest
from test_browser import CHROMIUM, FLAGS  # Debian's Chromium and the flags for a closed network

from grading.course import ROOT
from tools import site

pytestmark = pytest.mark.xdist_group("site")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: run `make browser` (as root) to install it")
ARTEFACTS = ROOT / "build" / "test-artefacts"
SCREENSHOTS = ("index.html", "lectures/02_kl_divergence.html")

# What a page shows, read in the page: text outside code and typeset math (raw `$...$` must not be left),
# MathJax's output and errors, images that did not load, figures in cell outputs, links.
INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const text = document.querySelector('main') || document.body;
  const copy = text.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  return {
    text: copy.textContent,
    math: document.querySelectorAll('mjx-container').length,
    math_errors: document.querySelectorAll('mjx-merror').length,
    broken_images: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    figures: document.querySelectorAll('.cell_output img').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    colab: [...document.querySelectorAll('a[href^="https://colab.research.google.com/github/"]')].map(a => a.href),
  };
}"""
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[")


@pytest.fixture(scope="module")
def built():
    """Build the site as `make site` does; its output is shown when it fails."""
    result = subprocess.run([sys.executable, "tools/site.py"], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    print(result.stdout[-3000:])
    assert result.returncode == 0, f"`make site` failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return site.SITE


def _serve(folder: Path):
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would bury the test's output
        pass


class Browser:
    """Headless Chromium that may only reach loopback: every other request is aborted and recorded."""

    def __init__(self, playwright):
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.off_host: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.off_host.append(route.request.url)
            route.abort()

    def open(self, url: str, screenshot: Path | None = None) -> dict:
        page = self.context.new_page()
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: self.failed.append(f"failed {r.url}"))
        response = page.goto(url, wait_until="load")
        found = page.evaluate(INSPECT)
        found["status"] = response.status if response else None
        if screenshot:
            page.screenshot(path=str(screenshot), full_page=False)
            figure = page.locator(".cell_output img")
            if figure.count():  # and the first figure, to see that plots are there
                figure.first.screenshot(path=str(screenshot.with_name(screenshot.stem + "-figure.png")))
        page.close()
        return found

    def close(self):
        self.context.close()
        self.browser.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras: `make env`")
    with sync_api.sync_playwright() as playwright:
        chromium = Browser(playwright)
        yield chromium
        chromium.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _png_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
@needs_browser
def test_the_checks_catch_a_broken_page(browser, tmp_path):
    """The page checks can fail: raw math, a missing image and a script from the internet are all reported."""
    (tmp_path / "bad.html").write_text(
        '<html><body><main><p>The KL is $\\mathrm{KL}(q \\| p)$.</p><img src="missing.png">'
        '<script src="https://cdn.example.org/x.js"></script></main></body></html>'
    )
    server, base = _serve(tmp_path)
    try:
        found = browser.open(f"{base}/bad.html")
    finally:
        server.shutdown()
    assert RAW_MATH.search(found["text"]), found["text"]
    assert found["broken_images"] and found["math"] == 0
    assert browser.off_host == ["https://cdn.example.org/x.js"], browser.off_host
    assert any("missing.png" in f for f in browser.failed), browser.failed
    browser.off_host.clear()
    browser.failed.clear()


@pytest.mark.slow
def test_no_page_names_an_asset_on_the_internet(built):
    """Offline by construction: no script, style sheet, image or font is loaded from an http(s) address."""
    pattern = re.compile(r"<(?:script|img|link|iframe|source)\b[^>]*\b(?:src|href)=[\"']((?:https?:)?//[^\"']+)", re.I)
    found = {
        f"{page.relative_to(built)}: {url}"
        for page in built.rglob("*.html")
        for url in pattern.findall(page.read_text())
        if not url.startswith("https://colab.research.google.com/github/")  # links, not loads
    }
    assert not found, "pages load assets from the internet (the site must read offline):\n" + "\n".join(sorted(found))


@pytest.mark.slow
@needs_browser
def test_every_page_reads_offline(built, browser):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    server, base = _serve(built)
    problems, links, figures = [], set(), {}
    pages = sorted(p.relative_to(built).as_posix() for p in built.rglob("*.html") if "_static" not in p.parts)
    try:
        for name in pages:
            shot = ARTEFACTS / f"site-{Path(name).stem}.png" if name in SCREENSHOTS else None
            found = browser.open(f"{base}/{name}", screenshot=shot)
            if found["status"] != 200:
                problems.append(f"{name}: HTTP {found['status']}")
            problems += [f"{name}: image did not load: {src}" for src in found["broken_images"]]
            raw = RAW_MATH.findall(found["text"])
            if raw:
                problems.append(f"{name}: math left as typed (MathJax did not typeset it): {raw[:5]}")
            if found["math_errors"]:
                problems.append(f"{name}: {found['math_errors']} MathJax errors (mjx-merror)")
            links |= {urldefrag(u).url for u in found["links"] if u.startswith(base)}
            if name.startswith("lectures/"):
                executed = site.executed_copy(ROOT / "lectures" / Path(name).with_suffix(".ipynb").name)
                figures[name] = (_png_outputs(executed), found["figures"])
                if not found["math"]:
                    problems.append(f"{name}: no typeset math (no mjx-container): MathJax did not run")
                if len(found["colab"]) < 2:
                    problems.append(f"{name}: expected Colab links to the lecture and its lab, got {found['colab']}")
                if not any("/_downloads/" in u and "/lab" in u for u in found["links"]):
                    problems.append(f"{name}: no link to download its lab")
        broken = sorted(f"{_status(u)} {u}" for u in links if _status(u) != 200)
    finally:
        server.shutdown()
    print(f"screenshots: {', '.join(str(ARTEFACTS / f'site-{Path(n).stem}.png') for n in SCREENSHOTS)}")
    print(f"{len(pages)} pages, {len(links)} internal links, figures per lecture (notebook, page): {figures}")
    assert len(pages) >= 1 + len(site.lectures()), f"expected the index and every lecture, got {pages}"
    assert not browser.off_host, f"{len(browser.off_host)} requests left the machine: {browser.off_host[:10]}"
    assert not browser.failed, f"requests that failed: {browser.failed[:20]}"
    assert not broken, f"broken internal links: {broken[:20]}"
    missing = {n: f for n, f in figures.items() if f[0] != f[1] or f[0] == 0}
    assert not missing, f"figures the notebook drew vs figures on the page differ (or none): {missing}"
    assert not problems, "\n".join(problems)


def test_a_widget_offers_its_first_figure_to_static_renderings(monkeypatch):
    """Without a widget manager (an HTML export read offline), the widget's output shows its first figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nbconvert import HTMLExporter

    from dgm import widgets

    monkeypatch.delenv("DGM_HEADLESS", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    box = widgets.explore(lambda m: plt.plot([0, 1], [0, m]), m=widgets.slider(0.5, 0, 1, 0.1, "m"))
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle, "JupyterLab still gets the live widget"
    assert base64.b64decode(bundle.get("image/png", ""))[:8] == b"\x89PNG\r\n\x1a\n", "no PNG beside the widget view"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell("explore(...)", outputs=[nbformat.v4.new_output("display_data", data=bundle)])
    )
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert f'src="data:image/png;base64,{bundle["image/png"]}' in html.replace("\n", ""), (
        "the HTML export shows no figure"
    )


def test_an_executed_copy_is_reused_only_while_its_notebook_is_unchanged(tmp_path, monkeypatch):
    """`make site` executes a lecture again when its notebook changed since the tests executed it."""
    monkeypatch.setattr(site, "EXECUTED", tmp_path / "executed")
    lecture = tmp_path / "01_example.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Unit 01 — An example")])
    nbformat.write(nb, lecture)
    assert not site.is_current(lecture), "no executed copy yet"
    site.save_executed(lecture, nb)
    assert site.is_current(lecture), "the copy was saved from this very notebook"
    nb.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    nbformat.write(nb, lecture)
    assert not site.is_current(lecture), "the notebook changed after its copy was executed"
    site.executed_copy(lecture).write_text("{ broken")
    assert not site.is_current(lecture), "a broken copy counts as missing"
