"""The command line: selection, exit status, usage errors, input that cannot be graded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, grade, grade_json

SOLUTION_3 = ROOT / "solutions" / "ex03_queue.py"


@pytest.mark.parametrize("name", ["exercise-3", "3", "queue"])
def test_an_exercise_is_selected_by_id_number_or_slug(name: str) -> None:
    report = grade_json(name, "--solution", "--start-method", "fork")
    assert [ex["id"] for ex in report["exercises"]] == ["exercise-3"]


def test_unknown_exercise_is_a_usage_error_listing_the_valid_ones() -> None:
    completed = grade("exercise-42")
    assert completed.returncode == 2
    assert "unknown exercise 'exercise-42'" in completed.stderr
    assert "exercise-1 (process)" in completed.stderr and "exercise-10 (word-count)" in completed.stderr
    assert completed.stdout == ""
    assert "did you mean" not in completed.stderr  # exercise-42: as near exercise-4 as exercise-2, no guess


@pytest.mark.parametrize(("args", "said"), [
    (["qeue"], "grade: error: unknown exercise 'qeue': did you mean exercise-3 (queue)? Or choose from: "),
    (["ex08_lok"], "grade: error: unknown exercise 'ex08_lok': did you mean exercise-8 (lock)? Or choose from: "),
    (["show", "wordcount", "--lang", "zh"], "grade show: error: 没有这个练习：'wordcount'。"
                                            "你是不是想输入 exercise-10（word-count）？可选的练习："),
])
def test_an_unknown_exercise_close_to_one_is_named(args: list[str], said: str) -> None:
    completed = grade(*args)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith(said) and completed.stderr.count("\n") == 1
    assert "exercise-1 (process)" in completed.stderr and "exercise-10 (word-count)" in completed.stderr


def test_bad_option_is_a_usage_error() -> None:
    assert grade("--start-method", "thread").returncode == 2
    assert grade("-j", "0").returncode == 2
    assert grade("--submission", "/no/such/file.py").returncode == 2


def test_json_document_follows_the_schema() -> None:
    completed = grade("3", "--solution", "--start-method", "spawn", "--format", "json")
    assert completed.returncode == 0
    report = json.loads(completed.stdout)
    assert set(report) == {"schema", "view", "status", "score", "max_score", "seed", "interrupted", "duration_s",
                           "pull_request", "exercises"}
    assert (report["interrupted"], report["pull_request"]) == (False, None)
    assert report["view"] == "student"
    assert isinstance(report["seed"], int)
    assert report["schema"] == "grade/1" and report["status"] == "passed"
    (exercise,) = report["exercises"]
    assert set(exercise) >= {"id", "slug", "title", "file", "status", "score", "max_score", "duration_s", "checks"}
    assert exercise["file"] == "solutions/ex03_queue.py"
    assert (exercise["partial_credit"], exercise["hidden_checks"], exercise["max_score"]) == (False, None, 1)
    for check in exercise["checks"]:
        assert set(check) == {"name", "start_method", "status", "message", "output", "duration_s", "timeline",
                              "points", "hidden", "line", "causes"}
        assert check["line"] is None  # it passed
        assert check["start_method"] == "spawn" and (check["points"], check["hidden"]) == (None, False)


def test_exit_status_is_1_when_anything_failed(pristine_starters: Path) -> None:
    completed = grade("3", "--start-method", "fork", "--submission", str(pristine_starters))
    assert completed.returncode == 1
    assert "FAILED" in completed.stdout and "Hint:" in completed.stdout


def test_a_submission_file_named_after_a_module_selects_its_exercise(tmp_path: Path) -> None:
    submission = tmp_path / "ex03_queue.py"
    submission.write_text(SOLUTION_3.read_text())
    report = grade_json("--submission", str(submission), "--start-method", "fork")
    assert [ex["id"] for ex in report["exercises"]] == ["exercise-3"]
    assert report["status"] == "passed"


def test_a_submission_folder_holds_modules_by_name(tmp_path: Path) -> None:
    (tmp_path / "ex03_queue.py").write_text(SOLUTION_3.read_text())
    report = grade_json("3", "4", "--submission", str(tmp_path), "--start-method", "fork")
    statuses = {ex["id"]: ex["status"] for ex in report["exercises"]}
    assert statuses == {"exercise-3": "passed", "exercise-4": "error"}
    missing = report["exercises"][1]["message"]
    assert "No file" in missing and "ex04_speedup.py" in missing


def test_a_syntax_error_is_reported_with_its_line_and_nothing_runs(tmp_path: Path) -> None:
    submission = tmp_path / "ex03_queue.py"
    submission.write_text("import multiprocessing\n\ndef collect(ns)\n    return []\n")
    report = grade_json("--submission", str(submission))
    (exercise,) = report["exercises"]
    assert exercise["status"] == "error" and exercise["checks"] == []
    assert "line 3" in exercise["message"] and "SyntaxError" in exercise["message"]


def test_a_missing_function_is_named(tmp_path: Path) -> None:
    submission = tmp_path / "ex03_queue.py"
    submission.write_text("def job(q, index, n):\n    pass\n")
    report = grade_json("--submission", str(submission), "--start-method", "fork")
    messages = {check["message"] for check in report["exercises"][0]["checks"]}
    assert "Your module ex03_queue.py has no function collect()." in messages


def test_feedback_in_chinese(pristine_starters: Path) -> None:
    completed = grade("3", "--start-method", "fork", "--lang", "zh", "--submission", str(pristine_starters))
    assert "未通过" in completed.stdout and "期望" in completed.stdout


def test_a_broken_manifest_is_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "exercises.yaml").write_text("format_version: 1\nexercises: [\n")
    completed = grade("--course", str(tmp_path))
    assert completed.returncode == 2
    assert "exercises.yaml, line" in completed.stderr and "invalid YAML" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_grading_refuses_to_run_without_a_wall_when_told_to_fail_closed() -> None:
    completed = grade("1", "--solution", env={"GRADE_ISOLATION": "process", "GRADE_REQUIRE_ISOLATION": "1"})
    assert completed.returncode == 2
    assert "GRADE_REQUIRE_ISOLATION is set, and neither bubblewrap" in completed.stderr
