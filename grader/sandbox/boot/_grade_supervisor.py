"""The sandbox supervisor: owns a submission's process tree and its clock.

Started by the grader as ``python -I -S -c "...import _grade_supervisor..." FOLDER`` in a
new session (imported, not run as a script: its byte code is then read from the cache
the grader writes, not compiled again in every session).
It becomes a child subreaper (so processes that escape with ``setsid`` or a double fork
are re-parented to it, not to init), forks the worker into a session of its own (so
``killpg`` by the submission cannot reach the supervisor), applies resource limits, and
then follows the worker's ``start I`` / ``end I`` messages:

- at ``end I`` every descendant that is not the worker or one of multiprocessing's
  helpers is a process left running by the submission: it is recorded and killed;
- when a call outlives its timeout, every descendant is asked for its Python stack
  (faulthandler on SIGUSR1), its state and CPU time are recorded, and the tree is killed;
  the same happens as soon as the call is certainly deadlocked, before its timeout: every
  thread asleep in a wait that has no timeout, and nothing moved for a settle time
  (``_grade_deadlock``, from ``/proc`` alone); and as soon as a child, still importing the
  main module, has tried to start a process (refused by multiprocessing: the call can
  only crash or hang, a Pool replacing its crashed workers for ever);
- at the end, every descendant is killed until none remains.

The control channel is a Unix socket with ``SO_PASSCRED``: the kernel stamps every
message with the sender's pid, so a child of the worker (which inherits the socket)
cannot speak for it; such a message is recorded as tampering. Before the first call the
worker starts multiprocessing's helpers (the resource tracker, the fork server) and
reports their pids (``ready``), before any code of the submission has been imported:
later claims of the submission about helpers are not believed.

It prints one JSON document on stdout, followed by a line with its HMAC-SHA256 under a
key the grader wrote on its stdin (then closed). The supervisor makes itself
non-dumpable before the worker exists, so the submission cannot read the key from its
memory nor open its stdout through ``/proc``: a report it forges does not verify.
Standard library only, no site packages, and as little of it as will do: every session
starts a supervisor, so each module it imports is paid for again and again (no
``json``, ``hmac``, ``socket``, ``signal`` or ``threading``: see :func:`_json` and
:func:`_sign`; the request comes as ``marshal`` data the grader wrote).
"""

from __future__ import annotations

import _signal
import _socket
import ctypes
import marshal
import os
import resource
import select
import sys
import time

if __name__ == "__main__":  # run as a script: ``-I`` leaves this folder off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _grade_deadlock as DEADLOCK  # noqa: E402
import _grade_tracer as TRACING  # noqa: E402
TRACER = None  # the ptrace tracer of the session (_grade_tracer); None where ptrace is refused
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
MESSAGE_BYTES = 4096
STACK_DUMP_WAIT_S = 0.3
LEAK_GRACE_S = 0.3
# A helper multiprocessing started for a script call (its resource tracker, its fork
# server) exits by itself once the script has, and so does a process the kernel shows
# exiting (every thread of it past the start of its exit; its command line reads empty once
# its memory is being freed, the fork server's of issue 15). On a loaded or throttled CPU
# that takes longer than LEAK_GRACE_S: such a process is waited for until the kernel shows
# it has exited (its pidfd), for HELPER_EXIT_GRACE_S plus however long the kernel kept it
# (or another of them: they wait on one another) runnable but off the CPU meanwhile
# (schedstat), at most HELPER_EXIT_MAX_S. Only its exit excuses it: the command line is the
# submission's to write, and saying it is a helper buys a longer wait, nothing else; one
# still alive at the end of its time is a leftover like any other, and is killed.
HELPER_EXIT_GRACE_S = 2.0
HELPER_EXIT_MAX_S = 6.0  # within the 10 s per call the grader allows a session beyond the calls' timeouts
HELPER_LOOK_S = 0.1  # while waiting for helpers, how often the tree is looked at for processes they start
PF_EXITING = 0x4  # a task's flag (/proc/PID/task/TID/stat): it has begun to exit
KILL_WAIT_S = 1.0
EXIT_GRACE_S = 1.0  # how long the worker may take to exit after its last call


def main(folder: str) -> None:
    key = _read_key()
    with open(os.path.join(folder, "supervisor.marshal"), "rb") as file:
        request = marshal.load(file)  # written by the grader before this process started
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    result: dict = {"calls": [], "worker_exit": None, "timeout": None, "error": None, "helpers": [],
                    "tampering": []}
    receiver = TRACING.TraceReceiver(os.path.join(folder, "trace.sock"), request["trace_limit"],
                                     request["records_limit"])
    disk = _DiskWatch(folder, request["disk"])
    worker = _start_worker(request)
    result["worker_pid"] = worker["pid"]
    result["tracer_error"] = worker["tracer_error"]
    try:
        _follow(worker, request, result, receiver, disk)
    finally:
        if result["timeout"] is None and result["worker_exit"] is not None:  # every call ended, the worker too
            result["left_at_exit"] = _collect_leaks(worker["pid"], set(result["helpers"]))
        result["killed_at_end"] = _kill_tree()
        if result["worker_exit"] is None:
            result["worker_exit"] = _reap(worker["pid"])
        if TRACER is not None:
            TRACER.join(KILL_WAIT_S)
            result["processes"] = TRACER.facts()
            if TRACER.shared_memory_names is not None:
                result["shared_memory"] = sorted(TRACER.shared_memory_names)
        result["trace"] = receiver.close()
        result["disk"] = disk.usage()
        result["flooded"] = receiver.flooded or (TRACER is not None and TRACER.flooded)
    report = _json(result).encode("utf-8", "surrogatepass")
    os.write(1, report + b"\n" + _sign(key, report).encode() + b"\n")


_ESCAPES = {code: f"\\u{code:04x}" for code in range(32)} | {ord('"'): '\\"', ord("\\"): "\\\\"}


def _json(value) -> str:
    """The report as JSON (what ``json.dumps`` writes, but a float that is not finite
    becomes null; the ``json`` module and the ``re`` module it needs cost ~8 ms per session)."""
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "null"
    if isinstance(value, str):
        return '"' + value.translate(_ESCAPES) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(_json, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_json(str(k)) + ":" + _json(v) for k, v in value.items()) + "}"
    return _json(repr(value))


def _sign(key: bytes, report: bytes) -> str:
    """HMAC-SHA256 of ``report`` under ``key``, in hex (RFC 2104, as ``hmac.new(key,
    report, hashlib.sha256).hexdigest()``: the ``hmac`` and ``hashlib`` modules load
    OpenSSL, ~6 ms per session, where the built-in SHA-256 module is enough; OpenSSL's
    for a report of more than a megabyte, where it is several times faster)."""
    sha256 = None
    if len(report) <= 1024**2:
        try:
            from _sha256 import sha256
        except ImportError:  # Python 3.12 and later
            try:
                from _sha2 import sha256
            except ImportError:
                pass
    if sha256 is None:
        import hmac

        return hmac.new(key, report, "sha256").hexdigest()
    block = 64
    if len(key) > block:
        key = sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = sha256(key.translate(bytes(x ^ 0x36 for x in range(256))))
    inner.update(report)
    outer = sha256(key.translate(bytes(x ^ 0x5C for x in range(256))))
    outer.update(inner.digest())
    return outer.hexdigest()


def _read_key() -> bytes:
    """The report's signing key: everything the grader wrote on stdin before closing it."""
    key = b""
    while chunk := os.read(0, 256):
        key += chunk
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)  # fd 0 again, so nothing else is opened in its place
    return key


def _start_worker(request: dict) -> dict:
    control_socket, worker_socket = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    control_socket.setsockopt(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 1)
    control_read, control_write = control_socket.detach(), worker_socket.detach()
    go_read, go_write = os.pipe()
    release_read, release_write = os.pipe()  # the worker waits on it until it is traced
    if request.get("landlock"):
        import _grade_landlock as landlock
    else:
        landlock = None
    if request.get("seccomp"):
        import _grade_seccomp as seccomp
    else:
        seccomp = None
    cgroup_fd, uid = request.get("cgroup_fd"), request.get("uid")
    # The worker is born dumpable (the supervisor is not, but for this fork): a
    # non-dumpable process can only be traced with CAP_SYS_PTRACE, which bubblewrap drops,
    # and the tracer seizes the worker before its exec (setting it in the child would race
    # the seize). Nothing else of the sandbox exists yet to read the supervisor meanwhile,
    # and the worker's exec replaces its copy of the supervisor's memory (and key).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    pid = os.fork()
    if pid != 0:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if pid == 0:  # the worker, until exec
        try:
            os.setsid()
            if cgroup_fd is not None:  # the session's memory cgroup, which the supervisor is not in
                os.write(cgroup_fd, b"0")
                os.close(cgroup_fd)
            _apply_limits(request["limits"])
            stdin = os.open(os.devnull, os.O_RDONLY)
            stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
                os.dup2(source, target)
            keep = {0, 1, 2, control_write, go_read, release_read}
            for fd in (stdin, stdout, stderr, control_read, go_write, release_write):
                if fd not in keep:
                    os.close(fd)
            os.closerange(max(keep) + 1, 4096)
            for fd in (control_write, go_read):
                os.set_inheritable(fd, True)
            env = dict(request["env"], GRADE_CONTROL_FDS=f"{control_write},{go_read}")
            if request.get("reach"):  # folders closed to other users, shown to the worker's user
                import _grade_reach

                _grade_reach.reach(request["reach"])
            if uid is not None:  # a user of the session's own: every capability goes with root
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            elif os.geteuid() == 0:
                _drop_capabilities(libc)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no set-user-id program gives anything back
            os.chdir(request["cwd"])
            if landlock is not None:  # for the worker and all it starts; the supervisor stays free
                try:
                    landlock.restrict(**request["landlock"])
                except OSError as error:
                    raise OSError(error.errno, f"Landlock could not be applied: {error}") from error
            if seccomp is not None:
                try:
                    seccomp.install()
                except OSError as error:
                    raise OSError(error.errno, f"the seccomp filter could not be applied: {error}") from error
            os.read(release_read, 1)  # traced from here on (or the tracer gave up)
            os.execve(request["python"], [request["python"], "-S", request["worker"]], env)
        except BaseException as error:  # on stderr (the session's, once redirected): shown with the call
            os.write(2, f"grade: the sandbox's worker could not start: {error}\n".encode())
        finally:
            os._exit(127)
    os.close(control_write)
    os.close(go_read)
    os.close(release_read)
    if cgroup_fd is not None:
        os.close(cgroup_fd)
    global TRACER
    if not request.get("observe", True):  # only for measuring what observing costs
        os.write(release_write, b"x")
        os.close(release_write)
        return {"pid": pid, "control": control_read, "go": go_write, "tracer_error": "not asked for"}
    tracer = TRACING.Tracer(pid, release_write, bool(request.get("shared_pages")),
                            bool(request.get("shared_memory_names")))
    TRACER = tracer if tracer.start() else None
    return {"pid": pid, "control": control_read, "go": go_write, "tracer_error": tracer.error}


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """Leave root (staying user 0: the submission's own user could not read the Python
    installation) without a capability after ``exec``: an empty bounding set and
    inheritable set (root's capabilities after ``exec`` are those two sets' union), so
    no ``reboot``, module loading, raw sockets, ``ptrace`` of others, or reading files
    regardless of their permissions. Raises OSError where a capability cannot be dropped."""
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the kernel's last capability
                break
            raise OSError(ctypes.get_errno(), f"capability {capability} could not be dropped")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: none, in both 32-bit halves
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "the capabilities could not be dropped")


def _apply_limits(limits: dict) -> None:
    for name, value in limits.items():
        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _follow(worker: dict, request: dict, result: dict, receiver: TRACING.TraceReceiver, disk: _DiskWatch) -> None:
    timeouts = request["timeouts"]
    pid_fd = os.pidfd_open(worker["pid"]) if hasattr(os, "pidfd_open") else None
    control = _socket.socket(fileno=worker["control"])
    deadline = time.monotonic() + request["startup_timeout"]
    current: dict | None = None
    helpers: set[int] | None = None
    watch = DEADLOCK.DeadlockWatch(request.get("deadlock_settle_s") or 0.0)
    next_look = 0.0
    while True:
        wait = [worker["control"]] + ([pid_fd] if pid_fd is not None else [])
        remaining = deadline - time.monotonic()
        if current is not None:  # looks for a deadlock or a start refused while importing
            remaining = min(remaining, max(0.0, next_look - time.monotonic()))
        ready = select.select(wait, [], [], max(0.0, min(remaining, 0.05 if pid_fd is None else remaining)))[0]
        if worker["control"] in ready:
            message, sender = _receive(control)
            if message is None:  # every end of the socket is closed: the worker is gone
                _wait_exit(worker, result, pid_fd)
                return
            words = message.decode("ascii", "replace").split()
            if sender != worker["pid"]:
                result["tampering"].append(f"process {sender} wrote on the worker's control channel")
            elif words[:1] == ["ready"] and helpers is None and current is None and not result["calls"]:
                helpers = _verified_helpers(worker["pid"], words[1:])
                result["helpers"] = sorted(helpers)
            elif words[:1] == ["start"] and current is None and (start := _start_message(words)):
                index, worker_t0 = start
                current = {"index": index, "t0": time.monotonic(), "t": None, "leaks": [],
                           "worker_t0": worker_t0, "cpu_s": [TRACING.cpu_s(worker["pid"]), None]}
                os.write(worker["go"], b"go\n")  # the caller's CPU time is read: the call may begin
                result["calls"].append(current)
                deadline = current["t0"] + timeouts[min(index, len(timeouts) - 1)]
                watch.reset()
                next_look = current["t0"] + DEADLOCK.POLL_S
            elif words[:1] == ["end"] and current is not None and words[1:2] == [str(current["index"])]:
                current["t"] = time.monotonic()
                current["cpu_s"][1] = TRACING.cpu_s(worker["pid"])  # the caller's CPU time during the call
                if request.get("shared_pages"):  # the shared memory the caller has: its children's to use
                    current["shared"] = sorted(TRACING.shared_pages(worker["pid"]) or ())
                current["digest"] = words[2] if len(words) == 3 else None
                current["blocked_looks"], current["quiet_s"] = watch.blocked_looks, watch.quiet_s
                current["leaks"] = _collect_leaks(worker["pid"], helpers or set())
                # After the last call the worker only exits: what its exit waits for (a Pool
                # left running, whose workers were just killed) is no call's, and not waited for long.
                last = current["index"] + 1 >= request["calls"]
                current = None
                deadline = time.monotonic() + (EXIT_GRACE_S if last else request["startup_timeout"])
                os.write(worker["go"], b"go\n")
            else:
                result["tampering"].append(f"the worker sent an unexpected message: {message[:80]!r}")
            if time.monotonic() < deadline:
                continue  # read every message sent before looking at an exit (one per packet)
        exit_status = _poll_exit(worker["pid"])
        if exit_status is not None:
            result["worker_exit"] = exit_status
            return
        now = time.monotonic()
        stopped = ""  # why the call is stopped before its timeout
        if current is not None and now >= next_look and now < deadline:
            next_look = now + DEADLOCK.POLL_S
            if receiver.refused_start is not None and receiver.refused_start >= current["t0"]:
                stopped = "start_while_importing"
            elif receiver.flooded or (TRACER is not None and TRACER.flooded):
                stopped = "records"
            elif disk.over():
                stopped = "disk"
            elif watch.possible and watch.poll(now, worker["pid"], helpers or set(), _live_processes, _descendants):
                stopped = "deadlock"
            if stopped and select.select([worker["control"]], [], [], 0)[0]:
                stopped = ""  # a message sent before the worker blocked ("end"?): read it first
        if stopped or now >= deadline:
            result["timeout"] = {
                "call": current["index"] if current else None,
                "processes": _snapshot_and_dump_stacks(worker["pid"], request["folder"], helpers or set()),
                "reason": stopped or "timeout",
                # how long the call ran before it was stopped early (None: it outlived its timeout)
                "stopped_s": now - current["t0"] if stopped else None,
            }
            return


class _DiskWatch:
    """The session folder's use of its budget (``request["disk"]``: bytes, files and
    whether the folder is a tmpfs of that size). A tmpfs is asked (``statvfs``: the
    kernel refuses writes past its size); any other folder is walked, links not
    followed, no further than the budget."""

    MARGIN = 64 * 1024  # a tmpfs with less free space than this is full

    def __init__(self, folder: str, budget: dict) -> None:
        self.folder = folder
        self.bytes, self.files, self.tmpfs = budget["bytes"], budget["files"], budget["tmpfs"]

    def usage(self) -> dict:
        """``{"bytes": used, "files": used, "full": over the budget}``."""
        if self.tmpfs:
            try:
                info = os.statvfs(self.folder)
            except OSError:
                return {"bytes": 0, "files": 0, "full": False}
            used = (info.f_blocks - info.f_bfree) * info.f_frsize
            files = info.f_files - info.f_ffree
            return {"bytes": used, "files": files,
                    "full": info.f_bavail * info.f_frsize < self.MARGIN or info.f_favail < 8}
        used = files = 0
        folders = [self.folder]
        while folders and used < self.bytes and files < self.files:
            try:
                with os.scandir(folders.pop()) as entries:
                    for entry in entries:
                        files += 1
                        try:
                            used += entry.stat(follow_symlinks=False).st_blocks * 512
                            if entry.is_dir(follow_symlinks=False):
                                folders.append(entry.path)
                        except OSError:
                            continue
            except OSError:
                continue
        return {"bytes": used, "files": files, "full": used >= self.bytes or files >= self.files}

    def over(self) -> bool:
        return self.usage()["full"]


def _receive(control: _socket.socket) -> tuple[bytes | None, int | None]:
    """One message and the pid of the process that sent it (stamped by the kernel);
    (None, None) at the end of the stream."""
    message, sender = TRACING.receive_with_sender(control, MESSAGE_BYTES)
    if not message and sender is None:
        return None, None
    return message, sender


def _start_message(words: list[str]) -> tuple[int, float] | None:
    """``start INDEX CLOCK``: the call's index and the worker's clock at its start."""
    try:
        return (int(words[1]), float(words[2])) if len(words) == 3 and words[1].isdigit() else None
    except ValueError:
        return None


def _verified_helpers(worker: int, words: list[str]) -> set[int]:
    """The helper pids the worker reported before running any submission code, kept
    only if they really are its children."""
    table = _processes()
    return {int(word) for word in words if word.isdigit() and table.get(int(word), {}).get("ppid") == worker}


def _wait_exit(worker: dict, result: dict, pid_fd: int | None) -> None:
    """The control pipe closed: the worker has exited or is about to."""
    if pid_fd is not None:
        select.select([pid_fd], [], [], 2.0)
    result["worker_exit"] = _poll_exit(worker["pid"])


def _poll_exit(pid: int) -> int | None:
    """The worker's exit code (negative: killed by that signal), or None while it runs."""
    if TRACER is not None:  # the tracer reaps every process
        return TRACER.exits.get(pid)
    try:
        waited, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if waited == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _reap(pid: int) -> int | None:
    if TRACER is not None:
        deadline = time.monotonic() + KILL_WAIT_S
        while pid not in TRACER.exits and time.monotonic() < deadline:
            time.sleep(0.002)
        return TRACER.exits.get(pid)
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None


def _processes() -> dict[int, dict]:
    """Every process of the machine: ppid, state and CPU seconds, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                stat = file.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = {
            "ppid": int(fields[1]),
            "state": fields[0],
            "cpu_s": (int(fields[11]) + int(fields[12])) / ticks,
            "name": stat[stat.find("(") + 1:stat.rfind(")")],
        }
    return table


def _descendants(table: dict[int, dict] | None = None) -> dict[int, dict]:
    table = _processes() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info["ppid"], []).append(pid)
    found, stack = {}, [os.getpid()]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found[child] = table[child]
                stack.append(child)
    return found


def _live_processes() -> dict[int, dict]:
    """The sandbox's processes that have not exited: from the tracer's table where there
    is one (no look at all of ``/proc``), else the descendants ``/proc`` lists."""
    if TRACER is not None:
        try:
            return {pid: {"state": "?"} for pid, info in list(TRACER.processes.items()) if info["t_end"] is None}
        except RuntimeError:  # the tracer thread added a process meanwhile
            pass
    return _descendants()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()[:300]
    except OSError:
        return ""


def _collect_leaks(worker: int, helpers: set[int]) -> list[dict]:
    """Processes still alive after a call returned (recorded, and killed). One exiting (a
    script's resource tracker) is usually seen gone within LEAK_GRACE_S; at that deadline a
    process that says it is one of multiprocessing's helpers, or that the kernel shows
    exiting, is waited for (:class:`_ExitWait`), and so is any such process started
    meanwhile; every other process is a leftover at once."""
    start = time.monotonic()
    waiting = _ExitWait(start)
    deadline = start + LEAK_GRACE_S
    empty_scans = 0
    pause = 0.005  # a process exiting (a script's resource tracker) is seen gone soon; a leak, at the deadline
    while True:
        alive = _alive_descendants(worker, helpers)
        # An empty scan is confirmed by a second one: a process may fork a child and exit
        # between the listing of /proc and the reading of its entries, hiding the child.
        empty_scans = empty_scans + 1 if not alive else 0
        if empty_scans == 2 or time.monotonic() >= deadline:
            break
        if alive:
            time.sleep(pause)
            pause = min(2 * pause, 0.02)
    leaks: dict[int, dict] = {}
    cmdlines: dict[int, str] = {}
    after_exits = True  # ``alive`` was listed after every process waited for had exited
    try:
        while True:
            for pid, info in alive.items():
                if pid in leaks or pid in waiting.infos:
                    continue
                cmdlines[pid] = _cmdline(pid)
                helper = TRACING.is_helper(cmdlines[pid])
                if not waiting.expired and (helper or _exiting(pid)):
                    waiting.add(pid, info)
                else:
                    leaks[pid] = info
                    _kill(pid)  # at once: a helper may be waiting for it (a fork server, for its children)
            running = waiting.running()
            if not running:
                if after_exits:
                    break
                # Each has exited: one more look, for processes they started before they did.
                alive, after_exits = _alive_descendants(worker, helpers), True
                continue
            after_exits = False
            if waiting.time_left() <= 0:  # their time is up: leftovers, and so is what they started
                waiting.expired = True
                for pid in running:
                    leaks[pid] = waiting.drop(pid)
                    _kill(pid)
                alive, after_exits = _alive_descendants(worker, helpers), True
                continue
            waiting.wait(HELPER_LOOK_S)
            alive = _alive_descendants(worker, helpers)
    finally:
        waiting.close()
    records = [{"pid": pid, "ppid": info["ppid"], "name": info["name"], "cmdline": cmdlines.get(pid) or _cmdline(pid)}
               for pid, info in sorted(leaks.items())]
    deadline = time.monotonic() + KILL_WAIT_S  # the next call starts with them gone
    while time.monotonic() < deadline and any(
            not _gone(pid, info) for pid, info in _descendants().items() if pid in leaks):
        time.sleep(0.005)
    _reap_orphans(worker)
    return records


class _ExitWait:
    """Processes that may exit by themselves (helpers, processes exiting), each waited for
    until the kernel shows it has exited: its pidfd is readable (without pidfds, ``/proc``
    shows it a zombie or not at all). Their time is up HELPER_EXIT_GRACE_S after ``start``,
    plus the longest the kernel has kept any of them runnable but off the CPU since it was
    first waited for (they wait on one another: the fork server exits once its children
    have, the resource tracker once every process holding its pipe has), and at the latest
    HELPER_EXIT_MAX_S after ``start``. The supervisor's own wait for the CPU since ``start``
    counts too (it was late to look). On an idle CPU that is HELPER_EXIT_GRACE_S; a process
    that sleeps or runs through its time is not waited for longer, however it is named.
    Polled, not selected: a fork bomb's pidfds may number more than ``select`` takes."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.infos: dict[int, dict] = {}  # every process waited for, by pid: its /proc entry
        self.fds: dict[int, int | None] = {}  # the pidfds of those still running (None: none)
        self.cpu_wait: dict[int, float | None] = {os.getpid(): _cpu_wait(os.getpid())}  # when first waited for
        self.starved = 0.0
        self.expired = False  # their time was up: nothing more is waited for
        self.poll = select.poll()

    def add(self, pid: int, info: dict) -> None:
        self.infos[pid] = info
        self.cpu_wait[pid] = _cpu_wait(pid)
        try:
            self.fds[pid] = fd = os.pidfd_open(pid)
        except ProcessLookupError:  # exited and reaped already
            return
        except (AttributeError, OSError):  # no pidfds (Linux < 5.3), or no descriptor left: /proc
            self.fds[pid] = None
            return
        self.poll.register(fd, select.POLLIN)

    def running(self) -> list[int]:
        """The processes waited for that have not exited (updating how long they were starved)."""
        exited = {fd for fd, _ in self.poll.poll(0)}
        for pid, fd in list(self.fds.items()):
            if fd in exited if fd is not None else _zombie_or_gone(pid):
                self.drop(pid)
        for pid in [os.getpid(), *self.fds]:
            waited, before = _cpu_wait(pid), self.cpu_wait[pid]
            if waited is not None and before is not None:
                self.starved = max(self.starved, waited - before)
        return list(self.fds)

    def time_left(self) -> float:
        return self.start + min(HELPER_EXIT_GRACE_S + self.starved, HELPER_EXIT_MAX_S) - time.monotonic()

    def wait(self, most: float) -> None:
        """Until one of them exits, ``most`` seconds pass or their time is up."""
        timeout = max(0.0, min(most, self.time_left()))
        if None in self.fds.values():
            timeout = min(timeout, 0.01)  # /proc is looked at again soon
        self.poll.poll(timeout * 1000)

    def drop(self, pid: int) -> dict:
        """No longer waited for (exited, or a leftover): its /proc entry."""
        fd = self.fds.pop(pid, None)
        if fd is not None:
            self.poll.unregister(fd)
            os.close(fd)
        return self.infos[pid]

    def close(self) -> None:
        for pid in list(self.fds):
            self.drop(pid)


def _alive_descendants(worker: int, helpers: set[int]) -> dict[int, dict]:
    """The descendants that have not exited, but the worker and the helpers it started."""
    table = _processes()
    found = {pid: info for pid, info in _descendants(table).items()
             if pid != worker and pid not in helpers and not _gone(pid, info)}
    if TRACER is not None:  # a chain whose links each exit between a listing of /proc and a read of it
        for pid in _live_processes():
            fact = TRACER.processes.get(pid) or {}
            if pid == worker or pid in helpers or pid in found or fact.get("helper"):
                continue
            info = table.get(pid) or {"ppid": fact.get("ppid"), "state": "Z", "cpu_s": 0.0, "name": "?"}
            if not _gone(pid, dict(info, state="Z")):  # its pidfd: not readable while it runs
                found[pid] = info
    return found


def _gone(pid: int, info: dict) -> bool:
    """Whether a process ``/proc`` listed (``info``) has exited. A zombie has, unless a
    thread of it still runs: a main thread that exits before the others (``SYS_exit``)
    shows its process as a zombie while they run on (its command line empty); its pidfd
    becomes readable only once every thread has exited."""
    if info["state"] not in ("Z", "X"):
        return False
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (AttributeError, OSError):  # no pidfds (Linux < 5.3), or no descriptor left
        return _zombie_or_gone(pid)
    try:
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))
    finally:
        os.close(fd)


def _zombie_or_gone(pid: int) -> bool:
    """Without a pidfd: whether ``/proc`` shows no thread of the process running."""
    tasks = _task_stats(pid)
    return tasks is None or all(fields[0] in (b"Z", b"X") for fields in tasks)


def _exiting(pid: int) -> bool:
    """Whether the kernel shows every thread of the process past the start of its exit
    (PF_EXITING): none of it runs the submission's code any more."""
    tasks = _task_stats(pid)
    return tasks is None or all(int(fields[6]) & PF_EXITING for fields in tasks)


def _task_stats(pid: int) -> list[list[bytes]] | None:
    """The fields after the name in ``/proc/PID/task/TID/stat``, for each thread of the
    process (state, ppid, ..., flags at index 6); None if the process is gone."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    stats = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue  # this thread has gone meanwhile
        stats.append(stat[stat.rfind(b")") + 2:].split())
    return stats


def _cpu_wait(pid: int) -> float | None:
    """Seconds the process's main thread has spent runnable but waiting for a CPU
    (``/proc/PID/schedstat``, kept by the kernel), or None where the kernel keeps none."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as file:
            return int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _has_stack(folder: str, pid: int) -> bool:
    try:
        return os.path.getsize(os.path.join(folder, "stacks", f"{pid}.txt")) > 0
    except OSError:
        return True  # no stack file: not a Python process of ours, nothing to wait for


def _snapshot_and_dump_stacks(worker: int, folder: str, helpers: set[int]) -> list[dict]:
    """At a timeout: ask every process for its stack, record what each was doing."""
    before = _descendants()
    signalled = [pid for pid, info in before.items() if info["state"] != "Z"]
    for pid in signalled:
        _kill(pid, _signal.SIGUSR1)
    deadline = time.monotonic() + STACK_DUMP_WAIT_S
    while time.monotonic() < deadline and not all(_has_stack(folder, pid) for pid in signalled):
        time.sleep(0.01)
    return [{"pid": pid, "ppid": info["ppid"], "state": info["state"], "cpu_s": info["cpu_s"],
             "name": info["name"], "cmdline": _cmdline(pid), "is_worker": pid == worker,
             "is_helper": pid in helpers}
            for pid, info in sorted(before.items()) if info["state"] != "Z"]


def _kill(pid: int, sig: int = _signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_orphans(worker: int) -> None:
    """Reap re-parented processes that have died (never the worker, reaped on its own)."""
    if TRACER is not None:
        return
    for pid, info in _descendants().items():
        if info["ppid"] == os.getpid() and pid != worker and info["state"] == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _kill_tree() -> int:
    """Kill every descendant until none remains (a fork bomb keeps forking meanwhile)."""
    killed: set[int] = set()
    for _ in range(1000):
        alive = [pid for pid, info in _descendants().items() if info["state"] != "Z"]
        for pid in alive:
            _kill(pid)
            killed.add(pid)
        while TRACER is None:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not alive and not _descendants():
            break
        time.sleep(0.005)
    return len(killed)


if __name__ == "__main__":
    main(sys.argv[1])
