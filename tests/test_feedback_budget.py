"""The feedback budget (:mod:`grader.budget`): a check spends at most
``FEEDBACK_BUDGET_S`` explaining its failure from the session's records; past it, the
failure is the plain message, and the check answers in time whatever the records hold.

The explanations are replaced by ones that spin far past any budget: a check must still
fail, with the message it gives without the explanation, within the budget and a small
margin; the spinning thread must be stopped; and an explanation that fits is unchanged.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, TEST_LANGUAGE
from grader import diagnose
from grader.budget import FEEDBACK_BUDGET_S, FeedbackBudget
from grader.check import CheckFailed, Run
from grader.diagnose import show
from grader.i18n import text
from grader.manifest import load_course
from grader.results import Status
from grader.sandbox import Call, CallOutcome, SessionResult, SessionSpec

MARGIN_S = 1.0  # what a check may take beyond its budget (starting a thread, switching to it)
SPIN_S = 120.0  # how long a spinning explanation would run if nothing stopped it
GRADING_TIMEOUT_S = 60.0  # what a whole grading is given (it would spin SPIN_S without the budget)
SHORT_BUDGET_S = 0.5  # the budget of the tests that do not measure the real figure

VALUES = Call("values", "collect", ([3, 1, 2],))
HANG = [{"pid": 10, "is_worker": True, "cpu_s": 0.0, "state": "S",
         "stack": 'Thread 0x00007f (most recent call first):\n'
                  '  File "/usr/lib/python3.11/multiprocessing/queues.py", line 103 in get\n'
                  '  File "/tmp/grade-x/src/ex03_queue.py", line 10 in collect\n'}]


def make_run(outcome: CallOutcome) -> Run:
    exercise = next(e for e in load_course(ROOT).exercises if e.module == "ex03_queue")
    spec = SessionSpec(exercise.module, ROOT / "solutions" / "ex03_queue.py", "fork", (outcome.call,), 5.0)
    return Run(exercise, "fork", SessionResult(spec, {outcome.call.name: outcome}, 1, 0.1), "en")


def timed_out() -> CallOutcome:
    return CallOutcome(VALUES, "timeout", duration_s=5.0, hang=[dict(process) for process in HANG])


def wrong_value() -> CallOutcome:
    return CallOutcome(VALUES, "returned", value=[3, 2, 1], type_name="list")


def spinning(stopped: list[str], name: str = "explanation"):
    """An explanation (named ``name``) that burns CPU for ``SPIN_S`` (pure Python: the
    GIL is given up every few milliseconds), noting what stopped it."""

    def explanation(*args: object, **kwargs: object) -> str:
        end = time.monotonic() + SPIN_S
        try:
            while time.monotonic() < end:
                pass
        except BaseException as error:
            stopped.append(type(error).__name__)
            raise
        return "spun to the end"

    explanation.__qualname__ = name
    return explanation


def stopped_soon(stopped: list[str]) -> list[str]:
    """``stopped`` once the spinning thread has noted why it stopped (at most 2 s)."""
    end = time.monotonic() + 2.0
    while not stopped and time.monotonic() < end:
        time.sleep(0.01)
    return stopped


def failure(check, *args: object) -> tuple[CheckFailed, float]:
    began = time.monotonic()
    with pytest.raises(CheckFailed) as failed:
        check(*args)
    return failed.value, time.monotonic() - began


# --- a hang explained past the budget -----------------------------------------------------

def test_a_hang_explained_past_the_budget_fails_plainly_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real figure: the check fails after the budget, not after the explanation, with
    the message a timeout has without its explanation; the spinning thread is stopped."""
    stopped: list[str] = []
    monkeypatch.setattr(diagnose, "hang_summary", spinning(stopped, "hang_summary"))
    run = make_run(timed_out())
    error, elapsed = failure(run.returned, "values")
    assert 0.9 * FEEDBACK_BUDGET_S <= elapsed <= FEEDBACK_BUDGET_S + MARGIN_S, elapsed
    assert str(error) == text("call.timeout", "en", call="collect([3, 1, 2])", timeout="5 s")
    assert error.status is Status.TIMEOUT and error.causes == ("call.timeout",)
    assert run.budget.given_up == ["unfinished"]
    assert stopped_soon(stopped) == ["FeedbackOverrun"]  # it does not burn CPU beside the rest of the grading
    # The budget is spent: the check's timeline and line are left out at once.
    began = time.monotonic()
    assert run.timeline() is None and run.failure_line() is None
    assert time.monotonic() - began < 0.2
    assert run.budget.given_up == ["unfinished", "Run._timeline", "Run._failure_line"]


def test_a_hang_explained_within_the_budget_is_unchanged() -> None:
    outcome = timed_out()
    unbudgeted = diagnose.unfinished(outcome, make_run(outcome))
    run = make_run(outcome)
    error, elapsed = failure(run.returned, "values")
    assert str(error) == str(unbudgeted) and error.causes == unbudgeted.causes and error.status is Status.TIMEOUT
    assert text("hang.header", "en") in str(error) and text("wait.queue_get", "en") in str(error)
    assert run.budget.given_up == [] and 0.0 < run.budget.spent < 1.0


# --- a wrong value -----------------------------------------------------------------------

def test_a_wrong_value_past_the_budget_is_shown_without_its_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[str] = []
    monkeypatch.setattr(diagnose, "difference", spinning(stopped, "difference"))
    run = make_run(wrong_value())
    run.budget = FeedbackBudget(SHORT_BUDGET_S)
    error, elapsed = failure(run.expect_value, run.returned("values"), [1, 2, 3])
    assert elapsed <= SHORT_BUDGET_S + MARGIN_S, elapsed
    assert str(error) == text("value.wrong", "en", call="collect([3, 1, 2])", expected="[1, 2, 3]", got="[3, 2, 1]",
                              difference="").rstrip("\n")  # no cause: its line is left out
    assert run.budget.given_up == ["difference"] and stopped_soon(stopped) == ["FeedbackOverrun"]


def test_a_wrong_value_within_the_budget_is_unchanged() -> None:
    run = make_run(wrong_value())
    error, _ = failure(run.expect_value, run.returned("values"), [1, 2, 3])
    assert str(error) == text("value.wrong", "en", call="collect([3, 1, 2])", expected="[1, 2, 3]", got="[3, 2, 1]",
                              difference=text("diff.order", "en"))
    assert run.budget.given_up == []


def test_a_value_shown_past_the_budget_is_named_by_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = wrong_value()
    slow = spinning([], "show")

    def show_slowly(value: object, limit: int = 200) -> str:  # slow only for the value returned
        return slow() if value is outcome.value else show(value, limit)

    monkeypatch.setattr("grader.check.show", show_slowly)
    run = make_run(outcome)
    run.budget = FeedbackBudget(SHORT_BUDGET_S)
    error, elapsed = failure(run.expect_value, run.returned("values"), [1, 2, 3])
    assert elapsed <= SHORT_BUDGET_S + MARGIN_S, elapsed
    assert str(error) == text("value.wrong", "en", call="collect([3, 1, 2])", expected="[1, 2, 3]", got="<list>",
                              difference="").rstrip("\n")  # no cause: its line is left out
    assert run.budget.given_up == ["test_a_value_shown_past_the_budget_is_named_by_its_type.<locals>.show_slowly",
                                   "difference"]  # the difference at once: no time was left


# --- the budget is the check's ------------------------------------------------------------

def test_a_timeline_past_the_budget_is_left_out_and_the_next_check_has_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[str] = []
    monkeypatch.setattr("grader.check.timeline", spinning(stopped, "timeline"))
    run = make_run(wrong_value())
    run.budget = FeedbackBudget(SHORT_BUDGET_S)
    run.read = ["values"]
    began = time.monotonic()
    assert run.timeline() is None
    assert time.monotonic() - began <= SHORT_BUDGET_S + MARGIN_S
    assert stopped_soon(stopped) == ["FeedbackOverrun"]
    run.budget = FeedbackBudget(SHORT_BUDGET_S)  # what the run fixture does when the next check starts
    monkeypatch.undo()
    error, _ = failure(run.expect_value, run.returned("values"), [1, 2, 3])
    assert "[3, 2, 1]" in str(error) and run.budget.given_up == []


def test_the_graders_own_fault_in_an_explanation_is_raised_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> str:
        raise ZeroDivisionError("a bug of the grader")

    monkeypatch.setattr(diagnose, "difference", broken)
    run = make_run(wrong_value())
    with pytest.raises(ZeroDivisionError):
        run.expect_value(run.returned("values"), [1, 2, 3])


def test_an_explanation_inside_an_explanation_runs_in_its_thread() -> None:
    budget = FeedbackBudget(SHORT_BUDGET_S)
    threads = budget.explain(lambda: (threading.current_thread(), budget.explain(threading.current_thread, plain=None)),
                             plain=None)
    assert threads is not None and threads[0] is threads[1] and threads[0] is not threading.current_thread()


# --- a whole grading ----------------------------------------------------------------------

DEADLOCK = '''\
import multiprocessing as mp


def job(q, index, n):
    q.put((index, n))


def collect(ns):
    q = mp.Queue()
    return [q.get() for _ in ns]
'''

SPINNING_GRADER = f'''\
import sys, time
import grader.check, grader.diagnose


def spin(*args, **kwargs):
    end = time.monotonic() + {SPIN_S}
    while time.monotonic() < end:
        pass
    return "spun to the end"


grader.diagnose.hang_summary = grader.check.timeline = spin
from grader.__main__ import main
sys.exit(main(sys.argv[1:]))
'''


def test_a_grading_whose_explanations_never_end_answers_plainly_in_time(tmp_path: Path) -> None:
    """``grade`` itself, its explanation of a hang and its timeline never ending: every
    check the hang fails says so plainly (stopped as a deadlock or at its timeout, and how
    long the reference takes: no word of who waited where), after at most its budget."""
    (tmp_path / "ex03_queue.py").write_text(DEADLOCK, encoding="utf-8")
    began = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", SPINNING_GRADER, "exercise-3", "--submission", str(tmp_path),
                                "--start-method", "fork", "--format", "json"], cwd=ROOT, capture_output=True,
                               text=True, timeout=GRADING_TIMEOUT_S, stdin=subprocess.DEVNULL,
                               env={**os.environ, **TEST_LANGUAGE})
    elapsed = time.monotonic() - began
    assert completed.returncode == 1, completed.stderr
    checks = json.loads(completed.stdout)["exercises"][0]["checks"]
    hung = [check for check in checks if check["status"] == "timeout"]
    assert hung, checks
    for check in hung:
        header, *rest = check["message"].split("\n")
        assert header.startswith("collect(") and ("(a deadlock)" in header or "did not finish within" in header), header
        assert all(line.startswith("On this machine the reference solution takes") for line in rest), rest
        assert check["timeline"] is None and check["line"] is None
    session = min(check["duration_s"] for check in checks)  # the session, and the quickest check
    assert elapsed <= session + len(hung) * (FEEDBACK_BUDGET_S + MARGIN_S) + 20.0, elapsed  # 20 s: pytest, imports


# --- show is bounded by its limit ---------------------------------------------------------

def test_a_forged_object_repr_is_shown_in_the_time_of_its_limit() -> None:
    """A returned value forged as an object whose repr is 32 MB (the outcome's size limit)
    with no ", " to cut at: its text is read up to the limit only."""
    began = time.monotonic()
    shown = show({"__repr__": "x" * 32_000_000})
    assert time.monotonic() - began < 1.0
    assert len(shown) <= 200 and "..." in shown


def _text_unbounded(text_: str, limit: int) -> str:
    """``diagnose._text`` as it was, reading the whole text: the reference for the bound."""
    if len(text_) <= limit:
        return text_
    best, stack, quote, index = None, [], "", 0
    while index < len(text_):
        char = text_[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in diagnose.OPENERS:
            stack.append(diagnose.OPENERS[char])
        elif char in ")]}" and stack and stack[-1] == char:
            stack.pop()
        elif text_.startswith(", ", index):
            cut = text_[:index] + ", " + diagnose.ELLIPSIS + "".join(reversed(stack))
            if len(cut) > limit:
                break
            best = cut
        index += 1
    if best is not None:
        return best
    room = limit - len(diagnose.ELLIPSIS)
    return text_[: room - room // 3] + diagnose.ELLIPSIS + (text_[len(text_) - room // 3:] if room // 3 else "")


def test_reading_a_repr_up_to_the_limit_only_changes_nothing() -> None:
    rng = random.Random(16)
    for _ in range(3000):
        text_ = "".join(rng.choice("ab, ([{}])'\"\\") for _ in range(rng.randint(0, 120)))
        limit = rng.randint(5, 60)
        assert diagnose._text(text_, limit) == _text_unbounded(text_, limit), (text_, limit)
