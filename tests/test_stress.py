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
    assert "test_total [fork]    passed 2/4  ← sometimes fails" in lines[3]
    assert str(total.failing_seeds[0]) in lines[3]
    assert lines[-1].startswith("A check that fails only sometimes depends on timing")
    again = stress_module.stress(Options(course_root=ROOT, seed=7), 0)
    assert again.runs == 0 and not again.all_passed  # nothing graded is not a pass
    runs = iter([Status.PASSED] * 4)
    assert [r.seed for r in stress_module.stress(Options(course_root=ROOT, seed=7), 4).reports] == \
        [r.seed for r in result.reports]  # --seed gives the same runs


def test_the_seed_given_is_the_first_run_and_the_seeds_that_ran_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(options: Options, observer=None) -> Report:
        checks = [CheckResult("test_total", "fork", Status.PASSED)]
        return Report([ExerciseResult("exercise-8", "lock", "Lock", 1, checks)], seed=options.seed)

    monkeypatch.setattr(stress_module, "run", fake_run)
    seeded = stress_module.stress(Options(course_root=ROOT, seed=5), 3)
    first, second, third = seeded.seeds
    assert first == 5 and len({first, second, third}) == 3
    assert [line.text for line in stress_module.render(seeded, "en")][1] == \
        f"Seeds of the runs: 5, {second}, {third} (the first is your --seed, the others are drawn from it)"
    assert stress_module.render(seeded, "zh")[1].text.startswith(
        f"各次运行的种子：5, {second}, {third}（第一个是你给的 --seed")
    many = stress_module.stress(Options(course_root=ROOT, seed=5), 7)
    assert many.seeds[:3] == seeded.seeds  # the same command, more runs: the same first runs
    assert stress_module.render(many, "en")[1].text.startswith(f"Seeds of the runs: 5, {second}, {third}, ")
    assert "…" in stress_module.render(many, "en")[1].text  # 5 shown of 7; --format json has them all
    unseeded = stress_module.stress(Options(course_root=ROOT), 2)
    assert stress_module.render(unseeded, "en")[1].text == \
        f"Seeds of the runs: {unseeded.seeds[0]}, {unseeded.seeds[1]}"


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


def test_a_pool_of_one_worker_per_value_passes_under_stress_as_alone() -> None:
    """A correct pool larger than the CPUs (``Pool(processes or len(values))``, every worker
    an interpreter of its own under spawn) is graded in time run after run, and alone with
    the seed of a stressed run: exercise-5's plan keeps its calls small enough for that."""
    submission = str(ROOT / "tests" / "examples" / "ex05_pool_map" / "correct_pool_len_values" / "ex05_pool_map.py")
    stressed = grade("5", "--submission", submission, "--stress", "3", "--start-method", "spawn", "--format", "json")
    assert stressed.returncode == 0, stressed.stdout
    document = json.loads(stressed.stdout)
    assert {status for check in document["checks"] for status in check["verdicts"]} == {"passed"}
    alone = grade("5", "--submission", submission, "--seed", str(document["seeds"][-1]), "--start-method", "spawn")
    assert alone.returncode == 0, alone.stdout


@pytest.mark.parametrize("runs", ["0", "1001", "x"])
def test_a_bad_number_of_runs_is_a_usage_error(runs: str) -> None:
    refused = grade("8", "--stress", runs)
    assert refused.returncode == 2 and "--stress" in refused.stderr
