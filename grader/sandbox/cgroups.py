"""The cgroups of a sandbox session: its limits, and the kill of everything in it.

Every process of a session is in cgroups the grader makes for it, below the grader's
own (so the machine's limits on the grader still hold):

- **pids**: at most :data:`MAX_PROCESSES` processes and threads (a fork bomb gets
  ``EAGAIN``); the supervisor and the submission together.
- **memory**: at most :data:`SESSION_MEMORY` bytes for the submission's processes
  together. The supervisor is *not* in it: the kernel's OOM killer picks within the
  cgroup, so the submission can never get the supervisor killed by growing it (it keeps
  a bounded amount of records, see ``boot/_grade_supervisor.py``). The worker joins it
  before ``exec`` through a descriptor the grader opened (:meth:`SessionCgroup.worker_fd`).
- **freezer** (cgroup v1) or ``cgroup.kill`` (cgroup v2): :meth:`SessionCgroup.kill_all`
  kills every process in the session, however it forked (``CLONE_UNTRACED``, a chain of
  processes each gone before a scan of ``/proc`` names it), whatever its environment, and
  whether or not the supervisor is alive. A process cannot leave its cgroups: moving
  needs write access to another cgroup's ``cgroup.procs``, which the submission has not.

cgroup v1 (one hierarchy per controller) needs root; cgroup v2 needs a delegated subtree.
Where neither is available, the sandbox relies on what the supervisor's tracer does
(``PTRACE_O_EXITKILL``: the kernel kills every traced process when the supervisor ends;
the seccomp filter refuses ``CLONE_UNTRACED``).
"""

from __future__ import annotations

import functools
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MAX_PROCESSES = 256  # per session: processes and threads of the submission
SESSION_MEMORY = 3 * 1024**3 // 2  # per session, all its processes together (1 GiB per process besides)
STALE_CGROUP_S = 3600.0  # a session's cgroup older than this, without its folder, is left over
DELEGATE_V2 = "run grade under a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes grade ..."
FREEZE_WAIT_S = 1.0  # how long a freezer cgroup may take to freeze before its processes are killed anyway
KILL_ROUNDS = 200  # kills of what the cgroup holds, until it is empty
EMPTY_WAIT_S = 2.0  # how long the kernel may take to finish killing them


@dataclass(frozen=True)
class Cgroups:
    """Where each session's cgroups are made: per controller (``pids``, ``memory``,
    ``freezer``), the folder to make them in. cgroup v1 has a hierarchy per controller;
    v2 one for all (the session's cgroup is then split in two: ``supervisor`` and
    ``sandbox``, the memory limit on the second only)."""

    version: int
    parents: dict[str, Path]

    @property
    def kills(self) -> bool:
        """Whether every process of a session can be killed at once: a freezer (v1) or
        ``cgroup.kill`` (v2, Linux 5.14)."""
        if self.version == 2:
            return (next(iter(self.parents.values())) / "cgroup.kill").exists() or _has_cgroup_kill()
        return "freezer" in self.parents


class SessionCgroup:
    """The cgroups of one session. A no-op where the machine gives the grader no cgroup
    to make; every limit the machine offers is made, or the session does not start."""

    def __init__(self, version: int = 0, paths: dict[str, Path] | None = None,
                 sandbox: dict[str, Path] | None = None, supervisor: dict[str, Path] | None = None) -> None:
        self.version = version
        self.paths = paths or {}  # controller -> the session's cgroup (v2: its top)
        self.sandbox = sandbox or dict(self.paths)  # controller -> where the submission's processes go
        self.supervisor = supervisor or {}  # controller -> where the supervisor goes

    @classmethod
    def make(cls, name: str, groups: Cgroups | None) -> SessionCgroup:
        """Make the cgroups of session ``name`` (its folder's name, ``grade-...``; none
        where ``groups`` is None)."""
        if groups is None:
            return cls()
        _remove_stale()
        made = cls(groups.version)
        try:
            if groups.version == 2:
                made._make_v2(groups, name)
            else:
                made._make_v1(groups, name)
        except OSError as error:
            made.remove()
            raise OSError(f"the cgroups of the session could not be made: {error}") from error
        return made

    def _make_v1(self, groups: Cgroups, name: str) -> None:
        limits = {"pids": ("pids.max", MAX_PROCESSES), "memory": ("memory.limit_in_bytes", SESSION_MEMORY)}
        for controller, parent in groups.parents.items():
            path = parent / name
            path.mkdir(parents=True)
            self.paths[controller] = self.sandbox[controller] = path
            if controller != "memory":
                self.supervisor[controller] = path
            if controller in limits:
                file, value = limits[controller]
                (path / file).write_text(str(value))

    def _make_v2(self, groups: Cgroups, name: str) -> None:
        top = next(iter(groups.parents.values())) / name
        top.mkdir()
        self.paths = dict.fromkeys(groups.parents, top)
        if "pids" in groups.parents:
            (top / "pids.max").write_text(str(MAX_PROCESSES))
        (top / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in groups.parents))
        for part in ("supervisor", "sandbox"):
            (top / part).mkdir()
        if "memory" in groups.parents:
            (top / "sandbox" / "memory.max").write_text(str(SESSION_MEMORY))
        self.supervisor = dict.fromkeys(groups.parents, top / "supervisor")
        self.sandbox = dict.fromkeys(groups.parents, top / "sandbox")

    def enter(self) -> None:
        """Move the calling process (the supervisor, before exec) into its cgroups: all of
        the session's but the memory one."""
        for path in dict.fromkeys(self.supervisor.values()):
            with open(path / "cgroup.procs", "w") as procs:
                procs.write("0")

    def worker_fd(self) -> int | None:
        """A descriptor of the memory cgroup's ``cgroup.procs``, open for writing, for
        the worker to move itself into (it writes ``0`` before exec; it could not open the
        file itself: bubblewrap does not show it, and it is not the worker's to open).
        None without a memory cgroup, or where it is the supervisor's (v2 without one)."""
        path = self.sandbox.get("memory")
        if path is None or path == self.supervisor.get("memory"):
            return None
        return os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

    def oom_kills(self) -> int:
        """How many of the session's processes the kernel killed for exceeding its memory."""
        path = self.sandbox.get("memory")
        if path is None:
            return 0
        try:
            text = (path / ("memory.oom_control" if self.version == 1 else "memory.events")).read_text()
        except OSError:
            return 0
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0))

    def pids(self) -> list[int]:
        """Every process in the session's cgroups (v1: the pids or freezer hierarchy's)."""
        found: set[int] = set()
        for path in self._procs_files():
            try:
                found.update(int(line) for line in path.read_text().split())
            except (OSError, ValueError):
                continue
        return sorted(found)

    def kill_all(self) -> None:
        """Kill every process of the session until none is left. cgroup v2:
        ``cgroup.kill``. v1: freeze (nothing can fork while frozen), send ``SIGKILL`` to
        every process listed, thaw (they die), until the list is empty. Without a
        freezer, the list is killed over and over until it stays empty."""
        top = self.paths.get("pids") or self.paths.get("freezer") or self.paths.get("memory")
        if self.version == 2 and top is not None and (top / "cgroup.kill").exists():
            if self.pids():
                (top / "cgroup.kill").write_text("1")
            self._wait_empty()
            return
        freezer = self.paths.get("freezer") if self.version == 1 else None
        for _ in range(KILL_ROUNDS):
            remaining = self.pids()
            if not remaining:
                break
            frozen = freezer is not None and _freeze(freezer)
            for pid in self.pids() if frozen else remaining:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if freezer is not None:
                _write(freezer / "freezer.state", "THAWED")
            time.sleep(0.001)
        self._wait_empty()

    def _wait_empty(self) -> None:
        deadline = time.monotonic() + EMPTY_WAIT_S
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.002)

    def _procs_files(self) -> list[Path]:
        folders = [*self.paths.values(), *self.sandbox.values(), *self.supervisor.values()]
        return [path / "cgroup.procs" for path in dict.fromkeys(folders)]

    def remove(self) -> None:
        """Remove the cgroups once their last process is gone (they may take a moment to die)."""
        for path in [*dict.fromkeys([*self.sandbox.values(), *self.supervisor.values()]),
                     *dict.fromkeys(self.paths.values())]:
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _freeze(freezer: Path) -> bool:
    """Freeze a v1 freezer cgroup; whether it froze within FREEZE_WAIT_S."""
    _write(freezer / "freezer.state", "FROZEN")
    deadline = time.monotonic() + FREEZE_WAIT_S
    while time.monotonic() < deadline:
        try:
            if (freezer / "freezer.state").read_text().strip() == "FROZEN":
                return True
        except OSError:
            return False
        time.sleep(0.001)
    return False


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass


@functools.cache
def _has_cgroup_kill() -> bool:
    """Whether this kernel has ``cgroup.kill`` (v2, Linux 5.14 and later)."""
    release = os.uname().release.split(".")
    try:
        return (int(release[0]), int(release[1].split("-")[0])) >= (5, 14)
    except (IndexError, ValueError):
        return False


@functools.cache
def cgroups_found() -> tuple[Cgroups | None, str]:
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
    for controller in ("pids", "memory", "freezer"):
        hierarchy = CGROUP_ROOT / controller
        mine = next((path for names, path in own.items() if controller in names.split(",")), "/")
        parent = hierarchy / mine.lstrip("/")
        if (hierarchy / "cgroup.procs").is_file() and os.access(parent, os.W_OK):
            parents[controller] = parent / "grade"
    if not parents:
        return None, "cgroup v1: the pids, memory and freezer hierarchies are not writable (root only)"
    return Cgroups(1, parents), ""


def cgroups() -> Cgroups | None:
    return cgroups_found()[0]


def cgroups_reason() -> str:
    return cgroups_found()[1] or "not writable"


@functools.cache
def _remove_stale() -> None:
    """Kill what is left in the cgroups of sessions whose folder is gone (a grader killed
    before it could clean up) and remove them, once per grader process."""
    groups = cgroups()
    if groups is None:
        return
    for controller, parent in groups.parents.items():
        for path in parent.glob("grade-*"):
            try:  # another grader's session may be starting: only old and folder-less ones
                if (path.stat().st_mtime < time.time() - STALE_CGROUP_S
                        and not (Path(tempfile.gettempdir()) / path.name).exists()):
                    stale = (SessionCgroup(2, {"pids": path}, {"memory": path / "sandbox"},
                                           {"pids": path / "supervisor"}) if groups.version == 2 else
                             SessionCgroup(1, {controller: path}))
                    stale.kill_all()
                    stale.remove()
            except OSError:
                continue
