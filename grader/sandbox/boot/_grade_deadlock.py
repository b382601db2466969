"""A deadlock answered as soon as it is certain, from kernel facts the supervisor reads.

A call of the submission is *deadlocked* when no process of it can ever run again
unless something outside the sandbox wakes it. The supervisor decides that from
``/proc`` alone (nothing the submission writes about itself), polling every
:data:`POLL_S` while a call runs:

- every thread of every process of the sandbox (the worker and all its descendants;
  zombies have nothing left to do) is asleep (state ``S``) inside a system call that
  waits with no timeout, read from ``/proc/PID/task/TID/syscall`` (its number and
  arguments): a futex wait with a NULL timeout (``threading`` and multiprocessing locks,
  semaphores, conditions, ``Thread.join``), ``wait4``/``waitid`` without ``WNOHANG``
  (``Process.join``), ``poll``/``ppoll``/``select``/``pselect6``/``epoll_wait`` with
  an infinite timeout (``Connection.wait``, the fork server), a read or receive on a
  pipe, FIFO or Unix socket (``Queue.get``, ``Connection.recv``), a write or send on a
  pipe or a Unix stream socket (the queue feeder thread pushing into a full pipe);
  multiprocessing's helpers (the resource tracker, the fork server, known to the
  supervisor from before the submission was imported) only have to be asleep;
- nothing moved during a settle time: the same processes and threads, each in the same
  system call with the same arguments, the same CPU time and the same number of
  context switches (``voluntary_ctxt_switches``: a thread woken even once, however
  briefly, has one more) at both ends of :attr:`DeadlockWatch.settle_s`;
- nothing a timer or the network could wake: every open file of the submission's
  processes is a pipe, a FIFO, a Unix socket, a file, a folder, an epoll set or one of
  ``/dev/null``, ``/dev/zero``, ``/dev/random``, ``/dev/urandom`` (no TCP socket, no
  timerfd, signalfd, eventfd, pidfd, inotify), no process has a POSIX timer
  (``/proc/PID/timers``) or catches ``SIGALRM`` (``alarm()``/``setitimer()`` timers are
  not visible in ``/proc``: a caught ``SIGALRM`` is taken as one).

A thread that sleeps (``time.sleep``: ``clock_nanosleep``), waits with a timeout (a
``Queue.get(timeout=...)`` polling loop, an ``Event.wait(1)``) or computes is not
blocked for good: such a call is slow, not deadlocked, and is left to its timeout; so is
every case this module does not recognise (another system call, a process the
supervisor may not inspect, an architecture without a table below). Each fact is one
the kernel keeps: a submission can hide a deadlock from this watch (it is then answered
at the timeout, as before), never make a running call look deadlocked.

Standard library only: the supervisor loads this file with ``-I -S``.
"""

from __future__ import annotations

import os
import stat

POLL_S = 0.05  # how often the supervisor looks while a call runs

# System call numbers of the waits recognised, per architecture (``uname -m``).
SYSCALLS: dict[str, dict[int, str]] = {
    "x86_64": {0: "read", 1: "write", 7: "poll", 19: "readv", 20: "writev", 23: "select", 44: "sendto",
               45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 61: "wait4", 202: "futex", 232: "epoll_wait",
               247: "waitid", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait", 441: "epoll_pwait2",
               449: "futex_waitv"},
    "aarch64": {22: "epoll_pwait", 63: "read", 64: "write", 65: "readv", 66: "writev", 72: "pselect6",
                73: "ppoll", 95: "waitid", 98: "futex", 206: "sendto", 207: "recvfrom", 211: "sendmsg",
                212: "recvmsg", 260: "wait4", 441: "epoll_pwait2", 449: "futex_waitv"},
}
READS = ("read", "readv", "recvfrom", "recvmsg")
WRITES = ("write", "writev", "sendto", "sendmsg")
# futex operations that sleep (FUTEX_WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2);
# the command is the operation without FUTEX_PRIVATE_FLAG (128) and FUTEX_CLOCK_REALTIME (256).
FUTEX_WAITS = {0, 6, 9, 11, 13}
FUTEX_CMD_MASK = 0x7F
WNOHANG = 1
# Where each wait keeps its timeout: (argument index, "pointer" (NULL: none) or "int"
# (negative: none)); the waits of wait4/waitid are in their options instead.
TIMEOUTS = {"futex": (3, "pointer"), "futex_waitv": (3, "pointer"), "poll": (2, "int"), "ppoll": (2, "pointer"),
            "select": (4, "pointer"), "pselect6": (4, "pointer"), "epoll_wait": (3, "int"),
            "epoll_pwait": (3, "int"), "epoll_pwait2": (3, "pointer")}
# Character devices that never wake anyone: /dev/null, /dev/zero, /dev/random, /dev/urandom.
QUIET_DEVICES = {(1, 3), (1, 5), (1, 8), (1, 9)}
UNIX_STREAM = 1
SIGALRM_BIT = 1 << (14 - 1)


def blocking_wait(line: str, machine: str | None = None) -> tuple[str, int | None] | None:
    """What ``/proc/PID/task/TID/syscall`` says the thread waits in, if it is a wait
    with no timeout: (the system call's name, its file descriptor for reads and writes,
    else None); None for anything else (running, not in a system call, a wait with a
    timeout, a sleep, an unknown call)."""
    names = SYSCALLS.get(machine or _machine())
    fields = line.split()
    if names is None or len(fields) < 7 or not fields[0].isdigit():
        return None  # "running", or "-1 SP PC" (not in a system call)
    name = names.get(int(fields[0]))
    try:
        args = [int(field, 16) for field in fields[1:7]]
    except ValueError:
        return None
    if name is None:
        return None
    if name in READS or name in WRITES:
        return name, args[0] & 0xFFFFFFFF
    if name == "futex" and args[1] & FUTEX_CMD_MASK not in FUTEX_WAITS:
        return None
    if name == "wait4":
        return (name, None) if not args[2] & WNOHANG else None
    if name == "waitid":
        return (name, None) if not args[3] & WNOHANG else None
    index, kind = TIMEOUTS[name]
    value = args[index]
    if kind == "pointer":
        return (name, None) if value == 0 else None
    return (name, None) if value & 0x80000000 else None  # an int below zero: wait for ever


def _machine() -> str:
    """``platform.machine()``, without the ``platform`` module (~10 ms to import, in every session)."""
    return os.uname().machine


class DeadlockWatch:
    """Decides, poll after poll, whether a call is deadlocked (see the module's notes).

    :meth:`poll` returns True once the same blocked state has held for ``settle_s``."""

    def __init__(self, settle_s: float, machine: str | None = None) -> None:
        self.settle_s = settle_s
        self.machine = machine or _machine()
        self.first: tuple[float, dict] | None = None  # (when, snapshot) of the current quiet spell
        self.refused: dict | None = None  # a snapshot that failed the final checks: not again
        # Of the current call, for measuring the margin: looks that found every thread
        # blocked, and the longest spell the same blocked state held (0 for a call that
        # finishes, unless something this module cannot see woke it).
        self.blocked_looks = 0
        self.quiet_s = 0.0

    @property
    def possible(self) -> bool:
        """Whether this machine's system calls are known (else the watch never answers)."""
        return self.settle_s > 0 and self.machine in SYSCALLS

    def reset(self) -> None:
        self.first = None
        self.blocked_looks = 0
        self.quiet_s = 0.0

    def poll(self, now: float, worker: int, helpers: set[int], processes, every_process) -> bool:
        """One look. ``processes`` is called (only when the worker is blocked) for the
        sandbox's live processes as cheaply known (``{pid: {"state": ...}}``: the
        tracer's table), ``every_process`` (only to confirm) for them as ``/proc``
        lists them (the supervisor's descendants, re-parented orphans included): a
        process one of them does not know is a reason for doubt."""
        if not self.possible or self._threads(worker, helper=False) is None:
            self.first = None  # the worker computes, sleeps or waits with a timeout: cheap way out
            return False
        snapshot = self._snapshot(worker, helpers, processes())
        if snapshot is None:
            self.first = None
            return False
        self.blocked_looks += 1
        if self.first is None or self.first[1] != snapshot:
            self.first = (now, snapshot)
            return False
        self.quiet_s = max(self.quiet_s, now - self.first[0])
        if now - self.first[0] < self.settle_s or snapshot == self.refused:
            return False
        listed = {pid for pid, info in every_process().items() if info.get("state") not in ("Z", "X")}
        if listed != set(snapshot) or not self._nothing_can_wake(snapshot, helpers):
            self.refused = snapshot
            return False
        return True

    def _snapshot(self, worker: int, helpers: set[int], table: dict[int, dict]) -> dict | None:
        """Every thread of the sandbox and what it waits in, or None if one is not blocked."""
        if worker not in table:
            return None
        snapshot = {}
        for pid in sorted(table):
            if table[pid].get("state") in ("Z", "X"):
                continue  # it has exited: its parent reaps it (the exit already woke whoever waited)
            threads = self._threads(pid, helper=pid in helpers)
            if threads is None:
                return None
            snapshot[pid] = threads
        return snapshot

    def _threads(self, pid: int, helper: bool) -> dict | None:
        """Each thread of ``pid``: (state, system call line, CPU ticks, context switches),
        or None if one of them is not asleep in a wait without timeout (for a helper:
        not asleep)."""
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return None
        threads = {}
        for task in tasks:
            base = f"/proc/{pid}/task/{task}"
            try:
                with open(f"{base}/stat", "rb") as file:
                    stat_line = file.read().decode("ascii", "replace")
                fields = stat_line[stat_line.rfind(")") + 2:].split()
                state = fields[0]
                if state in ("Z", "X"):
                    continue  # an exited thread of a live process
                if state != "S":
                    return None
                with open(f"{base}/syscall", "rb") as file:
                    syscall = file.read().decode("ascii", "replace").strip()
                if not helper and blocking_wait(syscall, self.machine) is None:
                    return None
                with open(f"{base}/status", "rb") as file:
                    switches = [line.split()[1] for line in file if b"ctxt_switches:" in line]
            except (OSError, IndexError, ValueError):
                return None  # gone, or not ours to inspect: not certain
            threads[int(task)] = (state, syscall, fields[11], fields[12], tuple(switches))
        return threads or None

    def _nothing_can_wake(self, snapshot: dict, helpers: set[int]) -> bool:
        """The final checks, once the state has held: no timer, no descriptor that
        something other than the sandbox's (sleeping) processes could make ready, and
        each read or write on a pipe, FIFO or Unix socket (writes: stream sockets only;
        the supervisor's own sockets are datagram and seqpacket, and it keeps reading them)."""
        unix: dict[int, int] | None = None
        for pid, threads in snapshot.items():
            if pid in helpers:
                continue
            try:
                if _timers_or_alarm(pid):
                    return False
                kinds = {}
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    kind, inode = _fd_kind(pid, fd)
                    if kind == "socket":
                        unix = _unix_sockets(pid) if unix is None else unix
                        kind = "unix_stream" if unix.get(inode) == UNIX_STREAM else \
                            "unix" if inode in unix else "other"
                    if kind == "other":
                        return False
                    kinds[int(fd)] = kind
            except (OSError, ValueError):
                return False
            for _, syscall, *_ in threads.values():
                name, fd = blocking_wait(syscall, self.machine)
                if name in READS and kinds.get(fd) not in ("pipe", "unix", "unix_stream"):
                    return False
                if name in WRITES and kinds.get(fd) not in ("pipe", "unix_stream"):
                    return False
        return True


def _fd_kind(pid: int, fd: str) -> tuple[str, int]:
    """What file descriptor ``fd`` of ``pid`` is: pipe (or FIFO), socket, file (or folder,
    quiet device, epoll set) or other; and its inode."""
    path = f"/proc/{pid}/fd/{fd}"
    link = os.readlink(path)
    if link.startswith("anon_inode:"):
        return ("file" if link == "anon_inode:[eventpoll]" else "other"), 0
    info = os.stat(path)
    mode = info.st_mode
    if stat.S_ISFIFO(mode):
        return "pipe", info.st_ino
    if stat.S_ISSOCK(mode):
        return "socket", info.st_ino
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return "file", info.st_ino
    if stat.S_ISCHR(mode) and (os.major(info.st_rdev), os.minor(info.st_rdev)) in QUIET_DEVICES:
        return "file", info.st_ino
    return "other", info.st_ino


def _unix_sockets(pid: int) -> dict[int, int]:
    """The Unix sockets of ``pid``'s network namespace: inode -> type (1 stream, 2
    datagram, 5 seqpacket)."""
    sockets = {}
    with open(f"/proc/{pid}/net/unix", "rb") as file:
        next(file, None)  # the header
        for line in file:
            fields = line.split()
            if len(fields) >= 7:
                sockets[int(fields[6])] = int(fields[4], 16)
    return sockets


def _timers_or_alarm(pid: int) -> bool:
    """Whether ``pid`` has a POSIX timer or catches SIGALRM (a timer may be set)."""
    try:
        with open(f"/proc/{pid}/timers", "rb") as file:
            if file.read().strip():
                return True
    except FileNotFoundError:
        pass  # a kernel without CONFIG_CHECKPOINT_RESTORE: only the SIGALRM check
    with open(f"/proc/{pid}/status", "rb") as file:
        for line in file:
            if line.startswith(b"SigCgt:"):
                return bool(int(line.split()[1], 16) & SIGALRM_BIT)
    return True
