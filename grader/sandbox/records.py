"""Schemas of every record that crosses the sandbox boundary, checked on the way in.

The trace events (written by ``boot/_grade_runtime.py`` in the submission's own
processes) and each call's outcome (written by the worker, which runs the submission)
are hostile data: a student who has read this file can write records by hand. Each is
decoded with :mod:`msgspec` into a strict type (known kinds, known keys, types, ranges);
one that does not fit raises :class:`~grader.sandbox.untrusted.Tampered`, which fails
the checks with "the grader's records were tampered with", never a pass and never an
internal error.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import msgspec

from grader.sandbox.untrusted import Tampered

Pid = Annotated[int, msgspec.Meta(ge=1, le=2**22)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**31)]
Name = Annotated[str, msgspec.Meta(max_length=500)]
Seconds = float


class _Event(msgspec.Struct, tag_field="ev", forbid_unknown_fields=True):
    pid: Pid
    t: Seconds


class Start(_Event, tag="start"):
    child: Pid
    target: Name
    name: Name
    daemon: bool


class Join(_Event, tag="join"):
    child: Pid | None


class Joined(_Event, tag="joined"):
    child: Pid | None
    exitcode: int | None


class Run(_Event, tag="run"):
    target: Name


class RunEnd(_Event, tag="run_end"):
    pass


class PoolCreated(_Event, tag="pool"):
    pool: int
    processes: Count


class PoolClose(_Event, tag="pool_close"):
    pool: int


class PoolTerminate(_Event, tag="pool_terminate"):
    pool: int


class PoolJoin(_Event, tag="pool_join"):
    pool: int


class ApplyAsync(_Event, tag="apply_async"):
    pool: int
    func: Name


class Get(_Event, tag="get"):
    pass


class Task(_Event, tag="task"):
    func: Name
    items: Count
    t0: Seconds
    results: Annotated[list[Name], msgspec.Meta(max_length=100)]


class ThreadStart(_Event, tag="thread_start"):
    target: Name


class ArrayWrites(_Event, tag="array_writes"):
    count: Count


class ValueWrites(_Event, tag="value_writes"):
    count: Count


class ShmCreate(_Event, tag="shm_create"):
    name: Name
    size: Count


class ShmUnlink(_Event, tag="shm_unlink"):
    name: Name


class StartWhileImporting(_Event, tag="start_while_importing"):
    """A process still importing the main module (a spawn or forkserver child) started a
    process: multiprocessing refuses it, and the supervisor stops the call."""


class TracedCall(_Event, tag="call"):
    func: Name
    t0: Seconds
    main_thread: bool


class Aligned(_Event, tag="aligned"):
    arrivals: Count


class Ordered(_Event, tag="ordered"):
    position: Count
    waited_s: Seconds
    gave_up: bool


class Probe(_Event, tag="probe"):
    token: Name
    t0: Seconds
    thread: int
    main_thread: bool


Event = Union[Start, Join, Joined, Run, RunEnd, PoolCreated, PoolClose, PoolTerminate, PoolJoin, ApplyAsync,
              Get, Task, ThreadStart, ArrayWrites, ValueWrites, ShmCreate, ShmUnlink, StartWhileImporting, TracedCall, Aligned, Ordered, Probe]
_event_decoder = msgspec.json.Decoder(Event)


class Outcome(msgspec.Struct, forbid_unknown_fields=True):
    """What the worker wrote of one call (``calls/I.json``)."""

    status: Literal["returned", "raised", "exited", "missing"]
    t0: Seconds
    t: Seconds
    output_end: tuple[Count, Count]
    value: Any = None
    type: Name = ""
    exception: Name = ""
    message: Annotated[str, msgspec.Meta(max_length=4_000)] = ""
    traceback: Annotated[str, msgspec.Meta(max_length=8_000)] = ""
    code: int | Name | None = None
    function: Name = ""


_outcome_decoder = msgspec.json.Decoder(Outcome)


def decode_events(data: bytes, pid: int, window: tuple[float, float], source: str) -> tuple[list[dict], bool]:
    """The events of one process's trace file, as dicts, and whether its last line was
    cut short (a process killed while writing it, or the file size limit reached).

    Every complete line must be a known event of process ``pid`` within ``window``.
    """
    lines = data.split(b"\n")
    cut = lines[-1] != b""
    events = []
    for number, line in enumerate(lines[:-1], 1):
        try:
            event = _event_decoder.decode(line)
        except (msgspec.DecodeError, RecursionError) as error:
            raise Tampered(f"{source}, record {number}: {error}") from None
        record = msgspec.structs.asdict(event)
        record["ev"] = type(event).__struct_config__.tag
        if event.pid != pid:
            raise Tampered(f"{source}, record {number}: it claims to come from process {event.pid}")
        for key in ("t", "t0"):
            if key in record and not _within(record[key], window):
                raise Tampered(f"{source}, record {number}: time {record[key]!r} outside the session")
        events.append(record)
    return events, cut


# How deep a returned value may nest: the runtime's encoder writes a repr below depth 20
# (at most three JSON levels each: a mapping with other keys is {"__pairs__": [[k, v]]}),
# and the grader's comparisons and abbreviations recurse over values.
VALUE_DEPTH = 128


def decode_outcome(data: bytes, window: tuple[float, float], source: str) -> Outcome:
    """The worker's record of one call; Tampered if it is not one the worker writes
    (malformed, nested deeper than the runtime nests, dated outside the session)."""
    try:
        outcome = _outcome_decoder.decode(data)
    except (msgspec.DecodeError, RecursionError) as error:
        raise Tampered(f"{source}: {error}") from None
    if _nested_deeper(outcome.value, VALUE_DEPTH):
        raise Tampered(f"{source}: a value nested more than {VALUE_DEPTH} levels deep")
    if not (_within(outcome.t0, window) and _within(outcome.t, window) and outcome.t0 <= outcome.t):
        raise Tampered(f"{source}: times outside the session")
    return outcome


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` (decoded JSON) nests lists and objects more than ``limit`` deep,
    found without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _within(value: float, window: tuple[float, float]) -> bool:
    return math.isfinite(value) and window[0] <= value <= window[1]
