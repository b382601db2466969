"""What makes a session untrustworthy survives when the scheduler reads several sessions
as one (a rerun after a timeout, a timed plan's two sessions), and grading refuses to
start where it must fail closed and process facts cannot be observed."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from grader.check import CheckFailed, Run
from grader.manifest import load_course
from grader.results import Status
from grader.sandbox import Call, CallOutcome, SessionResult, SessionSpec
from grader.sandbox.isolation import REQUIRE_VARIABLE, Isolation, isolation
from grader.scheduler import _Collected, _merged, _Split

FIRST, SECOND = Call("first", "solve", ([1],)), Call("second", "solve", ([2],))
SPEC = SessionSpec("ex04_speedup", Path("ex04_speedup.py"), "fork", (FIRST, SECOND), 5.0)


def result(spec: SessionSpec, outcomes: dict[str, CallOutcome], **fields: object) -> SessionResult:
    return SessionResult(spec, outcomes, 100, 1.0, **fields)


def broken(spec: SessionSpec, outcomes: dict[str, CallOutcome], tag: str) -> SessionResult:
    """A result with every field away from its default, each naming ``tag``."""
    return result(spec, outcomes, error=f"error {tag}", tampering=[f"forged {tag}"], oom_kills=1,
                  incomplete=[7], unobserved=f"ptrace refused {tag}", disk_full=True, flooded=True,
                  left_at_exit=[{"pid": 8, "cmdline": f"sleep {tag}"}])


def split(held: SessionResult, timed: SessionResult) -> _Split:
    """A timed plan's two sessions, both ended with these results."""
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    parts = tuple(_Collected(part.spec, "en", outcome=part, thread=ended) for part in (held, timed))
    return _Split(SPEC, parts)


def halves() -> tuple[SessionSpec, SessionSpec, dict[str, CallOutcome], dict[str, CallOutcome]]:
    first = dataclasses.replace(SPEC, calls=(FIRST,))
    second = dataclasses.replace(SPEC, calls=(SECOND,))
    return first, second, {"first": CallOutcome(FIRST, "returned")}, {"second": CallOutcome(SECOND, "returned")}


def combinations() -> list[tuple[str, SessionResult]]:
    """The result of a rerun and of a split, each from a clean part and a broken one
    (either way round)."""
    timed_out = {"first": CallOutcome(FIRST, "timeout"), "second": CallOutcome(SECOND, "not_run")}
    rerun_spec = dataclasses.replace(SPEC, calls=(SECOND,))
    rerun = {"second": CallOutcome(SECOND, "returned")}
    first, second, held, timed = halves()
    return [
        ("rerun broken", _merged(result(SPEC, timed_out), broken(rerun_spec, rerun, "b"))),
        ("first broken", _merged(broken(SPEC, timed_out, "a"), result(rerun_spec, rerun))),
        ("timed broken", split(result(first, held), broken(second, timed, "b")).result()),
        ("held broken", split(broken(first, held, "a"), result(second, timed)).result()),
    ]


@pytest.mark.parametrize("name, combined", combinations())
def test_one_broken_part_makes_the_whole_broken(name: str, combined: SessionResult) -> None:
    for field in dataclasses.fields(SessionResult):  # a field added later is not dropped silently
        assert getattr(combined, field.name) not in ("", [], 0, None), field.name
    assert combined.unobserved.startswith("ptrace refused")
    assert len(combined.tampering) == 1 and combined.oom_kills == 1 and combined.incomplete == [7]
    assert combined.disk_full and combined.flooded and len(combined.left_at_exit) == 1
    assert combined["second"].status == "returned"


def test_every_part_counts() -> None:
    timed_out = {"first": CallOutcome(FIRST, "timeout"), "second": CallOutcome(SECOND, "not_run")}
    rerun = {"second": CallOutcome(SECOND, "returned")}
    merged = _merged(broken(SPEC, timed_out, "a"), broken(dataclasses.replace(SPEC, calls=(SECOND,)), rerun, "b"))
    first, second, held, timed = halves()
    read = split(broken(first, held, "a"), broken(second, timed, "b")).result()
    for combined in (merged, read):
        assert combined.spec.calls == SPEC.calls and combined.worker_pid == 100 and combined.duration_s == 2.0
        assert combined.error == "error a; error b"
        assert combined.tampering == ["forged a", "forged b"]
        assert combined.oom_kills == 2
        assert combined.incomplete == [7, 7]  # two sessions' pid 7: two processes cut short
        assert combined.unobserved == "ptrace refused a; ptrace refused b"
    same = _merged(result(SPEC, timed_out, unobserved="EPERM"), result(SPEC, rerun, unobserved="EPERM"))
    assert same.unobserved == "EPERM"
    clean = split(result(first, held), result(second, timed)).result()
    assert (clean.error, clean.tampering, clean.oom_kills, clean.incomplete, clean.unobserved) == ("", [], 0, [], "")


@pytest.mark.parametrize("name, combined", combinations())
def test_an_unobserved_part_is_not_graded(monkeypatch: pytest.MonkeyPatch, name: str, combined: SessionResult) -> None:
    """Where ptrace works, a rerun or a split session with a part the tracer could not
    attach to fails every check as the grader's error (tampering, checked first, is
    cleared here to reach it)."""
    exercise = next(ex for ex in load_course(ROOT).exercises if ex.module == SPEC.module)
    run = Run(exercise, "fork", dataclasses.replace(combined, tampering=[]), "en")
    monkeypatch.setattr("grader.check.isolation", lambda: dataclasses.replace(isolation(), ptrace_reason=""))
    with pytest.raises(CheckFailed) as failed:
        run.reject_broken_session()
    assert failed.value.status is Status.ERROR and "could not observe your code's processes" in str(failed.value)


WALLED = Isolation("/usr/bin/bwrap", "", None, 7, "", "auto", "")
REFUSED = "ptrace is refused here: Operation not permitted"


def test_failing_closed_refuses_to_grade_what_it_cannot_observe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    assert WALLED.refusal() == ""
    refusal = dataclasses.replace(WALLED, ptrace_reason=REFUSED).refusal()
    assert refusal.startswith(f"{REQUIRE_VARIABLE} is set, and process facts cannot be observed here ({REFUSED})")
    assert "believed as written is refused" in refusal and "ptrace_scope" in refusal and "\n" not in refusal
    bare = dataclasses.replace(WALLED, bwrap=None, reason="no bwrap", landlock=0, landlock_reason="no Landlock",
                               ptrace_reason=REFUSED).refusal()
    assert bare.startswith(f"{REQUIRE_VARIABLE} is set, and neither bubblewrap (no bwrap) nor Landlock (no Landlock)")
    assert REFUSED in bare and "\n" not in bare
    monkeypatch.delenv(REQUIRE_VARIABLE)
    assert dataclasses.replace(WALLED, ptrace_reason=REFUSED).refusal() == ""
