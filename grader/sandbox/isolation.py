"""Isolation around a sandbox session: bubblewrap, Landlock and a pids cgroup.

Two walls, each used where the machine has it (``GRADE_ISOLATION``: ``auto``, the
default, both where available; ``bubblewrap`` or ``landlock``, that one only;
``process``, neither: the process-level sandbox alone, explicitly degraded):

- **bubblewrap** (``bwrap``), when installed and allowed: the supervisor and everything
  under it run in new PID, network, IPC and UTS namespaces, see only the Python
  installation (read-only), the sandbox's boot files (read-only) and the session folder
  (read-write), with all capabilities dropped. Killing the namespace's init kills every
  process in it, whatever it did to escape.
- **Landlock** (Linux 5.13 and later, unprivileged, no extra binary): applied by the
  supervisor to the worker just before ``exec`` (``boot/_grade_landlock.py``), so it
  holds for the submission and everything it starts, under bubblewrap too (a second
  wall) or alone. The worker may read and execute the Python installation, the system
  folders and the boot files, and write only its session folder, ``/dev/null`` and,
  without listing it, ``/dev/shm`` (multiprocessing's semaphores and shared memory);
  TCP bind and connect are refused (ABI 4), and so are signals to processes outside
  the sandbox (the supervisor, the grader) and their abstract unix sockets (ABI 6). A
  root grader's worker also loses every capability (Landlock does not cover reboot,
  modules or raw sockets). See :func:`landlock_rules`.
- **pids cgroup** (cgroup v1 ``pids`` controller, writable as root): caps the number of
  processes and threads of one session (a fork bomb gets ``EAGAIN``), per session, so
  graders running in parallel do not share a budget. Without it, a non-root grader
  falls back to ``RLIMIT_NPROC`` (per user: see :func:`nproc_limit`); root is exempt
  from that limit, so there only the wall-clock timeout stops a fork bomb.

Which walls are up, and why the others are not, is decided once per grader process
(:func:`isolation`); :meth:`Isolation.notice` says it once to the user when a wall is
missing or ptrace is refused (process facts then cannot be observed: see
``boot/_grade_tracer.py``), :meth:`Isolation.summary` for ``grade --version``.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.i18n import text
from grader.sandbox.boot import _grade_landlock, _grade_tracer

CGROUP_ROOT = Path("/sys/fs/cgroup")
MAX_PROCESSES = 256  # per session: processes and threads of the submission
SESSION_MEMORY = 3 * 1024**3 // 2  # per session, all its processes together (1 GiB per process besides)
STALE_CGROUP_S = 3600.0  # a session's cgroup older than this, empty and without its folder, is left over
DELEGATE_V2 = "run grade under a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes grade ..."
ROOT_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
MODES = ("auto", "bubblewrap", "landlock", "process")
# Set (to anything) where grading must fail closed: no grading without bubblewrap or Landlock.
REQUIRE_VARIABLE = "GRADE_REQUIRE_ISOLATION"
INSTALL_BWRAP = ("to add it: sudo apt-get install bubblewrap (Debian, Ubuntu) or sudo dnf install bubblewrap "
                 "(Fedora)")
ALLOW_PTRACE = "allow ptrace (kernel.yama.ptrace_scope 0 or 1, no seccomp filter against it)"
UNOBSERVED = ("the records the submission's processes write about themselves are believed as written; "
              f"{ALLOW_PTRACE} for verified ones")
INSTALL_LANDLOCK = "it needs Linux 5.13 or later with Landlock enabled (6.12 or later for all of its walls)"
# What the worker may write besides its session folder: /dev/null, where output is thrown
# away, and (by name, without listing it: other sessions' files stay out of sight)
# /dev/shm, where multiprocessing's semaphores and shared memory live (sem_open,
# SharedMemory, the heap of Value and Array).
LANDLOCK_WRITABLE = ("/dev/null",)
LANDLOCK_UNLISTED = ("/dev/shm",)


@dataclass(frozen=True)
class Isolation:
    bwrap: str | None  # path of a usable bwrap, or None
    reason: str  # why bubblewrap is not used ('' when it is)
    cgroups: Cgroups | None
    landlock: int = 0  # the Landlock ABI applied to the worker (0: not applied)
    landlock_reason: str = ""  # why Landlock is not used ('' when it is)
    mode: str = "auto"  # GRADE_ISOLATION
    ptrace_reason: str = ""  # why process facts cannot be observed ('' when they can)

    @property
    def pids_cgroup(self) -> bool:
        return self.cgroups is not None and "pids" in self.cgroups.parents

    @property
    def memory_cgroup(self) -> bool:
        return self.cgroups is not None and "memory" in self.cgroups.parents

    @property
    def python(self) -> str:
        """The interpreter to run in the sandbox: the real file, not a venv's symlink
        (a virtual environment's folder is neither visible inside bubblewrap nor
        readable under Landlock)."""
        return os.path.realpath(sys.executable) if self.bwrap or self.landlock else sys.executable

    def refusal(self) -> str:
        """Why grading must not start here, in one line: ``GRADE_REQUIRE_ISOLATION`` is
        set (an autograder, a CI job: fail closed) and neither bubblewrap nor Landlock is
        up, or process facts cannot be observed (ptrace is refused: the submission's
        records of its own processes would be believed as written); '' when it may."""
        if not os.environ.get(REQUIRE_VARIABLE):
            return ""
        refused: list[str] = []
        if not self.bwrap and not self.landlock:
            refused.append(f"neither bubblewrap ({self.reason}) nor Landlock ({self.landlock_reason}) is up here: "
                           "grading submissions with the process-level sandbox alone is refused")
        if self.ptrace_reason:
            refused.append(f"process facts cannot be observed here ({self.ptrace_reason}): grading submissions whose "
                           f"records of their own processes would be believed as written is refused; {ALLOW_PTRACE}")
        if not refused:
            return ""
        return (f"{REQUIRE_VARIABLE} is set, and " + "; and ".join(refused)
                + " (grade --version says which walls are up, and whether process facts are observed)")

    @property
    def walls(self) -> list[str]:
        """The walls that are up, in words."""
        found = ["bubblewrap"] if self.bwrap else []
        if self.landlock:
            found.append(f"Landlock ({', '.join(_grade_landlock.walls(self.landlock))})")
        return found

    def summary(self) -> str:
        """Every wall, up or not and why, in a few lines (``grade --version``)."""
        lines = [f"isolation (GRADE_ISOLATION={self.mode}): "
                 + (" + ".join(self.walls) if self.walls else "the process-level sandbox only")]
        if self.bwrap:
            lines.append(f"  bubblewrap: up ({self.bwrap}): own PID, network, IPC and UTS namespaces, "
                         "no capabilities, only the Python installation and the session folder visible")
        else:
            lines.append(f"  bubblewrap: not used: {self.reason}"
                         + ("" if self.mode in ("landlock", "process") else f"; {INSTALL_BWRAP}"))
        if self.landlock:
            lines.append(f"  Landlock: up (ABI {self.landlock}): "
                         + "; ".join(_LANDLOCK_WORDS[wall] for wall in _grade_landlock.walls(self.landlock)))
            if self.landlock < 6:
                lines.append("  Landlock: signals and abstract unix sockets are not scoped below ABI 6 (Linux 6.12)"
                             + ("; TCP is not restricted below ABI 4 (Linux 6.7)" if self.landlock < 4 else ""))
        else:
            lines.append(f"  Landlock: not used: {self.landlock_reason}"
                         + ("" if self.mode in ("bubblewrap", "process") else f"; {INSTALL_LANDLOCK}"))
        lines.append("  process limit: " + ("a pids cgroup per session" if self.pids_cgroup else
                                            "RLIMIT_NPROC" if os.geteuid() != 0 else
                                            "none (root without a pids cgroup: only the timeout stops a fork bomb)"))
        lines.append("  memory limit: 1 GiB per process (RLIMIT_AS)" + (
            f", {SESSION_MEMORY // 1024**2} MiB per session (a memory cgroup)" if self.memory_cgroup else
            f"; no memory cgroup per session ({_cgroups_reason()})"))
        lines.append("  process facts: " + (f"not observed ({self.ptrace_reason}): {UNOBSERVED}"
                                             if self.ptrace_reason else
                                             "observed with ptrace (every fork, exec and exit in the sandbox; "
                                             "CPU time; weighed calls)"))
        return "\n".join(lines)

    def notice(self, language: str = "en") -> str:
        """What to say once on stderr: '' when every wall the mode asks for is up (at
        least one) and process facts are observed."""
        missing = []
        if not self.bwrap and self.mode in ("auto", "bubblewrap"):
            missing.append(text("isolation.missing", language, wall="bubblewrap", reason=self.reason,
                                remedy=INSTALL_BWRAP))
        if not self.landlock and self.mode in ("auto", "landlock"):
            missing.append(text("isolation.missing", language, wall="Landlock", reason=self.landlock_reason,
                                remedy=INSTALL_LANDLOCK))
        if self.ptrace_reason:
            missing.append(text("isolation.unobserved", language, reason=self.ptrace_reason))
        if not missing and self.walls:
            return ""
        up = " + ".join(self.walls) if self.walls else text("isolation.process_only", language)
        return " ".join([text("isolation.notice", language, up=up), *missing])


_LANDLOCK_WORDS = {
    "files": "reads only the Python installation, the system folders and its own files, writes only its "
             "session folder, /dev/null and (unlisted) /dev/shm",
    "TCP": "no TCP bind or connect",
    "signals": "no signals to the grader or the supervisor",
    "abstract unix sockets": "no abstract unix sockets outside the sandbox",
}


@functools.cache
def isolation() -> Isolation:
    """The walls in force, decided once per grader process (``GRADE_ISOLATION``: see MODES;
    any other value counts as ``auto``)."""
    mode = os.environ.get("GRADE_ISOLATION") or "auto"
    if mode not in MODES:
        mode = "auto"
    bwrap, reason = _find_bwrap(mode)
    landlock, landlock_reason = _find_landlock(mode)
    return Isolation(bwrap, reason, _cgroups(), landlock, landlock_reason, mode, _find_ptrace())


def landlock_rules(folder: Path, boot_dir: Path, iso: Isolation) -> dict | None:
    """What the worker may read (and execute) and write under Landlock; None without it.

    Read: the Python installation (the prefix of the interpreter the sandbox runs and
    the base installation it belongs to), the system folders (shared libraries, and
    ``/usr`` for any program the submission starts) and the boot files (worker,
    tracing runtime). Write: the session folder (the submission, its working folder,
    the records), :data:`LANDLOCK_WRITABLE` and :data:`LANDLOCK_UNLISTED`. Nothing
    else: not the course checkout (``solutions/``, ``grader/checks``), not other
    sessions' folders, not ``/tmp``, not ``/etc``, not ``/proc``.
    """
    if not iso.landlock:
        return None
    python_prefix = os.path.dirname(os.path.dirname(iso.python))
    read = [*dict.fromkeys([os.path.realpath(sys.base_prefix), python_prefix])]
    read += [path for path in ROOT_DIRS if path not in read]
    read.append(str(boot_dir))
    return {"read": read, "write": [str(folder), *LANDLOCK_WRITABLE], "unlisted": list(LANDLOCK_UNLISTED)}


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


@dataclass(frozen=True)
class Cgroups:
    """Where each session's cgroups are made: per controller (``pids``, ``memory``), the
    folder to make them in, below the grader's own cgroup (so the machine's limits on
    the grader still hold). cgroup v1 has a hierarchy per controller; v2 one for all."""

    version: int
    parents: dict[str, Path]


class SessionCgroup:
    """The cgroups of one session: at most :data:`MAX_PROCESSES` processes and threads
    (a fork bomb gets ``EAGAIN``) and :data:`SESSION_MEMORY` bytes for all its
    processes together. A no-op where the machine gives the grader no cgroup to make."""

    def __init__(self, name: str, iso: Isolation) -> None:
        self.version = iso.cgroups.version if iso.cgroups else 0
        self.paths: dict[str, Path] = {}
        if iso.cgroups:
            _remove_stale()
        limits = {"pids": ("pids.max", MAX_PROCESSES),
                  "memory": ("memory.limit_in_bytes" if self.version == 1 else "memory.max", SESSION_MEMORY)}
        for controller, parent in (iso.cgroups.parents.items() if iso.cgroups else ()):
            path = parent / f"grade-{name}"
            try:  # a limit the machine offers is never silently missing: no session without it
                path.mkdir(parents=self.version == 1, exist_ok=self.version == 2)
                self.paths[controller] = path
                file, value = limits[controller]
                (path / file).write_text(str(value))
            except OSError as error:
                self.remove()
                raise OSError(f"the {controller} cgroup of the session could not be made: {error}") from error

    def enter(self) -> None:
        """Move the calling process into the cgroups (run in the child, before exec)."""
        for path in dict.fromkeys(self.paths.values()):
            with open(path / "cgroup.procs", "w") as procs:
                procs.write("0")

    def oom_kills(self) -> int:
        """How many of the session's processes the kernel killed for exceeding its memory."""
        path = self.paths.get("memory")
        if path is None:
            return 0
        try:
            text = (path / ("memory.oom_control" if self.version == 1 else "memory.events")).read_text()
        except OSError:
            return 0
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0))

    def remove(self) -> None:
        """Remove the cgroups once their last process is gone (they may take a moment to die)."""
        for path in dict.fromkeys(self.paths.values()):
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
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


def _find_bwrap(mode: str) -> tuple[str | None, str]:
    if mode in ("landlock", "process"):
        return None, f"GRADE_ISOLATION={mode}"
    path = shutil.which("bwrap")
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    probe = subprocess.run([path, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc",
                            "true"], capture_output=True, text=True, timeout=10)
    if probe.returncode != 0:
        return None, f"bubblewrap was refused here: {probe.stderr.strip()[:200]}"
    return path, ""


def _find_ptrace() -> str:
    """'' when a process may trace its own children here (what the supervisor's tracer
    does), else why not: a child is seized with ``PTRACE_SEIZE`` and let go."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    hold, release = os.pipe()
    pid = os.fork()
    if pid == 0:  # wait to be let go, then leave without running anything of the grader
        os.close(release)
        os.read(hold, 1)
        os._exit(0)
    os.close(hold)
    try:
        if libc.ptrace(_grade_tracer.PTRACE_SEIZE, pid, None, None) != 0:
            return f"ptrace is refused here: {os.strerror(ctypes.get_errno())}"
        return ""
    finally:
        os.close(release)
        os.waitpid(pid, 0)


def _find_landlock(mode: str) -> tuple[int, str]:
    if mode in ("bubblewrap", "process"):
        return 0, f"GRADE_ISOLATION={mode}"
    try:
        return _grade_landlock.abi()
    except (OSError, AttributeError) as error:  # no libc to load, or no syscall() in it
        return 0, f"Landlock could not be probed: {error}"


@functools.cache
def _cgroups_found() -> tuple[Cgroups | None, str]:
    """Where sessions' cgroups can be made, or why nowhere: cgroup v1 as root (the
    controllers' hierarchies writable), or a delegated cgroup v2 subtree (the grader's
    own cgroup, writable, with the pids and memory controllers enabled below it)."""
    try:
        own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    except (OSError, ValueError):
        return None, "no /proc/self/cgroup"
    if (CGROUP_ROOT / "cgroup.controllers").is_file():  # v2, unified
        parent = CGROUP_ROOT / own.get("", "/").lstrip("/")
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None, f"cgroup v2: {parent} cannot be read; {DELEGATE_V2}"
        parents = {c: parent for c in ("pids", "memory") if c in enabled}
        if not parents or not os.access(parent, os.W_OK):
            return None, f"cgroup v2: no delegated subtree with pids and memory; {DELEGATE_V2}"
        return Cgroups(2, parents), ""
    parents = {}
    for controller in ("pids", "memory"):
        hierarchy = CGROUP_ROOT / controller
        mine = next((path for names, path in own.items() if controller in names.split(",")), "/")
        parent = hierarchy / mine.lstrip("/")
        if (hierarchy / "cgroup.procs").is_file() and os.access(parent, os.W_OK):
            parents[controller] = parent / "grade"
    if not parents:
        return None, "cgroup v1: the pids and memory hierarchies are not writable (root only)"
    return Cgroups(1, parents), ""


@functools.cache
def _remove_stale() -> None:
    """Remove the empty cgroups of sessions whose folder is gone (a grader killed before
    it could clean up), once per grader process."""
    for parent in set(_cgroups().parents.values()):
        for path in parent.glob("grade-*"):
            try:  # another grader's session may be starting: only old, empty and folder-less ones
                if (path.stat().st_mtime < time.time() - STALE_CGROUP_S
                        and not (Path(tempfile.gettempdir()) / path.name).exists()
                        and not (path / "cgroup.procs").read_text().strip()):
                    path.rmdir()
            except OSError:
                continue


def _cgroups() -> Cgroups | None:
    return _cgroups_found()[0]


def _cgroups_reason() -> str:
    return _cgroups_found()[1] or "not writable"
