"""End to end in a real browser: headless Chromium renders the course in JupyterLab.

Chromium comes from the system (`make browser` installs Debian's package when run as root, and
`make test` runs it). Without Chromium these tests are skipped, with the reason.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jupyterlab")]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: run `make browser` (as root) to install it")

# Flags for a closed network: no background requests to Google's hosts, no sandbox as root.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def render(url: str, profile, *extra: str) -> str:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=30000", *extra, url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result.stdout


@needs_browser
# The lab is opened, run, filled and validated in a browser by tests/test_e2e_lab.py; a lecture renders here.
@pytest.mark.parametrize("path,title", [("lectures/02_kl_divergence.ipynb", "Unit 02 — The KL divergence")])
def test_notebook_renders_in_jupyterlab(server, tmp_path, path, title):
    base, token = server
    dom = render(f"{base}/lab/tree/{path}?token={token}", tmp_path / "profile", "--dump-dom")
    assert title in dom, f"{path} did not render: {dom[:500]}"
    assert dom.count("jp-Cell ") > 5 or dom.count("jp-Cell") > 5, "the notebook's cells are not in the page"
    assert "Validate" in dom, "nbgrader's Validate button is missing from the notebook toolbar"
