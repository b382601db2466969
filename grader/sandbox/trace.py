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


@dataclass
class Trace:
    events: list[dict] = field(default_factory=list)
    main_pid: int | None = None
    # pid -> (created, ended or None), as the supervisor's tracer saw them (empty where
    # ptrace was refused): when processes existed, which no record of theirs can move
    lifetimes: dict[int, tuple[float, float | None]] = field(default_factory=dict)

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
