"""The grading sandbox: student code runs in an IPython kernel inside bubblewrap (``bwrap``).

A student's code would otherwise run with the grader's rights. Inside the sandbox it has no network,
no other processes, and sees only an allowlist of the machine, read-only:

- the system (``/usr``, ``/etc``, ``/sys``), the Python installation and environment, the course's
  helper package ``dgm`` and its embedded data; ``/tmp`` is an empty tmpfs;
- nothing else: no course checkout (solutions, .git), no student-data folder (gradebook, other
  students' submissions and feedback), no home folder, wherever they are on the machine;
- the working folder (the student's autograded folder) is writable, but the notebooks in it, which
  nbgrader has already filled with the hidden tests, read as empty files;
- the kernel's own socket folder (ipc transport: TCP cannot cross the network namespace).

``kernel_env`` writes the ``dgm-sandbox`` kernelspec and returns the environment that makes nbgrader
use it; the kernelspec runs ``python -I -m grading.sandbox {connection_file}`` from the kernel's working
folder, which execs bwrap (``command``). What the sandbox shows besides the system comes from
``DGM_SANDBOX_SHOW`` (paths separated by ``os.pathsep``), set by ``kernel_env``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

KERNEL_NAME = "dgm-sandbox"


def kernel_env(work: Path) -> dict[str, str] | None:
    """Environment that makes nbgrader run its kernels in the sandbox (None: no bwrap on this machine)."""
    if not shutil.which("bwrap"):
        return None
    spec = work / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        # -I: isolated, so the student's folder (the working folder) is not on sys.path for this launcher.
        "argv": [sys.executable, "-I", "-m", "grading.sandbox", "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    import dgm  # the course's helper package: its folder (and data) are visible, its repository is not

    package = Path(dgm.__file__).resolve().parent
    show = [package, package.parent / "assets", os.environ.get("DGM_DATA_DIR", "")]
    return {
        "JUPYTER_PATH": os.pathsep.join([str(work), os.environ.get("JUPYTER_PATH", "")]),
        "DGM_SANDBOX_SHOW": os.pathsep.join(str(p) for p in show if p),
    }


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
    runtime = os.path.dirname(os.path.realpath(connection_file))
    if any(os.path.commonpath([runtime, p]) == runtime for p in [cwd, str(Path.home())]):
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
