"""The suite's own scheduling: tests that share an ``xdist_group`` run on one worker.

The costly fixtures (a class graded by nbgrader, a PostgreSQL server) are module-scoped and their tests
carry one group, so that each runs once. pytest 9.2 made pytest-xdist's ``--dist loadgroup`` ignore the
groups without a word (pytest-xdist issue 1386): every such fixture then ran on both workers, and
``make test`` took 15 minutes more. This test fails when the groups are ignored again.
"""

from __future__ import annotations

import subprocess
import sys

GROUPED = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("one")


@pytest.fixture(scope="module")
def worker():
    with open(os.environ["SETUPS"], "a") as log:
        log.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")


@pytest.mark.parametrize("k", range(8))
def test_grouped(worker, k):
    pass
"""


def test_a_group_runs_its_module_fixture_once(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    setups = tmp_path / "setups.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "test_grouped.py"],
        cwd=tmp_path,
        env={"SETUPS": str(setups), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers = setups.read_text().split()
    assert len(workers) == 1, (
        f"the module fixture of one xdist_group was set up {len(workers)} times (on {workers}): --dist loadgroup "
        "ignores the groups (pytest-xdist issue 1386 with pytest 9.2); pin pytest to a version where it works"
    )
