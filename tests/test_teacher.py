"""The teacher's commands, run as a teacher runs them, on copies of the course:
``grade new`` scaffolds an exercise that grades at once (its solution passes, its
starter fails) or refuses and writes nothing; ``grade export`` writes a student copy
without solutions, golden examples, hidden checks or teacher-only tools, which grades
on its own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from grader.manifest import load_course
from test_student import grade, make_course

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NEW = ("new", "pool-squares", "--title", "Square numbers in a pool", "--title-zh", "在进程池中求平方")
NUMBER = len(load_course(ROOT).exercises) + 1  # grade new numbers it after the course's last (11 after the ten)
NEW_ID, NEW_MODULE = f"exercise-{NUMBER}", f"ex{NUMBER:02d}_pool_squares"
NEW_FILES = {f"exercises/{NEW_MODULE}.py", f"solutions/{NEW_MODULE}.py", f"grader/checks/check_{NEW_MODULE}.py"}
APPENDED = {"exercises.yaml", "docs/exercises.md", "grader/i18n/en.yaml", "grader/i18n/zh.yaml"}
HIDDEN = "grader/checks/hidden/check_ex07_teacher_only.py"
TEACHER_ONLY = (".ci", "bench", "tests", "README.md", ".gitignore", ".devcontainer")
GUIDE = "docs/writing-an-exercise.md"


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout


def commit(folder: Path) -> None:
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")


def changed(folder: Path) -> set[str]:
    """Files of the work tree that differ from the commit, or are new."""
    return {line[3:] for line in git(folder, "status", "--porcelain", "--untracked-files=all").splitlines()}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


def run_json(course: Path, *args: str) -> dict:
    graded = grade(course, *args, "--format", "json")
    assert graded.returncode in (0, 1), graded.stderr
    return json.loads(graded.stdout)


def test_a_new_exercise_passes_with_its_solution_and_fails_as_a_starter(course: Path) -> None:
    manifest = (course / "exercises.yaml").read_bytes()
    made = grade(course, *NEW)
    assert made.returncode == 0, made.stderr
    assert changed(course) == NEW_FILES | APPENDED
    updated = (course / "exercises.yaml").read_bytes()
    assert updated.startswith(manifest)  # every byte before the entry as it was
    entry = yaml.safe_load(updated)["exercises"][-1]
    assert updated[len(manifest):].decode().startswith(f"  - id: {NEW_ID}\n    slug: pool-squares\n")
    assert (entry["module"], entry["checks"]) == (NEW_MODULE, f"grader/checks/check_{NEW_MODULE}.py")
    assert entry["title"] == {"en": "Square numbers in a pool", "zh": "在进程池中求平方"}
    assert len(entry["hints"]) == 2 and all(hint["en"] and hint["zh"] for hint in entry["hints"])
    catalogues = [yaml.safe_load((course / "grader/i18n" / f"{language}.yaml").read_text())
                  for language in ("en", "zh")]
    assert list(catalogues[0]) == list(catalogues[1]) and f"ex{NUMBER:02d}.not_in_workers" in catalogues[0]

    solution = run_json(course, NEW_ID, "--solution")  # every start method
    assert solution["status"] == "passed", solution
    assert {check["start_method"] for check in solution["exercises"][0]["checks"]} == {"fork", "spawn", "forkserver"}
    starter = run_json(course, "pool-squares", "--start-method", "fork")
    verdicts = {check["name"]: check["status"] for check in starter["exercises"][0]["checks"]}
    assert verdicts == {"test_values": "passed", "test_work_runs_in_pool_workers": "failed"}
    assert "in the caller's process" in starter["exercises"][0]["hint"]

    shown = grade(course, "show", str(NUMBER))
    assert shown.returncode == 0 and "compute(values, processes=2)" in shown.stdout and "Graded" in shown.stdout


@pytest.mark.parametrize("args", [
    ("queue",),                                  # an exercise's slug
    ("exercise-3",),                             # an exercise's id
    ("fresh", "--module", "ex03_queue"),         # an exercise's module
    ("export",),                                 # a command
    ("fresh", "--module", "list"),               # a command, as the module
    ("fresh", "--module", "queue"),              # a module of the standard library
])
def test_new_refuses_a_name_that_is_taken_and_writes_nothing(course: Path, args: tuple[str, ...]) -> None:
    refused = grade(course, "new", *args, "--title", "Fresh")
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1 and refused.stderr.startswith("grade new: error: ")
    assert changed(course) == set()


def test_new_refuses_to_overwrite_a_file(course: Path) -> None:
    (course / f"grader/checks/check_{NEW_MODULE}.py").write_text("# the teacher's draft\n")
    refused = grade(course, *NEW)
    assert refused.returncode == 2 and "exists: refusing to overwrite it" in refused.stderr
    assert changed(course) == {f"grader/checks/check_{NEW_MODULE}.py"}


def test_new_leaves_no_half_written_exercise_when_a_write_fails(course: Path) -> None:
    """The manifest is written last: by then the new files exist and the other files are
    changed; all of it is undone."""
    script = """if True:
        import sys
        from grader import scaffold

        write = scaffold.write_atomically

        def full_disk_at_the_manifest(path, content):
            if path.name == "exercises.yaml":
                raise OSError(28, "No space left on device", str(path))
            write(path, content)

        scaffold.write_atomically = full_disk_at_the_manifest
        sys.exit(scaffold.main(sys.argv[1:]))
    """
    failed = subprocess.run([sys.executable, "-c", script, *NEW[1:]], cwd=course, capture_output=True,
                            text=True, timeout=60)
    assert failed.returncode == 1 and "No space left on device" in failed.stderr, failed.stderr
    assert "nothing was written" in failed.stderr
    assert changed(course) == set()


def teacher_course(folder: Path) -> Path:
    """A course as the teacher has it: with tests, goldens, benchmarks, CI, the guide and a
    hidden check file (besides any the course has), committed; then an attempt of the teacher's
    own in ``exercises/``, not committed."""
    make_course(folder, git=False)
    for name in TEACHER_ONLY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, folder / name)
    (folder / GUIDE).write_text("# Writing an exercise\n\nFor teachers.\n")
    (folder / HIDDEN).parent.mkdir(exist_ok=True)
    (folder / HIDDEN).write_text("def test_secret(run):\n    run.returned('values')\n")
    manifest = (folder / "exercises.yaml").read_text()
    checks = "    checks: grader/checks/check_ex07_shared_memory.py\n"
    assert checks in manifest and "hidden_checks" not in manifest.split(checks)[1].split("- id:")[0]
    (folder / "exercises.yaml").write_text(manifest.replace(checks, f"{checks}    hidden_checks: {HIDDEN}\n"))
    git(folder, "init", "-q")
    commit(folder)
    shutil.copyfile(folder / "solutions/ex01_process.py", folder / "exercises/ex01_process.py")
    return folder


def hidden_checks(manifest: str) -> dict[str, str]:
    """{exercise id: its hidden check file} of a manifest."""
    return {exercise["id"]: exercise["hidden_checks"] for exercise in yaml.safe_load(manifest)["exercises"]
            if "hidden_checks" in exercise}


def test_export_writes_a_student_copy_that_grades_on_its_own(tmp_path: Path) -> None:
    course = teacher_course(tmp_path / "course")
    copy = tmp_path / "copy"
    exported = grade(course, "export", str(copy))
    assert exported.returncode == 0, exported.stderr
    manifest = (course / "exercises.yaml").read_text()
    hidden = hidden_checks(manifest)
    assert hidden["exercise-7"] == HIDDEN
    references = len(list((course / "solutions").glob("*.py")))
    for left_out in (f"solutions/ ({references} files)", "tests/", "bench/", ".ci/", GUIDE, *hidden.values(),
                     f"hidden_checks field of {', '.join(hidden)}"):
        assert left_out in exported.stdout

    shipped = {path.relative_to(copy).as_posix() for path in copy.rglob("*") if ".git" not in path.parts}
    committed = set(git(course, "ls-files").splitlines())
    assert not any(path.startswith(("solutions/", "tests/", "bench/", ".ci/")) for path in shipped)
    assert GUIDE not in shipped
    assert not shipped & set(hidden.values())
    assert {path for path in committed if path.startswith(("exercises/", "grader/checks/check_"))} <= shipped
    assert {"README.md", ".gitignore", ".devcontainer/Dockerfile", "pyproject.toml", "grader/cli.py",
            "docs/exercises.md"} <= shipped
    readme = (copy / "README.md").read_text(encoding="utf-8")  # a student README: no teacher workflow
    for teacher in ("grade new", "grade check", "grade export DEST", "## Adding an exercise", "## Teacher commands",
                    "## Benchmark", "bench/", "tests/", "grader/checks/hidden", "teacher-only"):
        assert teacher not in readme, teacher
    for student in ("## Quick start", "## The exercises", "## A student's afternoon", "## How grading works",
                    "## Timeouts", "## Points, partial credit and hidden checks", "## JSON output", "grade watch",
                    "](#points-partial-credit-and-hidden-checks)"):
        assert student in readme, student
    assert "README.md: " in exported.stdout and "teacher-only region" in exported.stdout
    without = "".join(line for line in manifest.splitlines(keepends=True) if not line.startswith("    hidden_checks: "))
    assert (copy / "exercises.yaml").read_text() == without  # the rest of the file as it was
    # the starter as committed, not the teacher's attempt in the working tree
    assert (copy / "exercises/ex01_process.py").read_text() == git(course, "show", "HEAD:exercises/ex01_process.py")
    solutions = {path.read_bytes().strip() for path in (course / "solutions").glob("*.py")}
    assert not any(path.is_file() and path.read_bytes().strip() in solutions for path in copy.rglob("*"))
    assert len(git(copy, "log", "--oneline").splitlines()) == 1 and git(copy, "status", "--porcelain") == ""

    graded = run_json(copy, "exercise-1", "--start-method", "fork")
    assert graded["status"] == "failed" and graded["exercises"][0]["status"] == "failed"  # the starter, graded
    assert graded["exercises"][0]["checks"]
    solution = grade(copy, "solution", "1")
    assert solution.returncode == 1 and "ships no reference solutions" in solution.stderr
    (copy / "exercises/ex01_process.py").write_text("# my attempt\n")
    reset = grade(copy, "reset", "1", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert (copy / "exercises/ex01_process.py").read_text() == git(copy, "show", "HEAD:exercises/ex01_process.py")


def test_the_student_readme_leaves_out_teacher_only_regions_and_the_links_into_them() -> None:
    from grader.export import student_readme

    readme = ("# Course\n\n- [Start](#start)\n- [Adding an exercise](#adding-an-exercise)\n\n## Start\n\nRun it.\n\n"
              "<!-- teacher-only -->\n\n## Adding an exercise\n\n```sh\n# not a heading\ngrade new\n```\n\n"
              "<!-- /teacher-only -->\n\n## Next\n\nSee [above](#start).\n")
    text, (regions, lines) = student_readme(readme.encode())
    assert text.decode() == ("# Course\n\n- [Start](#start)\n- Adding an exercise\n\n## Start\n\nRun it.\n\n"
                             "## Next\n\nSee [above](#start).\n")
    assert (regions, lines) == (1, 10)
    plain = b"# Course\n\nNo markers: `<!-- teacher-only -->` is not alone on its line.\n"
    assert student_readme(plain) == (plain, (0, 0))  # as it is, byte for byte


@pytest.mark.parametrize(("readme", "line", "says"), [
    ("# Course\n\n<!-- teacher-only -->\n## Adding\n", 3, "is never closed"),
    ("# Course\n<!-- /teacher-only -->\n", 2, "closes no region"),
    ("<!-- teacher-only -->\na\n<!-- teacher-only -->\nb\n<!-- /teacher-only -->\n", 3, "inside the teacher-only region"),
])
def test_export_refuses_teacher_only_markers_that_do_not_pair_up(course: Path, tmp_path: Path, readme: str,
                                                                   line: int, says: str) -> None:
    (course / "README.md").write_text(readme)
    commit(course)
    refused = grade(course, "export", str(tmp_path / "copy"))
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert refused.stderr.startswith(f"grade export: error: README.md, line {line}: ") and says in refused.stderr
    assert not (tmp_path / "copy").exists()


def test_export_refuses_a_destination_that_is_not_empty(course: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine\n")
    refused = grade(course, "export", str(tmp_path / "full"))
    assert refused.returncode == 2 and "exists and is not empty" in refused.stderr
    assert [path.name for path in (tmp_path / "full").iterdir()] == ["notes.txt"]


def test_export_refuses_a_course_that_is_not_committed(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course", git=False)
    refused = grade(course, "export", str(tmp_path / "copy"))
    assert refused.returncode == 2 and "as committed" in refused.stderr
    assert not (tmp_path / "copy").exists()


SOLUTION_5 = "solutions/ex05_pool_map.py"


def quote_the_code(course: Path) -> str:
    """Notes that quote the solution's code (after its docstring) in a Markdown block."""
    solution = (course / SOLUTION_5).read_text()
    code = solution[solution.index('"""', 3) + 3:]
    (course / "docs/notes.md").write_text(f"# Notes\n\n```python\n{code}```\n")
    return "docs/notes.md"


def copy_the_solution(course: Path) -> str:
    shutil.copyfile(course / SOLUTION_5, course / "exercises/ex05_pool_map.py")
    return "exercises/ex05_pool_map.py"


@pytest.mark.parametrize("leak", [copy_the_solution, quote_the_code])
def test_export_stops_at_a_file_that_holds_a_reference_solution(course: Path, tmp_path: Path, leak) -> None:
    leaked = leak(course)
    commit(course)
    (tmp_path / "copy").mkdir()
    failed = grade(course, "export", str(tmp_path / "copy"))
    assert failed.returncode == 1
    assert f"{leaked} holds the reference solution {SOLUTION_5}" in failed.stderr
    assert list((tmp_path / "copy").iterdir()) == []  # left as it was found: empty
