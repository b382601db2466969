"""Run calls of a submission in a supervised sandbox and read back what happened.

A *session* is one supervisor process for one submission under one start method. It
makes a list of calls in a fresh worker and returns, per call, the return value or the
exception (as JSON data, never pickles), the captured output, the trace of the
processes the submission started, the processes it left running and, for a call that
outlived its timeout or was found deadlocked before it, the state and Python stack of
every process at that moment.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import hmac
import json
import marshal
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from grader.sandbox import account, disk
from grader.sandbox.cgroups import MAX_PROCESSES, SessionCgroup
from grader.sandbox.boot import _grade_reach
from grader.sandbox.isolation import Isolation, isolation, landlock_rules, nproc_limit, wrap
from grader.sandbox.records import Outcome, decode_outcome
from grader.sandbox.trace import RECORDS_LIMIT, TRACE_LIMIT, Observed, SeenProcess, Trace, read_events
from grader.sandbox.untrusted import SessionFolder, Tampered

BOOT_DIR = Path(__file__).parent / "boot"
OUTPUT_EXCERPT_CHARS = 2_000
STACK_EXCERPT_CHARS = 6_000
OUTCOME_LIMIT = 32 * 1024**2
REPORT_LIMIT = 32 * 1024**2
SUPERVISOR_GRACE_S = 15.0
# How long every process of a call must stay blocked, in waits without a timeout and
# without running at all, before the call is stopped as deadlocked (boot/_grade_deadlock.py).
DEADLOCK_SETTLE_S = 0.2
PR_SET_PDEATHSIG = 1
RECORD_FOLDERS = ("trace", "stacks", "calls", "align", "order")  # where the sandbox's processes write records
# The supervisor is imported rather than run as a script, so that its byte code comes
# from the cache (:func:`_compile_boot_files`), not from compiling it in every session.
SUPERVISOR_MAIN = f"import sys; sys.path.insert(0, {str(BOOT_DIR)!r}); import _grade_supervisor; " \
                  "_grade_supervisor.main(sys.argv[1])"

CallKind = Literal["function", "script", "import"]


@dataclass(frozen=True)
class Ref:
    """A function the sandbox imports by name, e.g. ``Ref("grade_probe.record")``."""

    qualified_name: str


@dataclass(frozen=True)
class Call:
    """One thing to do in the sandbox: call ``function(*args)`` of the submission,
    run it as a script, or just import it."""

    name: str
    function: str = ""
    args: tuple[Any, ...] = ()
    kind: CallKind = "function"


@dataclass(frozen=True)
class Align:
    """Make every process that calls ``function`` wait for ``parties`` callers first."""

    function: str
    parties: int = 2
    timeout_s: float = 1.5
    calls: tuple[str, ...] = ()  # names of the calls to align in; empty: every call


@dataclass(frozen=True)
class Order:
    """Make calls of ``function`` finish in an order the check chooses (see ``_Turn`` in
    the runtime): ``calls`` maps a call's name to the release order of the keys, the
    values of argument ``key_arg``; ``hold`` is ``before`` (the function's own effects,
    e.g. a ``put``, are ordered) or ``after`` (what the caller does with its result)."""

    function: str
    key_arg: int
    calls: dict[str, tuple[Any, ...]]
    hold: Literal["before", "after"] = "before"
    window_s: float = 3.0
    grace_s: float = 0.3


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits inside the sandbox."""

    memory_bytes: int = 1024**3
    output_bytes: int = 4 * 1024**2
    open_files: int = 256
    extra_cpu_s: int = 10

    def rlimits(self, cpu_s: int, processes: int | None) -> dict[str, int]:
        limits = {
            "RLIMIT_AS": self.memory_bytes,
            "RLIMIT_FSIZE": self.output_bytes,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CPU": cpu_s + self.extra_cpu_s,
            "RLIMIT_CORE": 0,
        }
        if processes is not None:
            limits["RLIMIT_NPROC"] = processes
        return limits


@dataclass(frozen=True)
class SessionSpec:
    module: str
    submission: Path
    start_method: str
    calls: tuple[Call, ...]
    timeout_s: float
    traced: tuple[str, ...] = ()
    weighed: tuple[str, ...] = ()  # traced functions each of whose calls spends a ballast between marks
    weigh_tasks: bool = False  # every item of every pool task spends a ballast between marks
    shared_pages: bool = False  # count each process's pages of shared memory when it exits
    align: Align | None = None
    order: Order | None = None
    limits: Limits = field(default_factory=Limits)
    observe: bool = True  # trace the process tree with ptrace (off only to measure its cost)
    deadlock_settle_s: float = DEADLOCK_SETTLE_S  # 0: no early answer, every hang waits for the timeout


# Why the supervisor may stop a call before its timeout: a deadlock, a start refused while
# importing, the disk budget spent, too many records.
STOPPED_EARLY = ("deadlock", "start_while_importing", "disk", "records")


@dataclass
class CallOutcome:
    """What one call did. ``status`` is one of: returned, raised, exited, missing
    (no such function), timeout (outlived its timeout, or stopped before it: ``stopped``),
    crashed (the worker died), not_run."""

    call: Call
    status: str
    value: Any = None
    type_name: str = ""
    exception: str = ""
    message: str = ""
    traceback: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0
    stdout: str = ""
    stderr: str = ""
    trace: Trace = field(default_factory=Trace)
    leaks: list[dict] = field(default_factory=list)
    hang: list[dict] = field(default_factory=list)
    deadlock_s: float | None = None  # a timeout found deadlocked after this long, before its timeout
    # why a timeout came before its time: "deadlock", or "start_while_importing" (a child
    # still importing the main module started a process, which multiprocessing refuses)
    stopped: str = ""
    t0: float = 0.0  # when the call started (time.monotonic() of this machine)
    t_end: float | None = None  # when it returned, raised or exited; None if it never did

    @property
    def finished(self) -> bool:
        return self.status in ("returned", "raised", "exited", "missing")


@dataclass
class SessionResult:
    spec: SessionSpec
    outcomes: dict[str, CallOutcome]
    worker_pid: int | None
    duration_s: float
    error: str = ""
    tampering: list[str] = field(default_factory=list)  # records that were forged or corrupted
    oom_kills: int = 0  # processes the kernel killed for the session's memory limit
    incomplete: list[int] = field(default_factory=list)  # pids whose trace records were cut short
    unobserved: str = ""  # why the processes were not observed although asked for ('' when they were)
    disk_full: bool = False  # the session's processes wrote more than its disk budget
    flooded: bool = False  # they sent more records, or started more processes, than a session keeps
    left_at_exit: list[dict] = field(default_factory=list)  # processes still running once the worker had exited

    def __getitem__(self, name: str) -> CallOutcome:
        return self.outcomes[name]


class Excerpt(Protocol):
    """How the output a call printed (bytes ``[start:end]`` of a file of the session
    folder) becomes the text its outcome carries. :func:`head_excerpt` by default; the
    grader shows the end instead (:class:`grader.excerpt.TailExcerpt`)."""

    def __call__(self, files: SessionFolder, relative: str, start: int, end: int | None) -> str: ...


def head_excerpt(files: SessionFolder, relative: str, start: int, end: int | None,
                 limit: int = OUTPUT_EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of the file's bytes ``[start:end]``, noting what was left out."""
    found = files.read(relative, limit * 4, start)
    if found is None:
        return ""
    data, size = found
    total = max(0, (size if end is None else min(end, size)) - start)
    text = data[:total].decode("utf-8", "replace")
    if len(text) > limit or total > len(data):
        text = text[:limit]
        text += f"\n[output truncated: {total:,} bytes in total, first {len(text):,} characters shown]"
    return text


class RunningSession:
    """A started session; :meth:`result` waits for it and cleans up."""

    def __init__(self, spec: SessionSpec, excerpt: Excerpt = head_excerpt) -> None:
        _compile_boot_files()
        self.spec = spec
        self.excerpt = excerpt
        self.started = time.monotonic()
        self.iso = iso = isolation()
        self.uid = account.new_uid() if iso.own_user else None  # the submission's user, if not the grader's
        self.folder, self.mounted = disk.make_folder(iso.tmpfs)
        self.files = SessionFolder(self.folder)
        self.cgroup: SessionCgroup | None = None
        self.shared_memory: list[str] = []  # names the session's processes mapped in /dev/shm
        try:
            self.cgroup = SessionCgroup.make(self.folder.name, iso.cgroups)
            self._start(spec)
        except BaseException:  # no cgroup, a failed Popen, a full disk, Ctrl-C: leave nothing behind
            self._clean_up()
            raise

    def _start(self, spec: SessionSpec) -> None:
        source = self.folder / "src"
        work = self.folder / "work"
        for sub in (source, work, *(self.folder / name for name in RECORD_FOLDERS)):
            sub.mkdir()
        shutil.copyfile(spec.submission, source / f"{spec.module}.py")
        if self.uid is not None:
            account.hand_over(self.folder, self.uid, [work, *(self.folder / name for name in RECORD_FOLDERS)],
                              [self.folder / "current_call"])
        config = {
            "method": spec.start_method,
            "module": spec.module,
            "source_dir": str(source),
            "traced": list(spec.traced),
            "weighed": list(spec.weighed),
            "weigh_tasks": spec.weigh_tasks,
            "align": _align_json(spec.align, spec.calls),
            "order": _order_json(spec.order, spec.calls),
            "calls": [_call_json(call) for call in spec.calls],
        }
        (self.folder / "config.marshal").write_bytes(marshal.dumps(config))
        cpu_s = int(spec.timeout_s * max(1, len(spec.calls))) + 1
        iso = self.iso
        request = {
            "folder": str(self.folder),
            "python": iso.python,
            "worker": str(BOOT_DIR / "_grade_worker.py"),
            "cwd": str(work),
            "stdout": str(self.folder / "stdout"),
            "stderr": str(self.folder / "stderr"),
            "env": _sandbox_env(self.folder, work),
            "timeouts": [spec.timeout_s],
            "calls": len(spec.calls),
            "startup_timeout": max(10.0, spec.timeout_s),
            "limits": spec.limits.rlimits(cpu_s, MAX_PROCESSES if self.uid is not None else nproc_limit()),
            "uid": self.uid,
            "reach": self._reach(iso),
            "seccomp": iso.seccomp,
            "disk": {"bytes": disk.DISK_BYTES, "files": disk.DISK_FILES, "tmpfs": self.mounted},
            # names in /dev/shm to remove afterwards: where it is neither private (bubblewrap)
            # nor told apart by its owner (a user of the session's own)
            "shared_memory_names": not iso.bwrap and self.uid is None,
            "landlock": landlock_rules(self.folder, BOOT_DIR, iso),
            "trace_limit": TRACE_LIMIT,
            "records_limit": RECORDS_LIMIT,
            "observe": spec.observe,
            "shared_pages": spec.shared_pages,
            "deadlock_settle_s": spec.deadlock_settle_s,
        }
        self.budget_s = spec.timeout_s * len(spec.calls) + 10.0 * (len(spec.calls) + 1) + SUPERVISOR_GRACE_S
        command = [iso.python, "-I", "-S", "-c", SUPERVISOR_MAIN, str(self.folder)]
        self.key = secrets.token_bytes(32)  # signs the supervisor's report (see the supervisor)
        cgroup_fd = self.cgroup.worker_fd()  # the worker joins the memory cgroup through it
        key_read = -1
        try:
            request["cgroup_fd"] = cgroup_fd
            (self.folder / "supervisor.marshal").write_bytes(marshal.dumps(request))
            key_read, key_write = os.pipe()  # the supervisor reads the key before anything else
            os.write(key_write, self.key)
            os.close(key_write)
            self.process = subprocess.Popen(
                wrap(command, self.folder, BOOT_DIR, iso),
                stdin=key_read, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, env={"PATH": os.defpath, "LANG": "C.UTF-8"},
                preexec_fn=self._prepare_supervisor, pass_fds=() if cgroup_fd is None else (cgroup_fd,),
            )
        finally:
            for fd in (key_read, cgroup_fd):
                if fd is not None and fd >= 0:
                    os.close(fd)

    def _reach(self, iso: Isolation) -> list[str]:
        """The folders the submission's user of its own is shown through a mount
        namespace (``boot/_grade_reach.py``): the installation's where needed, and the
        session folder where a folder above it is closed to other users (a TMPDIR of
        mode 0700). Bubblewrap needs none: it shows the folders above with mode 0755."""
        if self.uid is None or iso.bwrap:
            return []
        return [*iso.reach, *([str(self.folder)] if _grade_reach.closed_above(str(self.folder.parent)) else [])]

    def _prepare_supervisor(self) -> None:
        """In the supervisor's process, before exec: its cgroup, and death with the grader
        (the kernel then kills the whole sandbox: see the supervisor's tracer)."""
        self.cgroup.enter()
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def kill(self) -> None:
        """Stop the session at once (Ctrl-C, an aborted run); :meth:`result` still cleans up."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass

    def result(self) -> SessionResult:
        try:
            try:
                out, err = self.process.communicate(timeout=self.budget_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, err = self.process.communicate()
            report = _parse_supervisor(out, err, self.process.returncode, self.key)
            self.cgroup.kill_all()  # whatever the supervisor did or did not kill
            if report.get("error"):
                kill_stragglers(self.folder)
            self.shared_memory = [name for name in report.get("shared_memory") or [] if isinstance(name, str)]
            try:
                result = self._read(report)
                result.oom_kills = self.cgroup.oom_kills()
                return result
            except Tampered as tampered:
                return SessionResult(self.spec, {call.name: CallOutcome(call, "not_run") for call in self.spec.calls},
                                     report.get("worker_pid"), time.monotonic() - self.started,
                                     tampering=[str(tampered)])
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        self.files.close()
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cgroup.remove()
        disk.remove_left_behind(self.uid if not self.iso.bwrap else None, self.shared_memory)
        disk.remove_folder(self.folder, self.mounted)

    def _read(self, report: dict) -> SessionResult:
        window = (self.started, time.monotonic())
        facts = report.get("processes")  # None where ptrace was refused: records are then unchecked
        lifetimes = {fact["pid"]: (fact["t0"], fact["t_end"]) for fact in facts or []}  # seen by the kernel
        seen = {fact["pid"]: SeenProcess.from_fact(fact) for fact in facts or []}
        helpers = frozenset(report.get("helpers", []))
        events, incomplete = read_events(report.get("trace") or {}, facts, report.get("helpers", []),
                                         self.files, window)
        by_index = {call["index"]: call for call in report.get("calls", [])}
        timeout = report.get("timeout") or {}
        outcomes: dict[str, CallOutcome] = {}
        output_start = (0, 0)
        stopped = False
        starts = [_call_start(by_index[i]) for i in sorted(by_index)] + [float("inf")]
        for index, call in enumerate(self.spec.calls):
            supervised = by_index.get(index)
            if supervised is None or stopped:
                outcomes[call.name] = CallOutcome(call, "not_run")
                stopped = True
                continue
            data = self._worker_outcome(index, supervised, window)
            outcome = self._outcome(index, call, supervised, data, report, timeout)
            caller_cpu = supervised.get("cpu_s") or [None, None]
            observed = Observed(seen, report.get("worker_pid"), helpers, starts[index], supervised.get("t"),
                                caller_cpu[1] - caller_cpu[0] if None not in caller_cpu[:2] else None,
                                frozenset(supervised.get("shared") or ()))
            outcome.trace = Trace([e for e in events if starts[index] <= e["t"] < starts[index + 1]],
                                  main_pid=report.get("worker_pid"), lifetimes=lifetimes, kernel=observed)
            output_end = data.output_end if data is not None else (None, None)
            if call.kind == "script":
                outcome.stdout = self.excerpt(self.files, f"calls/{index}.stdout", 0, None)
                outcome.stderr = self.excerpt(self.files, f"calls/{index}.stderr", 0, None)
            else:
                outcome.stdout = self.excerpt(self.files, "stdout", output_start[0], output_end[0])
                outcome.stderr = self.excerpt(self.files, "stderr", output_start[1], output_end[1])
            output_start = (output_end[0] or 0, output_end[1] or 0)
            outcomes[call.name] = outcome
            stopped = not outcome.finished
        return SessionResult(self.spec, outcomes, report.get("worker_pid"),
                             time.monotonic() - self.started, report.get("error") or "",
                             tampering=list(report.get("tampering", [])), incomplete=incomplete,
                             unobserved=(report.get("tracer_error") or "") if self.spec.observe else "",
                             disk_full=bool((report.get("disk") or {}).get("full"))
                             or (report.get("timeout") or {}).get("reason") == "disk",
                             flooded=bool(report.get("flooded")),
                             left_at_exit=[leak for leak in report.get("left_at_exit") or [] if isinstance(leak, dict)])

    def _worker_outcome(self, index: int, supervised: dict, window: tuple[float, float]) -> Outcome | None:
        """What the worker wrote of call ``index``: None if nothing, Tampered if it is not
        a record the worker writes, or not written while the call ran."""
        found = self.files.read(f"calls/{index}.json", OUTCOME_LIMIT + 1)
        if found is None:
            return None
        data, size = found
        if size > OUTCOME_LIMIT:
            raise Tampered(f"calls/{index}.json has {size:,} bytes")
        if supervised.get("t") is None:
            return None  # the call never ended: nothing the worker wrote of it counts
        if supervised.get("digest") != hashlib.sha256(data).hexdigest():
            raise Tampered(f"calls/{index}.json is not what the worker wrote")
        return decode_outcome(data, (window[0], supervised["t"]), f"calls/{index}.json")

    def _outcome(self, index: int, call: Call, supervised: dict, data: Outcome | None, report: dict,
                 timeout: dict) -> CallOutcome:
        duration = (supervised.get("t") or time.monotonic()) - supervised["t0"]
        if timeout.get("call") == index:
            hang = [dict(proc, stack=head_excerpt(self.files, f"stacks/{proc['pid']}.txt", 0, None, STACK_EXCERPT_CHARS))
                    for proc in timeout.get("processes", [])]
            stopped_s = timeout.get("stopped_s")
            stopped = timeout.get("reason")
            if (stopped not in STOPPED_EARLY or not isinstance(stopped_s, (int, float))
                    or not 0 <= stopped_s < self.spec.timeout_s):
                stopped, stopped_s = "", None
            return CallOutcome(call, "timeout", duration_s=self.spec.timeout_s if stopped_s is None else stopped_s,
                               hang=hang, deadlock_s=stopped_s if stopped == "deadlock" else None,
                               stopped=stopped, t0=_call_start(supervised))
        if supervised.get("t") is None or data is None:
            return CallOutcome(call, "crashed", exit_code=report.get("worker_exit"), duration_s=duration)
        outcome = CallOutcome(
            call, data.status, value=data.value, type_name=data.type, exception=data.exception,
            message=data.message, traceback=data.traceback[-4000:], duration_s=duration,
            leaks=supervised.get("leaks", []),
        )
        outcome.t0 = _call_start(supervised)
        if outcome.t0 <= data.t <= supervised["t"]:
            outcome.t_end = data.t
        if outcome.status == "exited":
            outcome.exit_code = data.code if isinstance(data.code, int) else 1
        return outcome


@functools.cache
def _compile_boot_files() -> None:
    """Byte-compile the files every sandbox process imports (once per grader process):
    with PYTHONDONTWRITEBYTECODE set, as here, each child would compile them again.
    Only a file whose cached byte code is missing or stale is compiled (``py_compile``
    then loaded; ``compileall`` would take a source edited within the second of its last
    compilation for unchanged, which the import system does not)."""
    stale = [source for source in BOOT_DIR.glob("*.py") if not _cached(source)]
    if stale:
        import py_compile

        for source in stale:
            try:
                py_compile.compile(str(source), doraise=True)
            except (OSError, py_compile.PyCompileError):
                pass  # a read-only installation: each sandbox process compiles it, as before


def _cached(source: Path) -> bool:
    """Whether the byte code cached for ``source`` is that of its current contents (the
    header the import system checks: magic number, no flags, source time and size)."""
    from importlib.util import MAGIC_NUMBER, cache_from_source

    try:
        info = source.stat()
        with open(cache_from_source(str(source)), "rb") as file:
            header = file.read(16)
    except OSError:
        return False
    expected = MAGIC_NUMBER + bytes(4) + (int(info.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") \
        + (info.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    return header == expected


def start_session(spec: SessionSpec) -> RunningSession:
    return RunningSession(spec)


def run_session(spec: SessionSpec) -> SessionResult:
    return start_session(spec).result()


def _call_start(supervised: dict) -> float:
    """When a call started: the worker's own clock reading, if it is plausible.

    The supervisor hears of the start a little later (more so on a loaded machine);
    events of the first moments of the call would otherwise fall before the window.
    """
    worker_t0 = supervised.get("worker_t0")
    if isinstance(worker_t0, float) and supervised["t0"] - 5.0 <= worker_t0 <= supervised["t0"]:
        return worker_t0
    return supervised["t0"]


def _align_json(align: Align | None, calls: tuple[Call, ...]) -> dict | None:
    if align is None:
        return None
    indexes = [i for i, call in enumerate(calls) if not align.calls or call.name in align.calls]
    return {"function": align.function, "parties": align.parties, "timeout_s": align.timeout_s,
            "calls": indexes}


def _order_json(order: Order | None, calls: tuple[Call, ...]) -> dict | None:
    if order is None:
        return None
    return {"function": order.function, "key_arg": order.key_arg, "hold": order.hold,
            "window_s": order.window_s, "grace_s": order.grace_s,
            "calls": {i: list(order.calls[call.name]) for i, call in enumerate(calls) if call.name in order.calls}}


def _call_json(call: Call) -> dict:
    return {"kind": call.kind, "function": call.function, "args": [_arg_json(a) for a in call.args]}


def _arg_json(argument: Any) -> Any:
    if isinstance(argument, Ref):
        return {"__ref__": argument.qualified_name}
    if isinstance(argument, (list, tuple)):
        return [_arg_json(item) for item in argument]
    return argument


def _sandbox_env(folder: Path, work: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (tokens, secrets) reaches the submission."""
    return {
        "PATH": os.defpath,
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(BOOT_DIR),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MALLOC_ARENA_MAX": "2",
        "GRADE_SANDBOX_DIR": str(folder),
    }


def _parse_supervisor(out: bytes, err: bytes, returncode: int | None, key: bytes) -> dict:
    """The supervisor's report, if it is exactly one report signed with ``key``.

    Anything else means the supervisor died (killed by the submission, most likely) or
    somebody else wrote on its standard output: both are the submission's doing.
    """
    report, _, signature = out[:REPORT_LIMIT].rstrip(b"\n").rpartition(b"\n")
    expected = hmac.new(key, report, hashlib.sha256).hexdigest().encode()
    if report and hmac.compare_digest(signature, expected):
        return json.loads(report)
    if returncode == 0 and out:
        return {"calls": [], "error": "the sandbox supervisor's report was forged", "tampering": [
            "the report of the sandbox supervisor was forged (someone else wrote on its output)"]}
    reason = "killed" if returncode and returncode < 0 else f"exit code {returncode}"
    return {"calls": [], "error": f"the sandbox supervisor died ({reason})",
            "stderr": err.decode("utf-8", "replace")[-2000:]}


def kill_stragglers(folder: Path) -> int:
    """Kill every process whose environment marks it as part of the sandbox in ``folder``.

    Needed only when the supervisor itself died (its subreaper role died with it, so
    the submission's processes were re-parented to init).
    """
    marker = f"GRADE_SANDBOX_DIR={folder}".encode() + b"\0"
    killed = 0
    for _ in range(20):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    with open(f"/proc/{entry}/environ", "rb") as file:
                        if marker in file.read() + b"\0":
                            found.append(int(entry))
                except OSError:
                    continue
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.01)
    return killed
