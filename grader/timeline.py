"""A call's process timeline: one row per process, time across, drawn from its trace.

So that "your processes ran one after the other", "the parent joined before reading" or
"only one pool worker did the work" are seen, not only said. :func:`timeline` builds
the data (its JSON form is the ``timeline`` field of a failed check in the JSON report:
see the README), and :func:`draw` the text shown under a failed check's explanation.

Times are seconds from the start of the call. Spans, by kind:

- ``alive``: the process exists (from its start to its end, or to the end of the call);
- ``work``: it runs the exercise's function (a traced call) or a pool task;
- ``join``: it waits in ``join()`` for a child (``detail``: the child's pid).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from grader.i18n import columns, fit, text
from grader.sandbox.trace import POOL_WORKER, Trace

WIDTH = 48  # columns of the time axis
MAX_ROWS = 12  # processes drawn; the JSON has them all
GLYPHS = {"alive": "─", "work": "█", "join": "j"}


@dataclass
class Span:
    kind: str  # alive, work or join
    t0: float
    t1: float
    detail: str = ""


@dataclass
class Row:
    pid: int
    role: str  # main (the caller), pool_worker, child (started with a target) or process
    target: str = ""  # a child's target function
    spans: list[Span] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # when this process started a child

    @property
    def label(self) -> str:
        """The row's name in English (:func:`draw` names it in the student's language)."""
        return _label(self.role, self.pid, self.target, "en")


def _label(role: str, pid: int, target: str, language: str) -> str:
    if role == "child":
        return f"{target}() {pid}"
    return text(f"timeline.{role}", language, pid=pid)


@dataclass
class Timeline:
    duration_s: float
    rows: list[Row]

    def to_json(self) -> dict:
        return {"duration_s": round(self.duration_s, 3),
                "processes": [{"pid": row.pid, "role": row.role, "target": row.target, "label": row.label,
                               "starts": [round(t, 3) for t in row.starts],
                               "spans": [{**asdict(span), "t0": round(span.t0, 3), "t1": round(span.t1, 3)}
                                         for span in row.spans]} for row in self.rows]}


def timeline(trace: Trace, t0: float, t_end: float | None) -> Timeline | None:
    """The timeline of a call that started at ``t0`` (monotonic seconds) and ended at
    ``t_end`` (None: it never ended; the last event then ends the drawing). None when
    the call involved no process but the caller: there is nothing to see.

    A process is alive from its creation to its end as the kernel saw them
    (``trace.lifetimes``): a child that finished its work but cannot exit (its queue not
    drained) stays alive. Without them (ptrace refused), from its start to the end of
    its run or its join, as its records say."""
    events = trace.events
    children = [e for e in events if e["ev"] == "start"]
    workers = {e["pid"] for e in events if e["ev"] == "task"}
    if not children and not workers:
        return None
    if not t0:  # the call's start was not recorded (an import, a script): its first event
        t0 = min(e.get("t0", e["t"]) for e in events)
    end = t_end if t_end is not None else max((e["t"] for e in events), default=t0)
    end = max(end, t0 + 1e-3)

    def at(t: float) -> float:
        return min(max(t - t0, 0.0), end - t0)

    rows: dict[int, Row] = {}
    main = trace.main_pid or (children[0]["pid"] if children else min(workers))
    rows[main] = Row(main, "main", spans=[Span("alive", 0.0, end - t0)])
    for event in children:
        pool_worker = event["target"] == POOL_WORKER
        row = rows.setdefault(event["child"], Row(event["child"], "pool_worker" if pool_worker else "child",
                                                  "" if pool_worker else event["target"].rsplit(".", 1)[-1]))
        born, died = trace.lifetimes.get(event["child"], (event["t"], None))
        row.spans.append(Span("alive", at(born), at(died) if died is not None else end - t0))
        rows.setdefault(event["pid"], Row(event["pid"], "process")).starts.append(at(event["t"]))
    for event in events:
        row = rows.setdefault(event["pid"], Row(event["pid"], "process"))
        if not trace.lifetimes and (event["ev"] == "run_end" or
                                    (event["ev"] == "joined" and event.get("child") in rows)):
            pid = event["pid"] if event["ev"] == "run_end" else event["child"]
            for span in rows[pid].spans:
                if span.kind == "alive":
                    span.t1 = min(span.t1, at(event["t"]))
        if event["ev"] in ("call", "task"):
            row.spans.append(Span("work", at(event["t0"]), at(event["t"]), event["func"].rsplit(".", 1)[-1]))
    # Each join lasts until the first ``joined`` of the same process and child after it: one
    # pass over the events (oldest first), whatever their number.
    waiting: dict[tuple[int, object], list[Span]] = {}
    for event in events:
        key = (event["pid"], event.get("child"))
        if event["ev"] == "join":
            span = Span("join", at(event["t"]), end - t0, str(event.get("child") or ""))
            rows[event["pid"]].spans.append(span)
            waiting.setdefault(key, []).append(span)
        elif event["ev"] == "joined":
            for span in waiting.pop(key, ()):
                span.t1 = at(event["t"])
    for row in rows.values():
        if not any(span.kind == "alive" for span in row.spans):
            born, died = trace.lifetimes.get(row.pid, (None, None))
            times = [t for span in row.spans for t in (span.t0, span.t1)]
            row.spans.insert(0, Span("alive", at(born) if born is not None else min(times, default=0.0),
                                     at(died) if died is not None else max(times, default=0.0)))
    others = sorted((row for pid, row in rows.items() if pid != main), key=lambda row: min(s.t0 for s in row.spans))
    caller = rows[main]
    idle = not caller.starts and all(span.kind == "alive" for span in caller.spans)
    return Timeline(end - t0, others if idle and others else [caller, *others])  # a script's caller does nothing


def draw(document: dict, language: str) -> list[str]:
    """A timeline (its JSON form, :meth:`Timeline.to_json`) in text: a header, one row per
    process, a legend."""
    duration = max(document["duration_s"], 1e-3)
    rows = document["processes"]
    scale = duration / WIDTH
    labels = [_label(row.get("role", "process"), row["pid"], row.get("target", ""), language) for row in rows]
    label_width = min(max(columns(label) for label in labels), 24)
    lines = [f"{'':<{label_width}}  0 s{'':<{WIDTH - 8}}{duration:>5.2f} s"]
    for row, label in zip(rows[:MAX_ROWS], labels):
        cells = [" "] * WIDTH
        for kind in ("alive", "join", "work"):  # later kinds draw over earlier ones
            for span in row["spans"]:
                if span["kind"] == kind:
                    first = min(int(span["t0"] / scale), WIDTH - 1)
                    last = max(first, min(int(span["t1"] / scale), WIDTH - 1))
                    for column in range(first, last + 1):
                        cells[column] = GLYPHS[kind]
        for t in row["starts"]:
            cells[min(int(t / scale), WIDTH - 1)] = "s"
        lines.append(f"{fit(label, label_width)} |{''.join(cells)}|")
    if len(rows) > MAX_ROWS:
        lines.append(text("timeline.more", language, count=len(rows) - MAX_ROWS))
    lines.append(f"{'':<{label_width}}  " + text("timeline.legend", language, column=_duration(scale)))
    return lines


def _duration(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"

