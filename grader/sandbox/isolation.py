"""Isolation around a sandbox session: bubblewrap namespaces and a pids cgroup.

- **bubblewrap** (``bwrap``), when installed and allowed: the supervisor and everything
  under it run in new PID, network, IPC and UTS namespaces, see only the Python
  installation (read-only), the sandbox's boot files (read-only) and the session folder
  (read-write), with all capabilities dropped. Killing the namespace's init kills every
  process in it, whatever it did to escape. ``GRADE_ISOLATION=process`` turns it off.
- **pids cgroup** (cgroup v1 ``pids`` controller, writable as root): caps the number of
  processes and threads of one session (a fork bomb gets ``EAGAIN``), per session, so
  graders running in parallel do not share a budget. Without it, a non-root grader
  falls back to ``RLIMIT_NPROC`` (per user: see :func:`nproc_limit`); root is exempt
  from that limit, so there only the wall-clock timeout stops a fork bomb.

Which one is in force is decided once per grader process (:func:`isolation`) and said
once to the user when bubblewrap is missing or refused.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")
MAX_PROCESSES = 256  # per session: processes and threads of the submission
ROOT_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Isolation:
    bwrap: str | None  # path of a usable bwrap, or None
    reason: str  # why bubblewrap is not used ('' when it is)
    pids_cgroup: bool

    @property
    def python(self) -> str:
        """The interpreter to run in the sandbox: the real file, not a venv's symlink
        (a virtual environment's folder is not visible inside bubblewrap)."""
        return os.path.realpath(sys.executable) if self.bwrap else sys.executable


@functools.cache
def isolation() -> Isolation:
    return Isolation(*_find_bwrap(), pids_cgroup=_pids_cgroup_usable())


def wrap(command: list[str], folder: Path, boot_dir: Path, iso: Isolation) -> list[str]:
    """``command`` run inside bubblewrap, if available."""
    if not iso.bwrap:
        return command
    args = [iso.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for path in ROOT_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        args += ["--ro-bind", prefix, prefix]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
             "--ro-bind", str(boot_dir), str(boot_dir),
             "--bind", str(folder), str(folder), "--chdir", str(folder)]
    return [*args, *command]


class PidsCgroup:
    """A pids cgroup for one session (a no-op when none can be made)."""

    def __init__(self, name: str, iso: Isolation) -> None:
        self.path = PIDS_CGROUP_ROOT / "grade" / name if iso.pids_cgroup else None
        if self.path is not None:
            try:
                self.path.mkdir(parents=True)
                (self.path / "pids.max").write_text(str(MAX_PROCESSES))
            except OSError:
                self.path = None

    def enter(self) -> None:
        """Move the calling process into the cgroup (run in the child, before exec)."""
        if self.path is not None:
            with open(self.path / "cgroup.procs", "w") as procs:
                procs.write("0")

    def remove(self) -> None:
        """Remove the cgroup once its last process is gone (they may take a moment to die)."""
        if self.path is None:
            return
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.01)


def nproc_limit() -> int | None:
    """RLIMIT_NPROC for a non-root grader: the user's current thread count plus the
    session's budget (the limit counts every thread of the user on the machine)."""
    if os.geteuid() == 0:
        return None
    uid = str(os.getuid())
    threads = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as status:
                    fields = dict(line.split(":", 1) for line in status if ":" in line)
            except OSError:
                continue
            if fields.get("Uid", "").split()[:1] == [uid]:
                threads += int(fields.get("Threads", "1"))
    return threads + MAX_PROCESSES


def _find_bwrap() -> tuple[str | None, str]:
    if os.environ.get("GRADE_ISOLATION") == "process":  # any other value: use bubblewrap if possible
        return None, "GRADE_ISOLATION=process"
    path = shutil.which("bwrap")
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    probe = subprocess.run([path, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc",
                            "true"], capture_output=True, text=True, timeout=10)
    if probe.returncode != 0:
        return None, f"bubblewrap was refused here: {probe.stderr.strip()[:200]}"
    return path, ""


def _pids_cgroup_usable() -> bool:
    return os.geteuid() == 0 and (PIDS_CGROUP_ROOT / "cgroup.procs").is_file() and os.access(
        PIDS_CGROUP_ROOT, os.W_OK)
