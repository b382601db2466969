"""Isolation around a sandbox session: the walls, which are up here, and why not the others.

Two walls a mode chooses, each used where the machine has it (``GRADE_ISOLATION``:
``auto``, the default, both where available; ``bubblewrap`` or ``landlock``, that one
only; ``process``, neither: the process-level sandbox alone, explicitly degraded):

- **bubblewrap** (``bwrap``), when installed and allowed: the supervisor and everything
  under it run in new PID, network, IPC and UTS namespaces, see only the Python
  installation (read-only), the sandbox's boot files (read-only), the session folder
  (read-write) and a ``/tmp`` and ``/dev/shm`` of their own, of bounded size. The
  supervisor keeps only the capabilities it needs to watch the submission (trace,
  signal, change to the submission's user); the submission has none. Killing the
  namespace's init kills every process in it, whatever it did to escape.
- **Landlock** (Linux 5.13 and later, unprivileged, no extra binary): applied by the
  supervisor to the worker just before ``exec`` (``boot/_grade_landlock.py``), so it
  holds for the submission and everything it starts, under bubblewrap too (a second
  wall) or alone. The worker may read and execute the Python installation, the system
  folders and the boot files, and write only its session folder, ``/dev/null`` and,
  without listing it, ``/dev/shm`` (multiprocessing's semaphores and shared memory);
  TCP bind and connect are refused (ABI 4), and so are signals to processes outside
  the sandbox (the supervisor, the grader) and their abstract unix sockets (ABI 6).
  See :func:`landlock_rules`.

And walls every mode has, where the machine allows them:

- **cgroups** (``cgroups.py``): a process and thread limit, a memory limit for the
  submission's processes (not the supervisor's), and a kill of every process of the
  session at its end, however it forked. Without a pids cgroup a non-root grader falls
  back to ``RLIMIT_NPROC`` (per user: see :func:`nproc_limit`).
- **a user of its own** (``account.py``): a root grader runs the submission as a user id
  of its own per session, never as root.
- **seccomp** (``boot/_grade_seccomp.py``): no socket but ``AF_UNIX`` (no UDP, TCP,
  netlink or raw packets), no ``CLONE_UNTRACED`` nor namespaces, no ptrace, mount, bpf,
  io_uring and the like.
- **a disk budget** (``disk.py``): the session folder a tmpfs of bounded size and file
  count where the grader may mount, else measured by the supervisor.

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
from dataclasses import dataclass
from pathlib import Path

from grader.i18n import text
from grader.sandbox import account, disk
from grader.sandbox.boot import _grade_landlock, _grade_seccomp, _grade_tracer
from grader.sandbox.cgroups import MAX_PROCESSES, SESSION_MEMORY, Cgroups, cgroups, cgroups_reason

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
BOOT_DIR = Path(__file__).parent / "boot"
# What a root grader's supervisor keeps under bubblewrap: to trace, signal and read the
# /proc files (owner-only: pagemap, syscall, fd) of the submission's processes, which run
# as another user, and to become that user in the worker before its exec (which clears
# them all).
SUPERVISOR_CAPABILITIES = ("CAP_KILL", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SETUID", "CAP_SETGID")
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
    user_reason: str = ""  # why the submission does not run as a user of its own ('' when it does)
    seccomp_reason: str = ""  # why the seccomp filter is not applied ('' when it is)
    tmpfs_reason: str = ""  # why session folders are not tmpfs mounts of their own ('' when they are)
    reach: tuple[str, ...] = ()  # folders the user of its own is shown through a mount namespace

    @property
    def own_user(self) -> bool:
        return not self.user_reason

    @property
    def seccomp(self) -> bool:
        return not self.seccomp_reason

    @property
    def tmpfs(self) -> bool:
        return not self.tmpfs_reason

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
                         "only the Python installation and the session folder visible, tmpfs /tmp and /dev/shm; the supervisor keeps "
                         "only the capabilities to watch the submission, which has none")
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
                                            "RLIMIT_NPROC" if os.geteuid() != 0 or self.own_user else
                                            "none (root without a pids cgroup: only the timeout stops a fork bomb)"))
        lines.append("  memory limit: 1 GiB per process (RLIMIT_AS)" + (
            f", {SESSION_MEMORY // 1024**2} MiB per session (a memory cgroup, the supervisor outside it)"
            if self.memory_cgroup else f"; no memory cgroup per session ({cgroups_reason()})"))
        lines.append("  end of a session: " + (
            "every process in the session's cgroup killed (" + ("cgroup.kill" if self.cgroups.version == 2 else
                                                                 "frozen, then killed") + ")"
            if self.cgroups and self.cgroups.kills else
            f"no cgroup to kill by ({cgroups_reason()}): every traced process killed with the supervisor "
            "(PTRACE_O_EXITKILL), untraced ones refused by seccomp"))
        lines.append("  user: " + ("a user id of its own per session, no capabilities" if self.own_user else
                                   self.user_reason)
                     + (f" ({', '.join(self.reach)} shown to it through a mount namespace)" if self.reach else ""))
        lines.append("  seccomp: " + (f"up: refuses {_grade_seccomp.WORDS}" if self.seccomp else
                                      f"not used: {self.seccomp_reason}"))
        budget = f"{disk.DISK_BYTES // 1024**2} MiB and {disk.DISK_FILES:,} files"
        lines.append("  disk: " + (f"the session folder a tmpfs of {budget}" if self.tmpfs else
                                   f"{budget} in the session folder, measured by the supervisor "
                                   f"({self.tmpfs_reason})")
                     + ("; /tmp and /dev/shm tmpfs of their own of the same size" if self.bwrap else
                        "; what the session leaves in /dev/shm is removed at its end"))
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
    seccomp_up, seccomp_reason = _grade_seccomp.supported()
    user_reason, reach = account.decide(bool(bwrap), os.path.realpath(sys.executable), BOOT_DIR)
    return Isolation(bwrap, reason, cgroups(), landlock, landlock_reason, mode, _find_ptrace(), user_reason,
                     "" if seccomp_up else seccomp_reason, disk.tmpfs_reason(), reach)


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
    """``command`` run inside bubblewrap, if available. The folders above the ones shown
    are made readable by any user (the submission's user of its own must reach them);
    a root grader's supervisor keeps :data:`SUPERVISOR_CAPABILITIES`, nothing else."""
    if not iso.bwrap:
        return command
    args = [iso.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if os.geteuid() == 0:
        for capability in SUPERVISOR_CAPABILITIES:
            args += ["--cap-add", capability]
    for path in ROOT_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    size = str(disk.DISK_BYTES)
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    prefix = os.path.realpath(sys.base_prefix)
    shown = [*([prefix] if not prefix.startswith("/usr/") else []), str(boot_dir), str(folder)]
    for above in dict.fromkeys(parent for path in shown for parent in reversed(Path(path).parents)):
        if str(above) not in ("/", "/tmp") and not any(Path(root) in (above, *above.parents) for root in ROOT_DIRS):
            args += ["--perms", "0755", "--dir", str(above)]
    if prefix in shown:
        args += ["--ro-bind", prefix, prefix]
    args += ["--ro-bind", str(boot_dir), str(boot_dir), "--bind", str(folder), str(folder), "--chdir", str(folder)]
    return [*args, *command]


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
