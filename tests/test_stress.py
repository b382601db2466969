"""``grade N --stress RUNS``: each check's verdicts over many runs, and the seeds of the
failing ones."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, grade
from grader import stress as stress_module
from grader.results import CheckResult, ExerciseResult, Report, Status
from grader.runner import Options


def test_a_check_that_fails_sometimes_is_shown_with_its_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = iter([Status.PASSED, Status.FAILED, Status.PASSED, Status.FAILED])

    def fake_run(options: Options, observer=None) -> Report:
        checks = [CheckResult("test_total", "fork", next(runs)), CheckResult("test_started", "fork", Status.PASSED)]
        return Report([ExerciseResult("exercise-8", "lock", "Lock", 1, checks)], seed=options.seed)

    monkeypatch.setattr(stress_module, "run", fake_run)
    result = stress_module.stress(Options(course_root=ROOT, seed=7), 4)
    assert not result.all_passed
    total, started = result.tallies
    assert (total.passed, total.runs, total.flaky) == (2, 4, True)
    assert total.failing_seeds == [result.reports[1].seed, result.reports[3].seed]
    assert (started.passed, started.flaky, started.failing_seeds) == (4, False, [])
    lines = [line.text for line in stress_module.render(result, "en")]
    assert "test_total [fork]    passed 2/4  ← sometimes fails" in lines[2]
    assert str(total.failing_seeds[0]) in lines[2]
    assert lines[-1].startswith("A check that fails only sometimes depends on timing")
    again = stress_module.stress(Options(course_root=ROOT, seed=7), 0)
    assert again.runs == 0 and not again.all_passed  # nothing graded is not a pass
    runs = iter([Status.PASSED] * 4)
    assert [r.seed for r in stress_module.stress(Options(course_root=ROOT, seed=7), 4).reports] == \
        [r.seed for r in result.reports]  # --seed gives the same runs


def test_stress_on_the_lock_starter_and_solution(pristine_starters) -> None:
    starter = grade("8", "--submission", str(pristine_starters), "--stress", "3", "--start-method", "fork",
                    "--format", "json")
    assert starter.returncode == 1, starter.stderr
    document = json.loads(starter.stdout)
    assert document["schema"] == "grade-stress/1" and document["runs"] == 3 and len(set(document["seeds"])) == 3
    totals = next(c for c in document["checks"] if c["name"] == "test_exact_total_every_run")
    assert totals["verdicts"] == {"failed": 3} and totals["failing_seeds"] == document["seeds"]
    solution = grade("8", "--solution", "--stress", "2", "--start-method", "spawn")
    assert solution.returncode == 0, solution.stdout
    assert "test_exact_total_every_run [spawn]" in solution.stdout and "passed 2/2" in solution.stdout


@pytest.mark.parametrize("runs", ["0", "1001", "x"])
def test_a_bad_number_of_runs_is_a_usage_error(runs: str) -> None:
    refused = grade("8", "--stress", runs)
    assert refused.returncode == 2 and "--stress" in refused.stderr
