"""The grading sandbox: student code runs in an IPython kernel inside bubblewrap (``bwrap``), under limits.

A student's code would otherwise run with the grader's rights. Inside the sandbox it has no network
(loopback included), no other processes, and sees only an allowlist of the machine, read-only:

- the system (``/usr``, ``/etc``, ``/sys``), the Python installation and environment, the course's
  helper package ``dgm`` and its embedded data, and ``DGM_DATA_DIR``;
- nothing else: no course checkout (solutions, .git), no student-data folder (gradebook, other
  students' submissions and feedback), no home folder, wherever they are on the machine;
- ``/tmp`` and the working folder (the student's autograded folder) are fresh size-limited tmpfs: what
  the kernel writes there is gone when it ends. The files nbgrader put in the working folder are
  bound read-only over it, except the notebooks, which nbgrader has already filled with the hidden
  tests: they read as empty files;
- the kernel's own socket folder (ipc transport: TCP cannot cross the network namespace).

Limits (``grading/settings.py``, ``DGM_SANDBOX_*``): memory (``RLIMIT_DATA``, and a cgroup memory limit
where the cgroup tree is writable), CPU seconds (``RLIMIT_CPU``), processes and threads (``RLIMIT_NPROC``,
and a cgroup ``pids.max`` because root ignores ``RLIMIT_NPROC``), disk (the tmpfs sizes and
``RLIMIT_FSIZE``), and the bytes the kernel writes to its own stdout/stderr (the launcher forwards at
most ``DGM_SANDBOX_OUTPUT`` of them to nbgrader's log). Every process of a submission is gone when its
kernel ends: the kernel is the child of bwrap's init in a fresh pid namespace, and the launcher kills
whatever is left in its cgroup.

The kernelspec ``dgm-sandbox`` runs ``python -I -m grading.sandbox {connection_file}`` (this file's
``main``, the *launcher*) from the kernel's working folder. ``nbgrader_config.py`` makes plain
``nbgrader autograde`` (and the formgrader's autograde button) use it; ``python -m grading autograde``
goes through the same config. Where bwrap is missing or cannot start, the launcher refuses to start
the kernel, unless ``DGM_ALLOW_UNSANDBOXED=1`` says to run it unprotected (and it says so on stderr).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from grading import settings

KERNEL_NAME = "dgm-sandbox"
ALLOW_UNSANDBOXED = "DGM_ALLOW_UNSANDBOXED"  # "1": run kernels unprotected where the sandbox cannot run
CGROUPS = Path("/sys/fs/cgroup")

REFUSAL = (
    "grading sandbox: {reason}. Student code was NOT run. Install bubblewrap (`make sandbox`, Debian/Ubuntu), "
    "or, to grade WITHOUT protection (student code then runs with your rights), pass --unsandboxed to "
    "`python -m grading autograde` (UNSANDBOXED=1 make grade) or set DGM_ALLOW_UNSANDBOXED=1 for plain nbgrader."
)


def bwrap() -> str | None:
    """The bwrap command: ``DGM_SANDBOX_BWRAP`` if set, else ``bwrap`` on PATH (None: not found)."""
    return shutil.which(settings.SANDBOX_BWRAP or "bwrap")


@cache
def unavailable() -> str | None:
    """Why the sandbox cannot run on this machine (None: it can): bwrap missing, or a trial run failing."""
    program = bwrap()
    if program is None:
        return f"no bwrap command ({settings.SANDBOX_BWRAP or 'bwrap'} not found)"
    trial = [program, *_namespaces(), *_system(), "true"]
    try:
        result = subprocess.run(trial, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap could not start ({err})"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        return f"bwrap could not start a sandbox ({program}: {detail[0][:200]})"
    return None


def kernel_env(work: Path) -> dict[str, str]:
    """Write the ``dgm-sandbox`` kernelspec under ``work``; the environment that lets Jupyter find it."""
    spec = work / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        # -I: isolated, so the student's folder (the working folder) is not on sys.path for this launcher.
        "argv": [sys.executable, "-I", "-m", "grading.sandbox", "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "interrupt_mode": "message",
    }
    text = json.dumps(kernel)
    path = spec / "kernel.json"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return {"JUPYTER_PATH": os.pathsep.join(p for p in [str(work), os.environ.get("JUPYTER_PATH", "")] if p)}


RUNTIME_PREFIX = "dgm-k-"


def private_runtime(remove_at_exit: bool = True) -> str:
    """A fresh folder for one process's kernel connection files and sockets.

    Short (unix socket paths are limited to 108 bytes) and private: it is bound into the sandbox, so it
    must hold nothing but this kernel's files. Its name carries the pid of the process that made it:
    a process killed at a time limit cannot remove its folder, so each new one first removes the folders
    of processes that are gone.
    """
    import atexit

    remove_stale_runtimes()
    folder = tempfile.mkdtemp(prefix=f"{RUNTIME_PREFIX}{os.getpid()}-")
    if remove_at_exit:
        atexit.register(shutil.rmtree, folder, True)
    return folder


def remove_stale_runtimes() -> None:
    """Remove this user's runtime folders whose process has ended."""
    for folder in Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}*-*"):
        pid = folder.name[len(RUNTIME_PREFIX) :].split("-")[0]
        try:
            if not pid.isdigit() or folder.stat().st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # alive under another user (PermissionError), or the folder just went


# ------------------------------------------------------------------------------------ the bwrap command

SYSTEM = ["/usr", "/etc", "/sys"]  # what a Python kernel needs of the system; the rest of the machine is absent
MERGED = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]  # symlinks into /usr on merged-/usr systems


def _namespaces() -> list[str]:
    # No network (not even loopback: a fresh network namespace), no view of other processes.
    return [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
    ]


def _system() -> list[str]:
    args = ["--dev", "/dev", "--proc", "/proc"]
    for path in SYSTEM:
        if os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in MERGED:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def shown() -> list[str]:
    """What the sandbox shows besides the system: the Python environment, ``dgm``, its data."""
    import dgm  # the course's helper package: its folder (and data) are visible, its repository is not

    package = Path(dgm.__file__).resolve().parent
    paths = [sys.prefix, sys.base_prefix, package, package.parent / "assets", os.environ.get("DGM_DATA_DIR", "")]
    return sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)}, key=len)


# Run inside the sandbox: set the rlimits (inherited by every process the kernel starts), then start the
# kernel in this process. RLIMIT_NPROC is set inside the sandbox's own user namespace, so that it counts
# the sandbox's processes only. SIGXFSZ ignored: a write past the file-size limit fails with an OSError
# instead of killing the kernel. Python's -I keeps the working folder off sys.path (a submitted dgm.py
# cannot stand in for the course's). stdout and stderr keep at most OUTPUT characters each: a courtesy
# bound against runaway prints (code in the kernel can undo it; the grader bounds what it receives).
INNER = """import os, resource, signal, sys, types
for name, value in {limits!r}:
    resource.setrlimit(getattr(resource, name), (value, value))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from ipykernel import iostream, kernelapp

class BoundedOutStream(iostream.OutStream):
    left = {output}

    def write(self, string):
        if self.left > 0:
            if len(string) > self.left:
                string = string[: self.left] + "\\n[grading sandbox: output beyond {output} characters dropped]\\n"
            self.left -= len(string)
            super().write(string)
        return len(string)

sys.modules["dgm_sandbox_stream"] = types.ModuleType("dgm_sandbox_stream")
sys.modules["dgm_sandbox_stream"].BoundedOutStream = BoundedOutStream
sys.argv = [sys.argv[0], "-f", {connection_file!r}, "--IPKernelApp.outstream_class=dgm_sandbox_stream.BoundedOutStream"]
kernelapp.launch_new_instance()
"""


def rlimits() -> list[tuple[str, int]]:
    return [
        ("RLIMIT_DATA", settings.SANDBOX_MEMORY),
        ("RLIMIT_CPU", settings.SANDBOX_CPU_SECONDS),
        ("RLIMIT_NPROC", settings.SANDBOX_PROCESSES),
        ("RLIMIT_FSIZE", settings.SANDBOX_DISK),
        ("RLIMIT_CORE", 0),
    ]


def command(connection_file: str, cwd: str) -> list[str]:
    """The bwrap command line that runs the kernel of ``connection_file`` in ``cwd``, sandboxed."""
    args = [bwrap() or "bwrap", *_namespaces(), *_system()]
    disk = str(settings.SANDBOX_DISK)
    args += ["--size", disk, "--tmpfs", "/tmp"]
    for path in shown():
        args += ["--ro-bind", path, path]
    runtime = os.path.dirname(os.path.realpath(connection_file))
    if any(os.path.commonpath([runtime, p]) == runtime for p in [cwd, str(Path.home())]):
        sys.exit(f"grading sandbox: the connection file must be in a private folder, not in {runtime}")
    # The working folder: a fresh tmpfs, with what nbgrader put there bound read-only on top of it.
    # nbgrader has already written the hidden tests into its notebooks: those read as empty files.
    args += ["--size", disk, "--tmpfs", cwd]
    for name in sorted(os.listdir(cwd)):
        path = os.path.join(cwd, name)
        args += ["--ro-bind", "/dev/null" if name.endswith(".ipynb") else path, path]
    args += ["--bind", runtime, runtime]
    # The sandbox's own root and /dev are tmpfs too, of no set size: read-only once everything is in place.
    args += ["--remount-ro", "/", "--remount-ro", "/dev"]
    args += [
        "--chdir",
        cwd,
        "--unsetenv",
        "JPY_PARENT_PID",  # with --unshare-pid, ipykernel would think its parent has exited
        # The gradebook's address (a PostgreSQL URL may hold a password) and the cluster's are the grader's.
        "--unsetenv",
        "DGM_GRADEBOOK_URL",
        "--unsetenv",
        "DGM_SCHEDULER",
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
        "-I",
        "-c",
        INNER.format(limits=rlimits(), output=settings.SANDBOX_OUTPUT, connection_file=connection_file),
    ]
    return args


# ------------------------------------------------------------------------------------ cgroups (root only)


def _cgroups() -> list[Path]:
    """Join fresh cgroups that bound processes and memory, where the cgroup tree is writable (root).

    Root ignores RLIMIT_NPROC, so there the process bound is a cgroup's ``pids.max``; the memory bound
    also counts what RLIMIT_DATA does not (shared memory, the tmpfs files). Returns the groups joined.
    """
    name = f"dgm-sandbox-{os.getpid()}"
    memory = settings.SANDBOX_MEMORY + 2 * settings.SANDBOX_DISK  # the two tmpfs live in memory too
    if (CGROUPS / "cgroup.controllers").exists():  # cgroup v2: one tree
        plans = [(CGROUPS / name, {"pids.max": settings.SANDBOX_PROCESSES, "memory.max": memory})]
    else:  # cgroup v1: one tree per controller
        plans = [
            (CGROUPS / "pids" / name, {"pids.max": settings.SANDBOX_PROCESSES}),
            (CGROUPS / "memory" / name, {"memory.limit_in_bytes": memory}),
        ]
    joined = []
    for group, limits in plans:
        _remove_stale(group.parent)
        try:
            group.mkdir(exist_ok=True)
            for key, value in limits.items():
                (group / key).write_text(str(value))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            joined.append(group)
        except OSError:
            continue
    return joined


def _remove_stale(parent: Path) -> None:
    """Remove the empty groups of launchers that were killed before they could clean up."""
    for group in parent.glob("dgm-sandbox-*"):
        try:
            os.kill(int(group.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            _empty(group)
        except (OSError, ValueError):
            continue


def _empty(group: Path) -> None:
    """Kill every process left in a cgroup, then remove it."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split() if int(p) != os.getpid()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        group.rmdir()
    except OSError:
        pass


# ------------------------------------------------------------------------------------ the launcher


def _pump(stream, limit: int) -> None:
    """Forward at most ``limit`` bytes of the kernel's own stdout/stderr to ours (nbgrader's log)."""
    forwarded = 0
    while chunk := stream.read1(65536):
        if forwarded < limit:
            sys.stderr.buffer.write(chunk[: limit - forwarded])
            sys.stderr.buffer.flush()
        elif forwarded - len(chunk) < limit:
            sys.stderr.write(f"\n[grading sandbox: kernel output beyond {limit} bytes dropped]\n")
            sys.stderr.flush()
        forwarded += len(chunk)


def main(connection_file: str) -> int:
    reason = unavailable()
    if reason:
        if os.environ.get(ALLOW_UNSANDBOXED) != "1":
            print(REFUSAL.format(reason=reason), file=sys.stderr, flush=True)
            return 1
        warning = f"grading sandbox: {reason}; running the kernel WITHOUT the sandbox ({ALLOW_UNSANDBOXED}=1)."
        print(warning, file=sys.stderr, flush=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
        os.execv(argv[0], argv)
    argv = command(connection_file, os.getcwd())
    groups = _cgroups()
    if os.geteuid() == 0 and not any(g.parent.name in ("pids", CGROUPS.name) for g in groups):
        print("grading sandbox: running as root without a writable cgroup: processes are not bounded", file=sys.stderr)
    kernel = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def stop(signum, frame):  # the kernel manager gave up on the kernel: end the whole sandbox
        kernel.kill()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts come as messages (interrupt_mode)
    try:
        _pump(kernel.stdout, settings.SANDBOX_OUTPUT)
        return kernel.wait()
    finally:
        for group in groups:
            _empty(group)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
