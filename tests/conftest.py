import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("DGM_MODE", "fast")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_jupyter_lab(home: Path, log: Path, root: Path, **env: str) -> tuple[subprocess.Popen, str, str]:
    """A real `jupyter lab` on loopback serving ``root`` (environment: isolated in ``home``, plus ``env``).

    Returns (process, base URL, token) once the server answers; the log goes to ``log``.
    """
    from grading.course import isolated_env

    port, token = _free_port(), secrets.token_hex(16)
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}"]
    command += ["--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    command += ["--allow-root"] if os.geteuid() == 0 else []
    with open(log, "w") as handle:  # a file, not a pipe: a full pipe would stall the server
        proc = subprocess.Popen(
            command, cwd=root, env={**isolated_env(home), **env}, stdout=handle, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return proc, base, token
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited: {log.read_text()[-3000:]}")
            time.sleep(0.5)
    proc.terminate()
    pytest.fail(f"jupyter lab did not answer within 120 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A real JupyterLab server on the course folder, as `make lab` starts it: (base URL, token)."""
    home = tmp_path_factory.mktemp("jlab")
    proc, base, token = start_jupyter_lab(home, home / "jupyter.log", ROOT)
    try:
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)
