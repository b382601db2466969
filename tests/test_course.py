"""The course is sound: every reference solution passes under every start method, every
starter fails, and for the reason its exercise teaches.

The starters are graded as shipped (the ``pristine_starters`` fixture), never from
``exercises/``, which the student edits: solving the exercises must not fail these tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CURRICULUM_IDS, ROOT, grade_json
from grader.starters import StarterError, materialise_starters, starters_ref, teacher_commit, teacher_ref

# What each starter's feedback must say (a fragment of the failing check's message).
STARTER_REASONS = {
    "exercise-1": ("test_process_runs_target_in_a_child", "the target ran in the caller's own process"),
    "exercise-2": ("test_import_starts_nothing", "importing your module starts processes"),
    "exercise-3": ("test_all_started_before_first_join", "they ran one at a time"),
    "exercise-4": ("test_multicore_runs_in_overlapping_processes", "0 child process(es) ran work()"),
    "exercise-5": ("test_pool_closed_and_joined", "the pool was left running"),
    "exercise-6": ("test_many_submits_all_before_first_get", "so the tasks ran one at a time"),
    "exercise-7": ("test_value_holds_floats", "use 'd' (double) for floats"),
    "exercise-8": ("test_exact_total_every_run", "job() never holds the lock it is given"),
    "exercise-9": ("test_large_payloads", "Read every result with q.get() before joining"),
    "exercise-10": ("test_chunks_counted_in_pool_workers", "1 chunk(s) were counted in the pool"),
}


@pytest.fixture(scope="module")
def solutions() -> dict:
    return grade_json("--solution", "-j", "2", timeout=300)


@pytest.fixture(scope="module")
def starters(pristine_starters: Path) -> dict:
    return grade_json("--submission", str(pristine_starters), "-j", "2", timeout=300)


def test_every_solution_passes_under_every_start_method(solutions: dict) -> None:
    assert solutions["status"] == "passed", [
        (ex["id"], c["name"], c["start_method"], c["message"])
        for ex in solutions["exercises"] for c in ex["checks"] if c["status"] != "passed"]
    assert [ex["id"] for ex in solutions["exercises"]][:len(CURRICULUM_IDS)] == CURRICULUM_IDS
    assert solutions["score"] == solutions["max_score"] >= len(CURRICULUM_IDS)
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


# --- the starters graded are the ones shipped ------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding a course in a subfolder, with one commit of two starters."""
    monkeypatch.delenv("GRADE_STARTERS_REF", raising=False)
    repo = tmp_path / "repo"
    (repo / "course" / "exercises").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "course" / "exercises" / "ex01_process.py").write_text("# starter 1, shipped\n")
    (repo / "course" / "exercises" / "ex02_main_guard.py").write_text("# starter 2, shipped\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "starters")
    return repo / "course"


def student_edits(course: Path) -> None:
    """What a student does: solve one starter, delete another, add a scratch module; and
    what a course author does: add a starter, not committed yet."""
    (course / "exercises" / "ex01_process.py").write_text("# solved by the student\n")
    (course / "exercises" / "ex02_main_guard.py").unlink()
    (course / "exercises" / "ex11_new.py").write_text("# a new starter, not committed yet\n")


@needs_git
def test_starters_are_the_committed_ones_whatever_the_working_tree(course: Path, tmp_path: Path) -> None:
    student_edits(course)
    sources = materialise_starters(course, tmp_path / "out")
    head = git(course, "rev-parse", "HEAD")
    assert (tmp_path / "out" / "ex01_process.py").read_text() == "# starter 1, shipped\n" \
        == git(course, "show", "HEAD:./exercises/ex01_process.py") + "\n"
    assert (tmp_path / "out" / "ex02_main_guard.py").read_text() == "# starter 2, shipped\n"
    assert (tmp_path / "out" / "ex11_new.py").read_text() == "# a new starter, not committed yet\n"
    assert sources == {"ex01_process.py": head, "ex02_main_guard.py": head, "ex11_new.py": "working tree"}


@needs_git
def test_origin_head_wins_over_head_and_grade_starters_ref_over_both(
        course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = git(course, "rev-parse", "HEAD")
    (course / "exercises" / "ex01_process.py").write_text("# starter 1, a local commit\n")
    git(course, "commit", "-q", "-am", "local")
    local = git(course, "rev-parse", "HEAD")
    (course / "exercises" / "ex01_process.py").write_text("# starter 1, the next release\n")
    git(course, "commit", "-q", "-am", "next")
    git(course, "update-ref", "refs/remotes/origin/main", shipped)
    git(course, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    student_edits(course)

    assert starters_ref(course) == shipped
    materialise_starters(course, tmp_path / "origin")
    assert (tmp_path / "origin" / "ex01_process.py").read_text() == "# starter 1, shipped\n"

    monkeypatch.setenv("GRADE_STARTERS_REF", local)
    materialise_starters(course, tmp_path / "explicit")
    assert (tmp_path / "explicit" / "ex01_process.py").read_text() == "# starter 1, a local commit\n"

    monkeypatch.setenv("GRADE_STARTERS_REF", "no-such-ref")
    with pytest.raises(StarterError, match="no-such-ref"):
        materialise_starters(course, tmp_path / "typo")


@needs_git
def test_the_teacher_commands_read_head_unless_told_and_students_origin_head(
        course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """grade check and grade export read the teacher's last commit (HEAD, pushed or not),
    or --ref, or $GRADE_STARTERS_REF; grade reset, grade show and these tests read the
    course as cloned (origin/HEAD first)."""
    shipped = git(course, "rev-parse", "HEAD")
    (course / "exercises" / "ex01_process.py").write_text("# starter 1, not pushed yet\n")
    git(course, "commit", "-q", "-am", "local")
    local = git(course, "rev-parse", "HEAD")
    git(course, "update-ref", "refs/remotes/origin/main", shipped)
    git(course, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    monkeypatch.delenv("GRADE_STARTERS_REF", raising=False)

    assert (teacher_ref(), teacher_commit(course)) == ("HEAD", local)
    assert starters_ref(course) == shipped  # the students' resolution, unchanged
    assert teacher_commit(course, "origin/HEAD") == shipped
    monkeypatch.setenv("GRADE_STARTERS_REF", "origin/main")
    assert (teacher_ref(), teacher_commit(course)) == ("origin/main", shipped)
    assert teacher_commit(course, local) == local  # --ref wins over the variable
    with pytest.raises(StarterError, match="no-such-ref"):
        teacher_commit(course, "no-such-ref")


def test_outside_git_the_working_tree_files_are_the_starters(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    (course / "exercises" / "ex01_process.py").write_text("# starter 1\n")
    if starters_ref(course) is not None:
        pytest.skip(f"{tmp_path} is inside a git work tree")
    assert materialise_starters(course, tmp_path / "out") == {"ex01_process.py": "working tree"}
    assert (tmp_path / "out" / "ex01_process.py").read_text() == "# starter 1\n"


@needs_git
def test_the_fixture_holds_this_repositorys_committed_starters(pristine_starters: Path) -> None:
    ref = starters_ref(ROOT)
    if ref is None:
        pytest.skip("this checkout is not a git repository: the starters are the working-tree files")
    committed = git(ROOT, "ls-tree", "--name-only", ref, "./exercises/").split("\n")
    names = [Path(path).name for path in committed if path.endswith(".py")]
    assert names, "no starter committed"
    for name in names:
        shown = subprocess.run(["git", "show", f"{ref}:./exercises/{name}"], cwd=ROOT,
                               capture_output=True, check=True).stdout
        assert (pristine_starters / name).read_bytes() == shown, name
