"""The course is sound: every reference solution passes under every start method, every
starter fails, and for the reason its exercise teaches."""

from __future__ import annotations

import pytest

from conftest import grade_json

# What each starter's feedback must say (a fragment of the failing check's message).
STARTER_REASONS = {
    "exercise-1": ("test_process_runs_target_in_a_child", "the target ran in the caller's own process"),
    "exercise-2": ("test_import_starts_nothing", "importing your module starts processes"),
    "exercise-3": ("test_all_started_before_first_join", "they ran one at a time"),
    "exercise-4": ("test_multicore_runs_in_overlapping_processes", "0 child process(es) ran work()"),
    "exercise-5": ("test_pool_closed_and_joined", "the pool was left running"),
    "exercise-6": ("test_many_submits_all_before_first_get", "so the tasks ran one at a time"),
    "exercise-7": ("test_value_holds_floats", "use 'd' (double) for floats"),
    "exercise-8": ("test_exact_total_every_run", "update(s) were lost"),
    "exercise-9": ("test_large_payloads", "Read every result with q.get() before joining"),
    "exercise-10": ("test_chunks_counted_in_pool_workers", "1 chunk(s) were counted in the pool"),
}


@pytest.fixture(scope="module")
def solutions() -> dict:
    return grade_json("--solution", "-j", "2", timeout=300)


@pytest.fixture(scope="module")
def starters() -> dict:
    return grade_json("-j", "2", timeout=300)


def test_every_solution_passes_under_every_start_method(solutions: dict) -> None:
    assert solutions["status"] == "passed", [
        (ex["id"], c["name"], c["start_method"], c["message"])
        for ex in solutions["exercises"] for c in ex["checks"] if c["status"] != "passed"]
    assert solutions["score"] == solutions["max_score"] == 10
    for exercise in solutions["exercises"]:
        methods = {check["start_method"] for check in exercise["checks"]}
        assert methods == {"fork", "spawn", "forkserver"}, exercise["id"]


@pytest.mark.parametrize("exercise_id", list(STARTER_REASONS))
def test_every_starter_fails_for_the_reason_it_teaches(starters: dict, exercise_id: str) -> None:
    (exercise,) = [ex for ex in starters["exercises"] if ex["id"] == exercise_id]
    assert exercise["status"] in ("failed", "timeout")
    assert exercise["score"] == 0
    check_name, reason = STARTER_REASONS[exercise_id]
    checks = [c for c in exercise["checks"] if c["name"] == check_name]
    assert checks, f"no check {check_name}"
    for check in checks:
        assert check["status"] in ("failed", "timeout")
        assert reason in check["message"], check["message"]
