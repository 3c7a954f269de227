"""`make lab` opens the course: a real JupyterLab server serves the notebooks, with nbgrader's extension."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jupyterlab")]


def _get(server, path):
    base, token = server
    with urllib.request.urlopen(f"{base}{path}{'&' if '?' in path else '?'}token={token}", timeout=30) as resp:
        return resp.status, resp.read().decode()


def test_lab_page_is_served(server):
    status, body = _get(server, "/lab")
    assert status == 200 and "JupyterLab" in body


@pytest.mark.parametrize("path", ["lectures/02_kl_divergence.ipynb", "labs/lab02_kl/lab02_kl.ipynb"])
def test_course_notebooks_open(server, path):
    status, body = _get(server, f"/api/contents/{path}")
    model = json.loads(body)
    assert status == 200 and model["type"] == "notebook" and model["content"]["cells"]


def test_kernel_starts_with_the_course_environment(server):
    base, token = server
    request = urllib.request.Request(
        f"{base}/api/kernels?token={token}", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        kernel = json.loads(resp.read())
    assert kernel["name"] == "python3"
    urllib.request.urlopen(urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE"))


def test_nbgrader_extension_is_enabled():
    result = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True)
    listing = result.stdout + result.stderr
    assert "@jupyter/nbgrader" in listing and "enabled" in listing.split("@jupyter/nbgrader", 1)[1].splitlines()[0]
