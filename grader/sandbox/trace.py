"""The trace of a call: what the submission's processes did, read from the sandbox.

Events are written by ``boot/_grade_runtime.py``; every one has ``ev`` (its kind),
``pid`` and ``t`` (``time.monotonic()``). :class:`Trace` answers the questions checks
ask, so that check files never parse events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.sandbox.records import decode_events
from grader.sandbox.untrusted import SessionFolder, Tampered

TRACE_LIMIT = 4 * 1024**2  # bytes of records kept per process
RECORDS_LIMIT = 8 * 1024**2  # bytes of records kept per session: past it, the session is stopped
DROPPED_LIMIT = 10_000
JOIN_SLACK_S = 0.5  # the tracer may note an exit a little after the parent's join returned
POOL_WORKER = "multiprocessing.pool.worker"


def read_events(trace: dict, facts: list[dict] | None, helpers: list[int], folder: SessionFolder,
                window: tuple[float, float]) -> tuple[list[dict], list[int]]:
    """All events of a session, oldest first, and the pids whose records are incomplete.

    ``trace`` holds each process's records under the pid the kernel stamped on them (see
    the supervisor's trace receiver); ``facts`` are the processes the supervisor saw
    created and ending (None where ptrace was refused). A record that is not one our
    runtime writes, or that disagrees with the facts, raises
    :class:`~grader.sandbox.untrusted.Tampered`.
    """
    events: list[dict] = []
    incomplete = {int(pid) for pid in trace.get("incomplete", [])}
    incomplete |= {int(name.partition(".")[0]) for name in folder.names("trace", ".dropped", DROPPED_LIMIT)
                   if name.partition(".")[0].isdigit()}
    for pid, lines in trace.get("records", {}).items():
        found, cut = decode_events("".join(lines).encode("utf-8", "surrogatepass"), int(pid), window,
                                   f"the records of process {pid}")
        events += found
        if cut:
            incomplete.add(int(pid))
    if facts is not None:
        check_against_facts(events, {fact["pid"]: fact for fact in facts}, set(helpers))
    events.sort(key=lambda event: event["t"])
    return events, sorted(incomplete)


def _made_for(child: dict, claimer: int, facts: dict[int, dict], helpers: set[int]) -> bool:
    """Whether ``claimer`` can have started ``child``: it forked it, or a fork server did
    (the session's, or one the claimer itself started: a program run as a script)."""
    server = facts.get(child["ppid"])
    return child["ppid"] in (claimer, *helpers) or (
        server is not None and server["ppid"] == claimer and server["exec"])


def check_against_facts(events: list[dict], facts: dict[int, dict], helpers: set[int]) -> None:
    """Records are believed only where they agree with what the kernel showed: a record
    of a process that never existed or outside its lifetime, a child claimed by a process
    that did not create it, a join of a process that had not ended: tampering."""
    claimed: set[int] = set()
    for event in events:
        fact = facts.get(event["pid"])
        if fact is None:
            raise Tampered(f"a record of process {event['pid']}, which never existed in the sandbox")
        end = fact["t_end"] if fact["t_end"] is not None else float("inf")
        for key in ("t0", "t"):
            if key in event and not fact["t0"] <= event[key] <= end:
                raise Tampered(f"process {event['pid']} has a record dated outside its lifetime")
        if event["ev"] == "start":  # a fork server's child may be any process's: it forks for all
            child = facts.get(event["child"])
            if (child is None or not _made_for(child, event["pid"], facts, helpers) or event["t"] < child["t0"]
                    or event["child"] in claimed):
                raise Tampered(f"process {event['pid']} claims to have started process {event['child']}, "
                               "which it did not create then")
            claimed.add(event["child"])
        if event["ev"] == "joined" and event["exitcode"] is not None:
            child = facts.get(event["child"])
            if child is None or child["t_end"] is None or child["t_end"] > event["t"] + JOIN_SLACK_S:
                raise Tampered(f"process {event['pid']} claims to have joined process {event['child']}, "
                               "which had not ended")


@dataclass(frozen=True)
class SeenThread:
    """A thread as the kernel showed it to the supervisor's tracer."""

    task: int
    t0: float
    t_end: float | None
    cpu_s: float | None  # CPU time charged to it when it exited (None: not known)


@dataclass(frozen=True)
class Span:
    """A weighed span (``_grade_runtime.weighed``): a task of a process marked its start
    and end, and the kernel charged ``cpu_s`` of CPU time to that task in between."""

    task: int
    t0: float
    t: float
    cpu_s: float


@dataclass(frozen=True)
class SeenProcess:
    """A process as the kernel showed it to the supervisor's tracer, from outside the
    submission's processes: nothing the submission writes can change these facts."""

    pid: int
    ppid: int | None
    t0: float
    t_end: float | None  # None: it had not ended when the session did
    exit: int | None  # exit code, or minus the signal that killed it
    exec: bool  # it ran another program (a spawn child, a helper, a script)
    cpu_s: float | None  # CPU time of all its threads when it exited (None: not known)
    threads: tuple[SeenThread, ...] = ()
    spans: tuple[Span, ...] = ()
    # pages of each writable shared memory object ("device inode") in its page tables when
    # it exited (it read or wrote them); None where not counted (``Plan.shared_pages``)
    shared_pages: dict[str, int] | None = None
    helper: bool = False  # it exec'd one of multiprocessing's helpers (a resource tracker, a fork server)

    @classmethod
    def from_fact(cls, fact: dict) -> SeenProcess:
        """From one of the supervisor's process facts (see ``_grade_tracer.Tracer.facts``)."""
        threads = tuple(SeenThread(t.get("task", 0), t["t0"], t.get("t_end"), t.get("cpu_s"))
                        for t in fact.get("threads") or ())
        spans = tuple(Span(*span) for span in fact.get("spans") or ())
        return cls(fact["pid"], fact.get("ppid"), fact["t0"], fact.get("t_end"), fact.get("exit"),
                   bool(fact.get("exec")), fact.get("cpu_s"), threads, spans, fact.get("shared_pages"),
                   bool(fact.get("helper")))


@dataclass(frozen=True)
class Observed:
    """What the kernel showed of one call: the processes of the session, the call's
    window, and the CPU time of the caller (the worker process) during the call.
    Empty (``observed`` False) where ptrace was refused."""

    processes: dict[int, SeenProcess] = field(default_factory=dict)
    main_pid: int | None = None
    helpers: frozenset[int] = frozenset()  # started by the grader before any call (fork server, ...)
    t0: float = 0.0  # when the call started
    t_end: float | None = None  # when the supervisor heard that it ended (None: it never did)
    caller_cpu_s: float | None = None  # CPU time of the caller's process during the call
    caller_shared: frozenset[str] = frozenset()  # the shared memory objects the caller had mapped at the end

    def pages_of_callers(self, process: SeenProcess) -> int:
        """How many pages of the caller's shared memory objects ``process`` read or wrote
        (memory it mapped for itself does not count)."""
        return sum(pages for key, pages in (process.shared_pages or {}).items() if key in self.caller_shared)

    @property
    def observed(self) -> bool:
        return bool(self.processes)

    def created(self) -> list[SeenProcess]:
        """Processes created during the call, by any process of the session (the
        caller, a fork server, a child), oldest first; the grader's helpers and those
        multiprocessing started for the submission (a context of another start method
        starts its own resource tracker) excluded."""
        return sorted((p for p in self.processes.values() if self.during(p.t0) and not p.helper
                       and p.pid != self.main_pid and p.pid not in self.helpers),
                      key=lambda p: p.t0)

    def during(self, t: float) -> bool:
        """Whether moment ``t`` falls within the call (until the session's end, for a call
        that never ended)."""
        return self.t0 <= t <= (float("inf") if self.t_end is None else self.t_end)

    def ended_in_call(self, process: SeenProcess) -> bool:
        """Whether ``process`` ended before the call did."""
        return process.t_end is not None and self.t_end is not None and process.t_end <= self.t_end

    def threads_created(self) -> list[SeenThread]:
        """Threads the caller's process created during the call."""
        caller = self.caller()
        return [] if caller is None else [thread for thread in caller.threads if self.during(thread.t0)]

    def spans(self, process: SeenProcess) -> list[Span]:
        """``process``'s weighed spans that began during the call."""
        return [span for span in process.spans if self.during(span.t0)]

    def weighed_s(self, processes: list[SeenProcess]) -> float:
        """CPU time the kernel charged to the weighed spans of ``processes`` during the call."""
        return sum(span.cpu_s for process in processes for span in self.spans(process))

    def caller(self) -> SeenProcess | None:
        return self.processes.get(self.main_pid) if self.main_pid is not None else None

    def most_at_once(self, processes: list[SeenProcess], least_cpu_s: float) -> int:
        """The largest number of ``processes`` that were in a weighed span at one moment,
        counting only spans to which the kernel charged at least ``least_cpu_s`` of CPU
        time: 2 or more is work done by two processes at the same time, shown by the
        kernel (not by the CPU share of each span: a loaded machine, or the tracer
        itself, can keep a process waiting for a CPU for most of its span)."""
        edges = sorted((t, step, process.pid) for process in processes for span in self.spans(process)
                       if span.t > span.t0 and span.cpu_s >= least_cpu_s
                       for t, step in ((span.t0, 1), (span.t, -1)))  # at a tie, an end comes first
        running: dict[int, int] = {}
        most = 0
        for _, step, pid in edges:
            running[pid] = running.get(pid, 0) + step
            if not running[pid]:
                del running[pid]
            most = max(most, len(running))
        return most

    def ran_one_after_another(self, processes: list[SeenProcess]) -> bool:
        """Whether each of ``processes`` (two or more) was created only after the one
        created before it had ended: they never existed at the same time."""
        ordered = sorted(processes, key=lambda p: p.t0)
        return len(ordered) >= 2 and all(
            before.t_end is not None and before.t_end <= after.t0 for before, after in zip(ordered, ordered[1:]))


@dataclass
class Trace:
    events: list[dict] = field(default_factory=list)
    main_pid: int | None = None
    # pid -> (created, ended or None), as the supervisor's tracer saw them (empty where
    # ptrace was refused): when processes existed, which no record of theirs can move
    lifetimes: dict[int, tuple[float, float | None]] = field(default_factory=dict)
    kernel: Observed = field(default_factory=Observed)  # the facts a check may pass on

    def of(self, kind: str, **match) -> list[dict]:
        return [e for e in self.events if e["ev"] == kind and all(e.get(k) == v for k, v in match.items())]

    # processes -------------------------------------------------------------
    def started(self, include_pool_workers: bool = False) -> list[dict]:
        """Processes started (``Process.start``), pool workers excluded unless asked."""
        return [e for e in self.of("start")
                if include_pool_workers or e.get("target") != POOL_WORKER]

    def pool_workers_started(self) -> list[dict]:
        return [e for e in self.of("start") if e.get("target") == POOL_WORKER]

    def first_join(self) -> dict | None:
        joins = self.of("join")
        return joins[0] if joins else None

    def calls(self, function: str) -> list[dict]:
        """Calls of a traced function of the exercise module."""
        return self.of("call", func=function)

    def max_concurrent(self, function: str) -> int:
        """The largest number of processes that were running a call of the traced
        ``function`` at the same moment (0 without calls): 2 or more means calls in
        different processes overlapped in time.

        Processes are counted, not calls: threads of one process running the function at
        once count as one process. Each call runs from its ``t0`` to its ``t``; a call that
        ends at the very moment another starts does not overlap it, and a call of no
        duration overlaps nothing."""
        edges = sorted((t, step, call["pid"]) for call in self.calls(function) if call["t0"] < call["t"]
                       for t, step in ((call["t0"], 1), (call["t"], -1)))  # at a tie, an end comes first
        running: dict[int, int] = {}  # pid -> its calls running now
        most = 0
        for _, step, pid in edges:
            running[pid] = running.get(pid, 0) + step
            if not running[pid]:
                del running[pid]
            most = max(most, len(running))
        return most

    def probes(self, token: str) -> list[dict]:
        return self.of("probe", token=token)

    def tasks(self) -> list[dict]:
        """Pool tasks: one event per task a pool worker ran."""
        return self.of("task")

    # pools -------------------------------------------------------------------
    def pools(self) -> list[dict]:
        return self.of("pool")

    def pool_cleaned_up(self, pool: dict) -> bool:
        """Closed and joined, or terminated (what ``with Pool() as p`` does)."""
        pool_id = pool["pool"]
        return bool(self.of("pool_terminate", pool=pool_id)) or (
            bool(self.of("pool_close", pool=pool_id)) and bool(self.of("pool_join", pool=pool_id)))

    def apply_async(self) -> list[dict]:
        return self.of("apply_async")

    def gets(self) -> list[dict]:
        return self.of("get")

    def array_writes(self) -> dict[int, int]:
        """Items written into shared ``Array`` objects, per process."""
        return self._counts("array_writes")

    def value_writes(self) -> dict[int, int]:
        """Assignments to ``.value`` of shared ``Value`` objects, per process."""
        return self._counts("value_writes")

    def _counts(self, kind: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for event in self.of(kind):
            counts[event["pid"]] = counts.get(event["pid"], 0) + event["count"]
        return counts

    def shared_memory_left(self) -> list[str]:
        """Names of shared memory segments created and never unlinked."""
        unlinked = {event.get("name") for event in self.of("shm_unlink")}
        return [event["name"] for event in self.of("shm_create") if event.get("name") not in unlinked]

    def describe(self, pid: int) -> str:
        """A short name for a process: a pool worker, or its target, as recorded when it started."""
        if pid == self.main_pid:
            return "main process"
        for event in self.of("start"):
            if event.get("child") == pid:
                if event.get("target") == POOL_WORKER:
                    return f"pool worker {pid}"
                return f"process {pid} (target {event.get('target', '?').rsplit('.', 1)[-1]})"
        return f"process {pid}"
