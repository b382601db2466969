"""The student's commands, run as a student runs them: ``grade list``, ``next``, ``show``,
``hint``, ``reset``, ``solution`` on a copy of the course that is a git clone, with
``exercises/`` edited. Every bad input gets one line and a non-zero exit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_LANGUAGE
from grader.progress import STATE_FILE, STATE_FOLDER

COURSE_FILES = ("exercises.yaml", "exercises", "solutions", "grader", "docs/exercises.md", "pyproject.toml")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def make_course(folder: Path, git: bool = True) -> Path:
    """A copy of the course as a student clones it: starters as shipped, committed."""
    from grader.starters import materialise_starters

    for name in COURSE_FILES:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    materialise_starters(ROOT, folder / "exercises")
    if git:
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course"]):
            subprocess.run(["git", *command], cwd=folder, check=True, capture_output=True)
    return folder


@pytest.fixture
def course(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return make_course(tmp_path / "course")


def grade(course: Path, *args: str, stdin: str | None = None, timeout: float = 120.0,
          **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=course, capture_output=True, text=True,
                          timeout=timeout, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          env={**os.environ, **TEST_LANGUAGE, **env})


def total(course: Path) -> int:
    """How many exercises the course has: the curriculum's ten, and any a teacher added."""
    from grader.manifest import load_course

    return len(load_course(course).exercises)


def solve(course: Path, module: str) -> None:
    shutil.copyfile(course / "solutions" / f"{module}.py", course / "exercises" / f"{module}.py")


def test_list_on_a_fresh_clone(course: Path) -> None:
    listed = grade(course, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("→ · exercise-1   process") and lines[0].endswith("not tried")
    assert sum("not tried" in line for line in lines) == total(course)
    assert lines[-1] == f"0/{total(course)} passed.  Next: grade process  (exercise-1)"
    assert "\x1b[" not in listed.stdout  # piped: no escape codes


def test_progress_follows_gradings_and_edits(course: Path) -> None:
    solve(course, "ex01_process")
    graded = grade(course, "1", "--start-method", "fork")  # one start method: not yet a pass
    assert graded.returncode == 0 and "passed under some of its start methods only" in graded.stderr
    assert "not tried" in grade(course, "list").stdout.splitlines()[0]
    assert grade(course, "1").returncode == 0
    listed = grade(course, "list").stdout.splitlines()
    assert listed[0].startswith("  ✓ exercise-1") and listed[0].endswith("passed")
    assert listed[1].startswith("→ · exercise-2")
    assert listed[-1].startswith(f"1/{total(course)} passed.")
    with open(course / "exercises" / "ex01_process.py", "a") as file:
        file.write("\n# an edit after passing\n")
    listed = grade(course, "list").stdout.splitlines()
    assert listed[0].startswith("→ ~ exercise-1") and listed[0].endswith("changed since graded (last: PASSED)")
    state = json.loads((course / STATE_FOLDER / STATE_FILE).read_text())
    assert state["exercises"]["exercise-1"]["status"] == "passed"


def test_the_progress_is_kept_out_of_git(course: Path) -> None:
    grade(course, "hint", "1")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=course, capture_output=True, text=True)
    assert status.stdout == ""


def test_a_solution_or_another_submission_is_not_the_students_progress(course: Path) -> None:
    graded = grade(course, "1", "--solution", "--start-method", "fork")
    assert graded.returncode == 0
    assert "not tried" in grade(course, "list").stdout.splitlines()[0]


def test_next_grades_the_first_exercise_not_passed(course: Path) -> None:
    solve(course, "ex01_process")
    assert grade(course, "1").returncode == 0
    graded = grade(course, "next", "--start-method", "fork", "--format", "json")
    assert graded.returncode == 1
    assert [e["id"] for e in json.loads(graded.stdout)["exercises"]] == ["exercise-2"]


def test_next_when_everything_has_passed(course: Path) -> None:
    for module in sorted(path.stem for path in (course / "solutions").glob("ex*.py")):
        solve(course, module)
    graded = grade(course, "-j", "2", timeout=300)
    assert graded.returncode == 0, graded.stdout[-3000:]
    done = grade(course, "next")
    assert done.returncode == 0 and done.stdout.strip() == f"All {total(course)} exercises passed. Well done!"
    assert grade(course, "list").stdout.splitlines()[-1] == f"{total(course)}/{total(course)} passed."


@pytest.mark.parametrize("content", ["{not json", '{"format_version": 99, "exercises": {}}',
                                     '{"format_version": 1, "exercises": {"exercise-1": {"status": 7}}}'])
def test_a_corrupt_progress_file_is_set_aside_in_one_line(course: Path, content: str) -> None:
    (course / STATE_FOLDER).mkdir()
    (course / STATE_FOLDER / STATE_FILE).write_text(content)
    listed = grade(course, "hint", "3")
    assert listed.returncode == 0
    assert len(listed.stderr.splitlines()) == 1 and "progress starts afresh" in listed.stderr
    assert [path.name for path in (course / STATE_FOLDER).glob(f"{STATE_FILE}.corrupt-*")]
    assert json.loads((course / STATE_FOLDER / STATE_FILE).read_text())["exercises"]["exercise-3"]["hints_shown"] == 1


def test_an_unwritable_progress_file_is_ignored_in_one_line(course: Path) -> None:
    (course / STATE_FOLDER / STATE_FILE).mkdir(parents=True)  # unwritable, even by root
    hinted = grade(course, "hint", "3")
    assert hinted.returncode == 0 and "hint 1 of 3" in hinted.stdout
    assert [line.split(" (")[0] for line in hinted.stderr.splitlines()] == [
        "grade: note: progress ignored", "grade: note: progress not saved"]


def test_hints_come_one_at_a_time_then_all_together(course: Path) -> None:
    shown = [grade(course, "hint", "queue").stdout for _ in range(4)]
    assert shown[0].startswith("exercise-3, hint 1 of 3:\n  join() waits")
    assert "(grade hint 3 again for the next one)" in shown[0]
    assert shown[1].startswith("exercise-3, hint 2 of 3:") and shown[2].startswith("exercise-3, hint 3 of 3:")
    assert "again for the next one" not in shown[2]
    assert shown[3].startswith("exercise-3: all 3 hints shown")
    assert [line[:4] for line in shown[3].splitlines()[1:]] == ["  1.", "  2.", "  3."]


@pytest.mark.parametrize(("language", "said"), [("en", "start one Process per element"),
                                                ("zh", "为 ``ns`` 的每个元素启动一个进程")])
def test_show_gives_the_instructions_and_the_contract(course: Path, language: str, said: str) -> None:
    # the student's file no longer has the instructions: they come from the shipped starter
    (course / "exercises" / "ex03_queue.py").write_text("def collect(ns):\n    return []\n")
    shown = grade(course, "show", "3", "--lang", language)
    assert shown.returncode == 0
    assert shown.stdout.startswith("# exercise-3 · queue · ")
    assert said in shown.stdout
    assert "test_results_in_order_of_ns" in shown.stdout  # the contract: docs/exercises.md
    other = "为 ``ns``" if language == "en" else "start one Process per element"
    assert other not in shown.stdout


def test_show_in_chinese_says_the_contract_is_in_english_only(course: Path) -> None:
    """docs/exercises.md is English but for each section's one-line summary: a Chinese
    reader is told so in one line, and gets the whole contract."""
    chinese = grade(course, "show", "3", "--lang", "zh").stdout
    contract = chinese[chinese.index("## 约定 (docs/exercises.md)"):].splitlines()
    assert contract[2] == "> 以下约定目前只有英文版。"
    assert contract[4].startswith("*为每个输入启动一个进程")  # the summary, in Chinese
    english = grade(course, "show", "3").stdout
    assert "只有英文版" not in english and "English only" not in english
    english_contract = english[english.index("## Contract (docs/exercises.md)"):].splitlines()[2:-2]
    assert english_contract and all(line in contract for line in english_contract)  # nothing cut


def test_reset_backs_up_the_file_then_restores_the_starter(course: Path) -> None:
    exercise = course / "exercises" / "ex03_queue.py"
    starter = exercise.read_bytes()
    exercise.write_text("# my attempt\n")
    refused = grade(course, "reset", "3")  # no terminal to ask on, no --yes: nothing changes
    assert refused.returncode == 1 and "no terminal to ask on" in refused.stderr and "--yes" in refused.stderr
    assert exercise.read_text() == "# my attempt\n"
    done = grade(course, "reset", "3", "--yes")
    assert done.returncode == 0, done.stderr
    assert exercise.read_bytes() == starter
    (backup,) = (course / STATE_FOLDER / "backups").glob("ex03_queue-*.py")
    assert backup.read_text() == "# my attempt\n"
    assert f"Your file is saved as .grade/backups/{backup.name}" in done.stdout
    again = grade(course, "reset", "3", "--yes")
    assert again.returncode == 0 and "already the starter" in again.stdout
    exercise.write_text("# a second attempt\n")
    assert grade(course, "reset", "3", "--yes").returncode == 0
    assert len(list((course / STATE_FOLDER / "backups").glob("ex03_queue-*.py"))) == 2  # none overwritten


def test_a_pass_once_earned_stays_earned_after_a_reset(course: Path) -> None:
    solution = (course / "solutions" / "ex01_process.py").read_text()
    solve(course, "ex01_process")
    assert grade(course, "1").returncode == 0
    assert grade(course, "reset", "1", "--yes").returncode == 0
    listed = grade(course, "list").stdout.splitlines()
    assert listed[0].startswith("→ · exercise-1") and listed[0].endswith("reset to the starter · passed before")
    assert "State: reset to the starter · passed before" in grade(course, "show", "1").stdout
    assert "已重置为初始代码 · 曾经通过" in grade(course, "list", "--lang", "zh").stdout.splitlines()[0]
    unlocked = grade(course, "solution", "1")
    assert unlocked.returncode == 0 and unlocked.stdout == solution
    solve(course, "ex01_process")  # the file that passed, copied back
    listed = grade(course, "list").stdout.splitlines()
    assert listed[0].startswith("  ✓ exercise-1") and listed[0].endswith("passed")
    (course / "exercises" / "ex01_process.py").write_text("def run_in_child(value):\n    return None\n")
    assert grade(course, "1", "--start-method", "fork").returncode == 1  # a failed grading since
    assert grade(course, "list").stdout.splitlines()[0].endswith("failed · passed before")
    assert grade(course, "solution", "1").returncode == 0
    assert grade(course, "reset", "2", "--yes").returncode == 0  # never graded: nothing to remember
    assert grade(course, "list").stdout.splitlines()[1].endswith("not tried")
    assert grade(course, "solution", "2").returncode == 1


def test_a_progress_file_written_before_passes_were_kept_still_reads(course: Path) -> None:
    """The state file as the grader wrote it before ``ever_passed`` and ``reset_digest``:
    a last status "passed" is a pass earned; a reset then (status '') was "not tried"."""
    from grader.progress import file_digest

    solve(course, "ex01_process")
    (course / STATE_FOLDER).mkdir()
    (course / STATE_FOLDER / STATE_FILE).write_text(json.dumps({"format_version": 1, "exercises": {
        "exercise-1": {"status": "passed", "digest": file_digest(course / "exercises" / "ex01_process.py"),
                       "graded_at": 1.0, "hints_shown": 1},
        "exercise-3": {"status": "", "digest": "", "graded_at": 0.0, "hints_shown": 2}}}))
    listed = grade(course, "list")
    assert listed.returncode == 0 and listed.stderr == ""
    assert listed.stdout.splitlines()[0].endswith("passed") and listed.stdout.splitlines()[2].endswith("not tried")
    assert grade(course, "reset", "1", "--yes").returncode == 0
    assert grade(course, "list").stdout.splitlines()[0].endswith("reset to the starter · passed before")
    assert grade(course, "solution", "1").returncode == 0
    assert grade(course, "hint", "3").stdout.startswith("exercise-3, hint 3 of 3:")  # the hints shown stay shown


def test_reset_restores_a_deleted_file(course: Path) -> None:
    (course / "exercises" / "ex05_pool_map.py").unlink()
    missing = grade(course, "5", "--start-method", "fork")
    assert missing.returncode == 1 and "exercises/ex05_pool_map.py" in missing.stdout
    restored = grade(course, "reset", "pool-map")
    assert restored.returncode == 0 and (course / "exercises" / "ex05_pool_map.py").is_file()


def test_reset_outside_git_says_why_in_one_line(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course", git=False)
    (course / "exercises" / "ex03_queue.py").write_text("# mine\n")
    refused = grade(course, "reset", "3", "--yes")
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "not a git checkout" in refused.stderr
    assert (course / "exercises" / "ex03_queue.py").read_text() == "# mine\n"


def test_the_solution_is_shown_only_after_passing(course: Path) -> None:
    locked = grade(course, "solution", "1")
    assert locked.returncode == 1 and locked.stdout == ""
    assert "once you have passed it (its state: not tried)" in locked.stderr
    solve(course, "ex01_process")
    assert grade(course, "1").returncode == 0
    shown = grade(course, "solution", "1")
    assert shown.returncode == 0 and shown.stdout == (course / "solutions" / "ex01_process.py").read_text()


def test_a_copy_without_solutions_says_so(course: Path) -> None:
    (course / "solutions" / "ex01_process.py").rename(course / "ex01_process.py.kept")
    refused = grade(course, "solution", "1")
    assert refused.returncode != 0 and len(refused.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["hint", "99"], ["show", "nothing"], ["reset", "exercise-99", "--yes"],
                                  ["solution", "0"], ["hint"]])
def test_bad_arguments_get_one_line_and_status_2(course: Path, args: list[str]) -> None:
    refused = grade(course, *args)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith(f"grade {args[0]}: error: ")


def test_outside_a_course_every_command_says_so(tmp_path: Path) -> None:
    for command in ("list", "next", "hint"):
        refused = subprocess.run([sys.executable, "-m", "grader", command, *(["1"] if command == "hint" else [])],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "no exercises.yaml here or above" in refused.stderr


def test_a_slug_named_like_a_command_is_refused(course: Path) -> None:
    manifest = course / "exercises.yaml"
    manifest.write_text(manifest.read_text().replace("slug: queue", "slug: list"))
    refused = grade(course, "3")
    assert refused.returncode == 2
    assert "'list' is the name of a grade command" in refused.stderr and ", line " in refused.stderr


def test_another_system_is_told_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from grader.__main__ import main

    monkeypatch.setattr(sys, "platform", "darwin")
    assert main(["list"]) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "grade needs Linux" in message and ".devcontainer" in message


def test_a_reader_that_goes_away_gets_no_traceback(course: Path) -> None:
    piped = subprocess.run(f"{sys.executable} -m grader --version | head -c 1; "
                           f"{sys.executable} -m grader show 3 | head -c 1", shell=True, cwd=course,
                           capture_output=True, text=True, timeout=60)
    assert "Traceback" not in piped.stderr and piped.stderr == ""


def test_without_an_exercises_folder_each_exercise_is_named_missing(course: Path) -> None:
    shutil.rmtree(course / "exercises")
    listed = grade(course, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[-1] == f"0/{total(course)} passed.  Next: grade process  (exercise-1)"
    graded = grade(course, "3", "--format", "json")
    assert graded.returncode == 1
    (exercise,) = json.loads(graded.stdout)["exercises"]
    assert exercise["status"] == "error" and "exercises/ex03_queue.py" in exercise["message"]
    assert grade(course, "reset", "3").returncode == 0  # nothing to lose: no question asked
    assert (course / "exercises" / "ex03_queue.py").is_file()
