"""The trace of a call: what the submission's processes did, read from the sandbox.

Events are written by ``boot/_grade_runtime.py``; every one has ``ev`` (its kind),
``pid`` and ``t`` (``time.monotonic()``). :class:`Trace` answers the questions checks
ask, so that check files never parse events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.sandbox.records import decode_events
from grader.sandbox.untrusted import SessionFolder, Tampered

TRACE_FILE_LIMIT = 4 * 1024**2  # the sandbox's file size limit: a longer file was not written by us
TRACE_FILES_LIMIT = 10_000
POOL_WORKER = "multiprocessing.pool.worker"


def read_events(folder: SessionFolder, window: tuple[float, float]) -> tuple[list[dict], list[int]]:
    """All events of a session, oldest first, and the pids whose records are incomplete
    (a line cut short, or records the runtime could not write). Raises
    :class:`~grader.sandbox.untrusted.Tampered` for anything our runtime does not write."""
    events: list[dict] = []
    incomplete: list[int] = []
    for name in folder.names("trace", "", TRACE_FILES_LIMIT):
        stem, _, suffix = name.partition(".")
        if not stem.isdigit() or suffix not in ("jsonl", "dropped"):
            raise Tampered(f"trace/{name} is not a file the grader writes")
        if suffix == "dropped":
            incomplete.append(int(stem))
            continue
        data, size = folder.read(f"trace/{name}", TRACE_FILE_LIMIT) or (b"", 0)
        if size > TRACE_FILE_LIMIT:
            raise Tampered(f"trace/{name} has {size:,} bytes, more than a process can write")
        found, cut = decode_events(data, int(stem), window, f"trace/{name}")
        events += found
        if cut:
            incomplete.append(int(stem))
    events.sort(key=lambda event: event["t"])
    return events, sorted(set(incomplete))


@dataclass
class Trace:
    events: list[dict] = field(default_factory=list)
    main_pid: int | None = None

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
        """A short name for a process: its target, as recorded when it started."""
        if pid == self.main_pid:
            return "main process"
        for event in self.of("start"):
            if event.get("child") == pid:
                return f"process {pid} (target {event.get('target', '?').rsplit('.', 1)[-1]})"
        return f"process {pid}"
