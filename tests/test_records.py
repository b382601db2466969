"""What comes back from a sandbox is hostile data: the session folder is read without
following links or blocking, records are validated against their schemas, and trace
records are believed only where they agree with the kernel's process facts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.check import release_order
from grader.sandbox.records import decode_events, decode_outcome
from grader.sandbox.trace import Trace, check_against_facts
from grader.sandbox.untrusted import SessionFolder, Tampered

WINDOW = (100.0, 200.0)


@pytest.fixture
def folder(tmp_path: Path):
    (tmp_path / "calls").mkdir()
    files = SessionFolder(tmp_path)
    yield tmp_path, files
    files.close()


def test_a_regular_file_is_read_up_to_the_limit(folder) -> None:
    path, files = folder
    (path / "calls" / "0.json").write_bytes(b"x" * 1000)
    assert files.read("calls/0.json", 10) == (b"x" * 10, 1000)
    assert files.read("calls/0.json", 10, start=995) == (b"x" * 5, 1000)
    assert files.read("calls/1.json", 10) is None


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/hostname"])
def test_a_symbolic_link_is_refused(folder, target: str) -> None:
    path, files = folder
    (path / "stdout").symlink_to(target)
    with pytest.raises(Tampered, match="stdout"):
        files.read("stdout", 100)


def test_a_linked_folder_is_refused(folder, tmp_path_factory) -> None:
    path, files = folder
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "0.json").write_text("{}")
    (path / "calls").rmdir()
    (path / "calls").symlink_to(elsewhere)
    with pytest.raises(Tampered, match="calls"):
        files.read("calls/0.json", 100)


def test_a_fifo_is_refused_without_blocking(folder) -> None:
    path, files = folder
    os.mkfifo(path / "stdout")
    with pytest.raises(Tampered, match="not a regular file"):
        files.read("stdout", 100)


def test_a_sparse_file_is_read_only_up_to_the_limit(folder) -> None:
    path, files = folder
    with open(path / "stderr", "wb") as file:
        file.truncate(10 * 1024**3)
    data, size = files.read("stderr", 4096)
    assert len(data) == 4096 and size == 10 * 1024**3


def test_the_folder_replaced_after_opening_is_not_followed(folder, tmp_path_factory) -> None:
    path, files = folder
    (path / "calls" / "0.json").write_text("original")
    moved = tmp_path_factory.mktemp("moved")
    os.rename(path, moved / "session")
    path.symlink_to("/etc")
    assert files.read("calls/0.json", 100) == (b"original", 8)


def event(**fields) -> bytes:
    return (json.dumps({"ev": "call", "pid": 7, "t": 150.0, "t0": 149.0, "func": "job", "main_thread": True}
                       | fields) + "\n").encode()


def test_a_known_event_is_accepted() -> None:
    events, cut = decode_events(event(), 7, WINDOW, "trace")
    assert events == [{"ev": "call", "pid": 7, "t": 150.0, "t0": 149.0, "func": "job", "main_thread": True}]
    assert not cut


@pytest.mark.parametrize("line", [
    event(ev="unknown"),
    event(extra="field"),
    event(t="150"),
    event(t=1e400),
    event(t=300.0),
    event(t0=50.0),
    event(pid=8),
    event(func="x" * 10_000),
    b'[1, 2, 3]\n',
    b'{"ev": "call"\n',
    b"[" * 100_000 + b"]" * 100_000 + b"\n",
])
def test_a_malformed_or_forged_event_is_tampering(line: bytes) -> None:
    with pytest.raises(Tampered):
        decode_events(line, 7, WINDOW, "trace")


def test_a_last_line_cut_short_is_incomplete_not_tampering() -> None:
    events, cut = decode_events(event() + b'{"ev": "ca', 7, WINDOW, "trace")
    assert len(events) == 1 and cut


def outcome(**fields) -> bytes:
    return json.dumps({"status": "returned", "t0": 120.0, "t": 130.0, "output_end": [0, 0], "value": [1, 2]}
                      | fields).encode()


def test_an_outcome_record_is_validated() -> None:
    assert decode_outcome(outcome(), WINDOW, "calls/0.json").value == [1, 2]
    for bad in (outcome(status="passed"), outcome(output_end=["a", {}]), outcome(t=500.0),
                outcome(t0=140.0), outcome(stdout_file="/etc/passwd"), b"null"):
        with pytest.raises(Tampered):
            decode_outcome(bad, WINDOW, "calls/0.json")


FACTS = {
    1: {"ppid": 0, "t0": 100.0, "t_end": None},  # the worker
    2: {"ppid": 1, "t0": 110.0, "t_end": 120.0},  # its child
    3: {"ppid": 99, "t0": 111.0, "t_end": 121.0},  # made by the fork server (pid 99)
}


def facts_event(kind: str, pid: int, t: float, **fields) -> dict:
    return {"ev": kind, "pid": pid, "t": t, **fields}


@pytest.mark.parametrize("events", [
    [facts_event("start", 1, 110.5, child=2)],
    [facts_event("start", 1, 111.5, child=3)],
    [facts_event("call", 2, 119.0, t0=115.0)],
    [facts_event("joined", 1, 121.0, child=2, exitcode=0)],
    [facts_event("joined", 1, 115.0, child=2, exitcode=None)],
])
def test_records_that_agree_with_the_facts_are_believed(events: list[dict]) -> None:
    check_against_facts(events, FACTS, helpers={99})


@pytest.mark.parametrize("events, reason", [
    ([facts_event("call", 5, 115.0, t0=114.0)], "never existed"),
    ([facts_event("call", 2, 125.0, t0=115.0)], "outside its lifetime"),
    ([facts_event("call", 2, 115.0, t0=105.0)], "outside its lifetime"),
    ([facts_event("start", 1, 110.5, child=2), facts_event("start", 1, 111.0, child=2)], "did not create"),
    ([facts_event("start", 1, 111.5, child=3), facts_event("start", 2, 112.0, child=3)], "did not create"),
    ([facts_event("start", 1, 109.0, child=2)], "did not create"),
    ([facts_event("start", 1, 110.5, child=5)], "did not create"),
    ([facts_event("joined", 1, 112.0, child=2, exitcode=0)], "had not ended"),
])
def test_records_that_contradict_the_facts_are_tampering(events: list[dict], reason: str) -> None:
    with pytest.raises(Tampered, match=reason):
        check_against_facts(events, FACTS, helpers={99})


@pytest.mark.parametrize("values", [[10, 20], [10, 20, 30], [10, 20, 30, 40], [5, 7, 5, 9], [3, 7, 9, 7, 3]])
def test_a_release_order_never_gives_the_input_values_in_order_nor_reversed(values: list[int]) -> None:
    import random

    keys = list(range(len(values)))
    for seed in range(300):
        order = list(release_order(keys, random.Random(seed), values=values))
        arriving = [values[key] for key in order]
        assert sorted(order) == keys
        assert order.index(1) < order.index(0)  # a pool's first pair comes back swapped
        assert arriving[0] != values[0]
        if len(values) >= 3:
            assert arriving != values and arriving[::-1] != values


def _call(pid: int, t0: float, t: float, main_thread: bool = True, func: str = "work") -> dict:
    return {"ev": "call", "pid": pid, "t0": t0, "t": t, "func": func, "main_thread": main_thread}


def test_max_concurrent_counts_the_processes_running_a_function_at_once() -> None:
    assert Trace([]).max_concurrent("work") == 0
    assert Trace([_call(1, 0.0, 1.0), _call(1, 1.0, 2.0)]).max_concurrent("work") == 1  # one after the other
    trace = Trace([_call(2, 0.0, 1.0), _call(3, 0.5, 1.5),
                   _call(3, 0.6, 0.9, main_thread=False),  # a second thread of process 3: still one process
                   _call(4, 1.5, 2.0),                     # starts as 3 ends: no overlap
                   _call(5, 0.7, 0.7),                     # no duration: overlaps nothing
                   _call(6, 0.1, 1.9, func="other")])      # another function
    assert trace.max_concurrent("work") == 2 and trace.max_concurrent("other") == 1
    assert Trace([_call(pid, pid / 10, 1.0) for pid in range(1, 5)]).max_concurrent("work") == 4
