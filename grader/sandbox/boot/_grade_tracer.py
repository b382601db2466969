"""Process facts the submission cannot forge: every fork, exec and exit in the sandbox,
the CPU time of every process and thread, weighed spans, pages of shared memory used.

The supervisor traces the worker with ``ptrace`` (``PTRACE_SEIZE`` with the fork, vfork,
clone, exec and exit options), so the kernel stops every task of the sandbox when it
creates a process or a thread, when it execs and on its way out: which processes and
threads existed, which process created each, when each started and ended, how it exited
and the CPU time the kernel charged it are observed from outside the submission's
processes. A task's two marks (signals it sends itself, ``_grade_runtime.weighed``)
delimit a weighed span whose CPU time is read from its ``schedstat``. These facts are
what a check may pass on (``grader/sandbox/trace.py``, ``Observed``); the trace the
submission's processes write themselves (``_grade_runtime``) is believed only where it
agrees with them, and only ever explains or fails.

Why ptrace: it works as root and as any user, under bubblewrap (the supervisor is in the
same PID namespace) and under Landlock (the tracer is outside the domain); it sees
every process, however short-lived; and the stops happen only at task creation, exec,
signal delivery and exit, not at every system call. The proc connector (netlink) needs
root and the initial network namespace; a cgroup's process list or polling ``/proc``
misses processes that live between two looks. With ``PTRACE_O_EXITKILL`` the kernel
also kills every traced process if the supervisor dies.

ptrace requests must come from the tracing thread: :class:`Tracer` runs in a thread of
its own that attaches, resumes every stop and reaps every task; nothing else in the
supervisor may call ``waitpid`` while it runs. Standard library only, and its C
modules rather than their Python wrappers where the wrapper costs the supervisor's
start-up time for nothing (``_thread``, ``_signal``, ``_socket``: ``threading``,
``signal`` and ``socket`` with the ``enum`` module behind them take a few milliseconds
to import, in every session).
"""

from __future__ import annotations

import _signal
import _socket
import _struct
import _thread
import ctypes
import os
import time

try:  # in the supervisor, boot/ is on sys.path; in the grader, a package
    from _grade_values import MARK_BEGIN, MARK_END
except ImportError:
    from grader.sandbox.boot._grade_values import MARK_BEGIN, MARK_END

PTRACE_CONT = 7
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_LISTEN = 0x4208
OPTIONS = 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x100000  # TRACEFORK, TRACEVFORK, TRACECLONE, TRACEEXEC, TRACEEXIT, EXITKILL
EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC, EVENT_EXIT, EVENT_STOP = 1, 2, 3, 4, 6, 128
WALL = 0x40000000
STOP_SIGNALS = {_signal.SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU}
UCRED = _struct.calcsize("iII")
SPANS_LIMIT = 1_000  # weighed spans kept per process
# At most this many processes and threads are recorded in a session (the pids cgroup bounds
# how many run at once, not how many a session starts one after another): past it the
# session is flooded, and the supervisor stops it.
TASKS_LIMIT = 20_000
SHARED_MEMORY_NAMES_LIMIT = 4_096  # names of /dev/shm kept, to remove at the end


class Thread:
    """A daemon thread running ``target`` (what ``threading.Thread`` gives here, from ``_thread``)."""

    def __init__(self, target) -> None:
        self.target = target
        self.done = Event()

    def start(self) -> None:
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        try:
            self.target()
        finally:
            self.done.set()

    def join(self, timeout: float | None = None) -> None:
        self.done.wait(timeout)

    def is_alive(self) -> bool:
        return not self.done.is_set()


class Event:
    """``threading.Event``, for one setter and any number of waiters."""

    def __init__(self) -> None:
        self.lock = _thread.allocate_lock()
        self.lock.acquire()

    def set(self) -> None:
        if self.lock.locked():
            try:
                self.lock.release()
            except RuntimeError:  # set twice at once: it is set
                pass

    def is_set(self) -> bool:
        return not self.lock.locked()

    def wait(self, timeout: float | None = None) -> bool:
        if self.lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            self.lock.release()
            return True
        return False


class Tracer:
    """Traces one worker and everything it starts, from a thread of its own."""

    def __init__(self, worker: int, release_fd: int, shared_pages: bool = False,
                 shared_memory_names: bool = False) -> None:
        self.worker = worker
        self.shared_pages = shared_pages  # count each process's pages of shared memory when it exits
        # keep the names of the files of /dev/shm each process has mapped when it exits
        self.shared_memory_names: set[str] | None = set() if shared_memory_names else None
        self.flooded = False  # more than TASKS_LIMIT processes and threads: no more are recorded
        self.release_fd = release_fd  # the worker waits on this pipe until it is traced
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.restype = ctypes.c_long
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.processes: dict[int, dict] = {}  # pid -> ppid, t0, t_end, exit, exec, cpu_s, threads
        self.threads: dict[int, dict] = {}  # task of a thread -> t0, t_end, cpu_s (its process's "threads")
        self.exits: dict[int, int] = {}  # pid -> exit code (negative: killed by that signal)
        self.tgid: dict[int, int] = {worker: worker}  # task -> its process
        self.open_spans: dict[int, tuple[float, float]] = {}  # task -> (time, its CPU time) at MARK_BEGIN
        self.attached = Event()
        self.error = ""
        self.thread = Thread(self._run)

    def start(self) -> bool:
        """Attach (in the tracer thread) and release the worker; False if ptrace is refused."""
        self.thread.start()
        self.attached.wait()
        return not self.error

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def facts(self) -> list[dict]:
        return [dict(info, pid=pid) for pid, info in sorted(self.processes.items())]

    def _run(self) -> None:
        self.processes[self.worker] = _process(os.getpid(), time.monotonic())
        if self.libc.ptrace(PTRACE_SEIZE, self.worker, None, ctypes.c_void_p(OPTIONS)) != 0:
            self.error = f"ptrace refused: {os.strerror(ctypes.get_errno())}"
        os.write(self.release_fd, b"x")
        os.close(self.release_fd)
        self.attached.set()
        if self.error:
            return
        while True:
            try:
                pid, status = os.waitpid(-1, WALL)
            except ChildProcessError:
                return  # no task left: the session is over
            except InterruptedError:
                continue
            self._handle(pid, status)

    def _handle(self, task: int, status: int) -> None:
        now = time.monotonic()
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            process = self.tgid.pop(task, task)
            if task in self.threads and self.threads[task]["t_end"] is None:  # killed before its exit stop
                self.threads[task]["t_end"] = now
            if process == task and task in self.processes:  # the process itself, not one of its threads
                code = os.waitstatus_to_exitcode(status)
                self.processes[task].update(t_end=now, exit=code)
                self.exits[task] = code
            return
        if not os.WIFSTOPPED(status):
            return
        stop_signal, event = os.WSTOPSIG(status), status >> 16
        inject = 0
        if event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
            message = ctypes.c_ulong()
            self.libc.ptrace(PTRACE_GETEVENTMSG, task, None, ctypes.byref(message))
            self._created(task, message.value, event, now)
        elif event == EVENT_EXIT:
            self._exiting(task, now)
        elif event == EVENT_EXEC:
            process = self.tgid.get(task, task)
            if process in self.processes:
                self.processes[process]["exec"] = True
                self.processes[process]["helper"] = _runs_a_helper(process)
        elif event == EVENT_STOP:
            if stop_signal in STOP_SIGNALS:  # a group-stop: stay stopped, as without a tracer
                self.libc.ptrace(PTRACE_LISTEN, task, None, None)
                return
            self._first_sight(task, now)
        elif stop_signal in (MARK_BEGIN, MARK_END):
            self._mark(task, stop_signal == MARK_BEGIN, now)  # and the signal is not delivered
        else:
            inject = stop_signal  # a signal on its way: deliver it
        self.libc.ptrace(PTRACE_CONT, task, None, ctypes.c_void_p(inject))

    def _created(self, parent_task: int, child: int, event: int, now: float) -> None:
        parent = self.tgid.get(parent_task, parent_task)
        if event == EVENT_CLONE and _tgid_of(child) == parent:
            self.tgid[child] = parent  # a thread of the parent
            self._thread_created(parent, child, now)
            return
        self.tgid[child] = child
        if self._room():
            self.processes.setdefault(child, _process(parent, now))
            self.processes[child]["ppid"] = parent

    def _room(self) -> bool:
        """Whether another process or thread may be recorded (else the session is flooded)."""
        if len(self.processes) + len(self.threads) >= TASKS_LIMIT:
            self.flooded = True
        return not self.flooded

    def _thread_created(self, process: int, task: int, now: float) -> None:
        if process in self.processes and task not in self.threads and self._room():
            thread = {"task": task, "t0": now, "t_end": None, "cpu_s": None}
            self.threads[task] = thread
            self.processes[process]["threads"].append(thread)

    def _exiting(self, task: int, now: float) -> None:
        """A task stopped on its way out (``PTRACE_EVENT_EXIT``), its counters still
        readable: the CPU time the kernel charged to it (a thread) or to its whole
        process, every thread included (the process's leader)."""
        process = self.tgid.get(task, task)
        if process == task and task in self.processes:
            self.processes[task]["cpu_s"] = _cpu_s(f"/proc/{task}/stat")
            if self.shared_memory_names is not None and len(self.shared_memory_names) < SHARED_MEMORY_NAMES_LIMIT:
                self.shared_memory_names.update(shared_memory_names(task))
            if self.shared_pages:
                used = shared_pages(task)
                self.processes[task]["shared_pages"] = None if used is None else {
                    key: pages for key, pages in used.items() if pages}
        elif task in self.threads:
            self.threads[task].update(t_end=now, cpu_s=_cpu_s(f"/proc/{process}/task/{task}/stat"))

    def _mark(self, task: int, begin: bool, now: float) -> None:
        """A task marked the beginning or the end of a weighed span (a signal it sent
        itself, see ``_grade_runtime.weighed``): the span's wall times and the CPU time
        the kernel charged to that task in between are kept for its process."""
        cpu = _on_cpu_s(task)
        if begin:
            if cpu is not None:
                self.open_spans[task] = (now, cpu)
            return
        opened = self.open_spans.pop(task, None)
        process = self.processes.get(self.tgid.get(task, task))
        if opened is not None and cpu is not None and process is not None and len(process["spans"]) < SPANS_LIMIT:
            process["spans"].append([task, opened[0], now, cpu - opened[1]])

    def _first_sight(self, task: int, now: float) -> None:
        """A new task's first stop can be reported before its parent's fork event."""
        if task not in self.tgid:
            process = _tgid_of(task)
            self.tgid[task] = process
            if process == task and self._room():
                self.processes.setdefault(task, _process(None, now))
            else:
                self._thread_created(process, task, now)


HELPER_MAINS = ("from multiprocessing.resource_tracker import main", "from multiprocessing.forkserver import main")


def _runs_a_helper(pid: int) -> bool:
    """Whether the program process ``pid`` just exec'd is one of multiprocessing's helpers
    (a resource tracker, a fork server), by its command line. The submission can write a
    command line: calling a process a helper only takes it out of the processes a check
    counts as the submission's workers, which gains a forger nothing."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            command = file.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return is_helper(command)


def is_helper(command: str) -> bool:
    """Whether a command line is that of one of multiprocessing's helpers."""
    return any(main in command for main in HELPER_MAINS)


def _process(ppid: int | None, now: float) -> dict:
    """A process's facts when it is first seen (``cpu_s``: set when it exits)."""
    return {"ppid": ppid, "t0": now, "t_end": None, "exit": None, "exec": False, "cpu_s": None, "threads": [],
            "spans": []}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float | None:
    """The CPU time (user and system) the kernel has charged to process ``pid`` so far,
    every thread included; None if it cannot be read."""
    return _cpu_s(f"/proc/{pid}/stat")


def _cpu_s(path: str) -> float | None:
    """CPU seconds from a ``stat`` file: user and system time, in clock ticks."""
    try:
        with open(path, "rb") as file:
            stat = file.read()
        fields = stat[stat.rfind(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return None


def _on_cpu_s(task: int) -> float | None:
    """Seconds task ``task`` has spent on a CPU, from its ``schedstat`` (nanoseconds:
    exact for a task that is stopped, as at a mark)."""
    try:
        with open(f"/proc/{task}/schedstat", "rb") as file:
            return int(file.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def shared_pages(pid: int) -> dict[str, int] | None:
    """How many pages of each writable shared memory object (``rw-s`` mappings, keyed by
    ``"device inode"``: ``multiprocessing``'s ``Value``, ``Array`` and heap,
    ``shared_memory`` segments; semaphores left out, which every lock touches) process
    ``pid`` has in its page tables: a page it never read or wrote is not there (a forked
    child starts without them). None if it cannot be read."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/maps", "rb") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                fields = line.split()
                if len(fields) < 5 or fields[1][:4] != b"rw-s" or b"/sem." in line:
                    continue
                low, high = (int(bound, 16) for bound in fields[0].split(b"-"))
                pages = (high - low) // 4096
                pagemap.seek(low // 4096 * 8)
                entries = pagemap.read(min(pages, 1 << 16) * 8)
                key = f"{fields[3].decode()} {fields[4].decode()}"
                found[key] = found.get(key, 0) + sum(1 for (entry,) in _struct.iter_unpack("Q", entries) if entry >> 63)
    except (OSError, ValueError):
        return None
    return found


def shared_memory_names(pid: int) -> set[str]:
    """The names of the files of ``/dev/shm`` process ``pid`` has mapped (semaphores,
    shared memory segments, multiprocessing's heap), removed or not."""
    found = set()
    try:
        with open(f"/proc/{pid}/maps", "rb") as maps:
            for line in maps:
                start = line.find(b" /dev/shm/")
                if start >= 0:
                    name = line[start + 10:].rstrip(b"\n").removesuffix(b" (deleted)")
                    if name and b"/" not in name:
                        found.add(name.decode("utf-8", "surrogateescape"))
    except OSError:
        pass
    return found


def _tgid_of(task: int) -> int:
    try:
        with open(f"/proc/{task}/status", "rb") as file:
            for line in file:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return task


def receive_with_sender(sock, size: int) -> tuple[bytes, int | None]:
    """One message of a Unix socket with ``SO_PASSCRED`` set, and the pid of the process
    that sent it, as the kernel stamped it (None if no credentials came with it)."""
    data, ancillary, _, _ = sock.recvmsg(size, _socket.CMSG_SPACE(UCRED))
    sender = next((_struct.unpack("iII", cmsg[:UCRED])[0] for level, kind, cmsg in ancillary
                   if level == _socket.SOL_SOCKET and kind == _socket.SCM_CREDENTIALS), None)
    return data, sender


class TraceReceiver:
    """Receives the trace records of every process of the sandbox on one datagram
    socket, each stamped by the kernel with the pid of the process that sent it
    (``SO_PASSCRED``): a process cannot write records in another's name.

    A thread of its own reads as fast as records come (the kernel queues only a few
    datagrams per socket before a sender waits). Per process at most ``limit`` bytes
    are kept; a process that sends more has its records marked incomplete. For the whole
    session at most ``total_limit`` bytes are kept: past it the session is ``flooded``
    (the supervisor stops it), and nothing more is kept.
    """

    def __init__(self, path: str, limit: int, total_limit: int) -> None:
        self.socket = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
        self.socket.setsockopt(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 1)
        try:
            self.socket.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, 4 * 1024**2)
        except OSError:
            pass
        self.socket.bind(path)
        os.chmod(path, 0o777)
        self.path = path
        self.limit = limit
        self.total_limit = total_limit
        self.total = 0
        self.flooded = False
        self.records: dict[int, list[str]] = {}
        self.sizes: dict[int, int] = {}
        self.incomplete: set[int] = set()
        self.refused_start: float | None = None  # when a child first started a process while importing
        self.stopping = False
        self.thread = Thread(self._run)
        self.thread.start()

    def _run(self) -> None:
        self.socket.settimeout(0.05)
        while True:
            try:
                data, sender = receive_with_sender(self.socket, 65536)
            except TimeoutError:
                if self.stopping:
                    return  # nothing left in the queue, and nobody left to send
                continue
            except OSError:
                return
            if sender is None:
                continue
            if sender == os.getpid() and self.stopping:
                return  # close()'s wake-up call: every record sent before it has been read
            if self.flooded:
                continue
            size = self.sizes.get(sender, 0) + len(data)
            self.sizes[sender] = size
            if size > self.limit:
                self.incomplete.add(sender)
                continue
            self.total += len(data)
            if self.total > self.total_limit or len(self.sizes) > TASKS_LIMIT:
                self.flooded = True
                continue
            self.records.setdefault(sender, []).append(data.decode("utf-8", "replace"))
            if self.refused_start is None and b'"ev":"start_while_importing"' in data:
                self.refused_start = time.monotonic()

    def close(self) -> dict:
        """Stop receiving (once every process of the sandbox is gone) and hand over the
        records, by the pid the kernel gave. The receiving thread is woken by a datagram
        of this process's own (the queue is read in order: it comes after every record of
        the sandbox), not left to notice at its next timeout."""
        self.stopping = True
        try:
            waker = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
            try:
                waker.setblocking(False)
                waker.sendto(b"", self.path)
            finally:
                waker.close()
        except OSError:
            pass  # a full queue: the thread stops at its next timeout, as it would anyway
        self.thread.join(5.0)
        self.socket.close()
        return {"records": {str(pid): lines for pid, lines in self.records.items()},
                "incomplete": sorted(self.incomplete)}
