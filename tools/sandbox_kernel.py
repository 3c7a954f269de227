"""Start an IPython kernel inside a bubblewrap (``bwrap``) sandbox: the kernel of ``grade.py autograde``.

A student's code runs with the grader's rights. Inside this sandbox it has no network, no other
processes, and sees only an allowlist of the machine, read-only:

- the system (``/usr``, ``/etc``, ``/sys``), the Python installation and environment, the course's
  helper package ``dgm`` and its embedded data; ``/tmp`` is an empty tmpfs;
- nothing else: no course checkout (solutions, .git), no student-data folder (gradebook, other
  students' submissions and feedback), no home folder, wherever they are on the machine;
- the working folder (the student's autograded folder) is writable, but the notebooks in it, which
  nbgrader has already filled with the hidden tests, read as empty files;
- the kernel's own socket folder (ipc transport: TCP cannot cross the network namespace).

Called by the ``dgm-sandbox`` kernelspec that ``grade.py`` writes, as
``python sandbox_kernel.py {connection_file}``, from the kernel's working folder. Settings come from
the environment: ``DGM_SANDBOX_HIDE`` and ``DGM_SANDBOX_SHOW`` (paths separated by ``os.pathsep``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def _paths(name: str) -> list[str]:
    return [p for p in os.environ.get(name, "").split(os.pathsep) if p and os.path.exists(p)]


# What a Python kernel needs of the system; everything else of the machine is simply not there.
SYSTEM = ["/usr", "/etc", "/sys"]
MERGED = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]  # symlinks into /usr on merged-/usr systems


def command(connection_file: str, cwd: str) -> list[str]:
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    args = [
        bwrap,
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
    ]
    # An allowlist: bind only what the kernel needs. Any other checkout of the course, the gradebook,
    # other students' work and the grader's files are absent, wherever they are on the machine.
    for path in SYSTEM:
        if os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in MERGED:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--tmpfs", "/tmp"]
    show = [sys.prefix, sys.base_prefix, *_paths("DGM_SANDBOX_SHOW")]
    for path in sorted({os.path.realpath(p) for p in show}, key=len):
        args += ["--ro-bind", path, path]
    hide = [str(Path.home()), *_paths("DGM_SANDBOX_HIDE")]
    runtime = os.path.dirname(os.path.realpath(connection_file))
    if any(os.path.commonpath([runtime, p]) == runtime for p in [cwd, *hide]):
        sys.exit(f"sandbox_kernel: the connection file must be in a private folder, not in {runtime}")
    args += ["--bind", cwd, cwd, "--bind", runtime, runtime]
    # nbgrader has already written the hidden tests into the notebooks of the working folder.
    for name in os.listdir(cwd):
        if name.endswith(".ipynb"):
            args += ["--ro-bind", "/dev/null", os.path.join(cwd, name)]
    args += [
        "--chdir",
        cwd,
        "--unsetenv",
        "JPY_PARENT_PID",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "IPYTHONDIR",
        "/tmp/.ipython",
        "--setenv",
        "MPLCONFIGDIR",
        "/tmp/.matplotlib",
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        connection_file,
    ]
    return args


if __name__ == "__main__":
    argv = command(sys.argv[1], os.getcwd())
    os.execv(argv[0], argv)
