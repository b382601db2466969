"""The process timeline drawn from a call's trace: one row per process, time across."""

from __future__ import annotations

import json

from grader.sandbox.trace import POOL_WORKER, Trace
from grader.timeline import WIDTH, draw, timeline

T0 = 100.0


def ran(child: int, start: float, end: float) -> list[dict]:
    """A child started by the main process (pid 1) that runs ``job`` from start to end."""
    return [{"ev": "start", "pid": 1, "t": T0 + start, "child": child, "target": "mod.job", "name": "", "daemon": False},
            {"ev": "call", "pid": child, "t": T0 + end, "t0": T0 + start + 0.01, "func": "mod.job", "main_thread": True},
            {"ev": "run_end", "pid": child, "t": T0 + end}]


def work_columns(row: str) -> set[int]:
    return {i for i, cell in enumerate(row.split("|")[1]) if cell == "█"}


def test_processes_run_one_after_the_other_are_seen() -> None:
    events = ran(2, 0.0, 0.3) + ran(3, 0.3, 0.6) + ran(4, 0.6, 0.9)
    events += [{"ev": "join", "pid": 1, "t": T0 + 0.01, "child": 2},
               {"ev": "joined", "pid": 1, "t": T0 + 0.3, "child": 2, "exitcode": 0}]
    line = timeline(Trace(sorted(events, key=lambda e: e["t"]), main_pid=1), T0, T0 + 0.9)
    assert [row.label for row in line.rows] == ["main process", "job() 2", "job() 3", "job() 4"]
    drawn = draw(line.to_json(), "en")
    rows = {text.split("|")[0].strip(): text for text in drawn[1:-1]}
    columns = [work_columns(rows[label]) for label in ("job() 2", "job() 3", "job() 4")]
    assert all(columns) and not columns[0] & columns[2]  # never at the same time
    assert max(columns[0]) < min(columns[2])
    assert "j" in rows["main process"] and "s" in rows["main process"]
    assert all(len(text.split("|")[1]) == WIDTH for text in drawn[1:-1])
    assert "█ runs your function" in drawn[-1]
    document = line.to_json()
    assert document["duration_s"] == 0.9
    main = document["processes"][0]
    assert main["label"] == "main process" and main["starts"] == [0.0, 0.3, 0.6]
    assert {"kind": "join", "t0": 0.01, "t1": 0.3, "detail": "2"} in main["spans"]


def test_overlapping_processes_overlap() -> None:
    events = ran(2, 0.0, 0.5) + ran(3, 0.05, 0.55)
    drawn = draw(timeline(Trace(sorted(events, key=lambda e: e["t"]), main_pid=1), T0, T0 + 0.6).to_json(), "en")
    assert work_columns(drawn[2]) & work_columns(drawn[3])


def test_pool_workers_show_their_tasks() -> None:
    events = [{"ev": "start", "pid": 1, "t": T0, "child": 5, "target": POOL_WORKER, "name": "", "daemon": True},
              {"ev": "start", "pid": 1, "t": T0, "child": 6, "target": POOL_WORKER, "name": "", "daemon": True},
              {"ev": "task", "pid": 5, "t": T0 + 0.5, "t0": T0 + 0.1, "func": "mod.square", "items": 4,
               "results": []}]
    line = timeline(Trace(events, main_pid=1), T0, T0 + 0.6)
    assert [row.label for row in line.rows] == ["main process", "pool worker 5", "pool worker 6"]
    drawn = draw(line.to_json(), "en")
    assert work_columns(drawn[2]) and not work_columns(drawn[3])  # only one worker did the work


def test_no_timeline_without_other_processes() -> None:
    events = [{"ev": "call", "pid": 1, "t": T0 + 0.2, "t0": T0, "func": "mod.job", "main_thread": True}]
    assert timeline(Trace(events, main_pid=1), T0, T0 + 0.2) is None


def test_a_call_that_never_ended_is_drawn_to_its_last_event() -> None:
    events = ran(2, 0.0, 0.3)
    line = timeline(Trace(events, main_pid=1), T0, None)
    assert round(line.duration_s, 6) == 0.3


def test_a_failed_concurrency_check_shows_its_timeline_in_text_and_json() -> None:
    from conftest import ROOT, grade

    submission = ROOT / "tests" / "examples" / "ex03_queue" / "wrong_join_right_after_start" / "ex03_queue.py"
    args = ("--submission", str(submission), "--start-method", "fork", "--seed", "1")
    shown = grade(*args)
    assert shown.stdout.count("What your processes did during collect(") == 1  # once, though two checks fail
    main = next(line for line in shown.stdout.splitlines() if "main process |" in line)
    assert "s" in main.split("|")[1] and "j" in main.split("|")[1] and "job() " in shown.stdout
    document = json.loads(grade(*args, "--format", "json").stdout)
    checks = {check["name"]: check for check in document["exercises"][0]["checks"]}
    failed = checks["test_all_started_before_first_join"]["timeline"]
    assert failed["call"].startswith("collect([") and failed["processes"][0]["label"] == "main process"
    workers = [row for row in failed["processes"][1:] if row["label"].startswith("job() ")]
    assert len(workers) == len(failed["processes"][0]["starts"]) >= 2
    spans = [next(span for span in row["spans"] if span["kind"] == "work") for row in workers]
    assert all(earlier["t1"] <= later["t0"] for earlier, later in zip(spans, spans[1:]))  # one after the other
    assert checks["test_empty_input"]["timeline"] is None


def test_a_call_without_a_recorded_start_begins_at_its_first_event() -> None:
    line = timeline(Trace(ran(2, 0.1, 0.3), main_pid=1), 0.0, None)
    assert round(line.duration_s, 6) == 0.2


def _failed_checks(case: str) -> dict[str, dict]:
    """The checks of a golden example graded under fork alone, by name (JSON report)."""
    from conftest import ROOT, grade_json

    submission = next((ROOT / "tests" / "examples" / case).glob("ex*.py"))
    document = grade_json("--submission", str(submission), "--start-method", "fork", "--seed", "1")
    return {check["name"]: check for check in document["exercises"][0]["checks"]}


def test_the_timeline_is_the_failing_calls_even_when_it_started_no_process() -> None:
    # squares(n, workers) with n < workers raises ValueError before starting any process; the
    # check read squares(n >= 200 * workers, ...) first, which did start processes: its
    # timeline is not the failure's.
    checks = _failed_checks("ex07_shared_memory/wrong_chunk_step_zero")
    values = checks["test_squares_values"]
    assert values["status"] == "failed" and values["message"].startswith("squares(")
    assert "raised ValueError" in values["message"]
    assert values["timeline"] is None
    writers = checks["test_squares_written_by_workers"]  # a failure about the first call: its own timeline
    timeline = writers["timeline"]
    assert writers["status"] == "failed" and timeline["call"].startswith("squares(")
    fills = [row for row in timeline["processes"] if row["label"].startswith("fill() ")]
    assert len(fills) == len(timeline["processes"][0]["starts"]) > 2  # one process too many, all drawn


def test_a_value_check_shows_no_timeline_of_an_earlier_call() -> None:
    # count_words(lines, 2) and count_words(lines[:k], 3) are right and ran a Pool;
    # count_words([], 2) returns None without starting one.
    counts = _failed_checks("ex10_word_count/wrong_empty_returns_none")["test_counts"]
    assert counts["status"] == "failed" and counts["message"].startswith("Expected: count_words([], 2) returns {}")
    assert counts["timeline"] is None
