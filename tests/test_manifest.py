"""The manifest loader: typed defaults, and one clear message for every kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CURRICULUM, ROOT
from grader.manifest import DEFAULTS, START_METHODS, ManifestError, load_course

ENTRY = """\
  - id: exercise-1
    slug: process
    title: {en: Process, zh: 进程}
    module: ex01_process
    topic: Process
    checks: grader/checks/check_ex01_process.py
    hints: {en: [one, two], zh: [一, 二]}
"""
HINTS_V1 = "    hints: {en: [one, two], zh: [一, 二]}"
HINTS_V2 = """\
    hints:
      - en: one
        zh: 一
        causes: [ex01.process_in_caller]
      - en: two
        zh: 二
        causes: [ex01.exit_code, diff.order]"""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    for folder in ("exercises", "solutions"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / folder / "ex01_process.py", tmp_path / folder)
    (tmp_path / "grader" / "checks").mkdir(parents=True)
    shutil.copy(ROOT / "grader" / "checks" / "check_ex01_process.py", tmp_path / "grader" / "checks")
    return tmp_path


def write(course: Path, text: str) -> None:
    (course / "exercises.yaml").write_text(text, encoding="utf-8")


def error_of(course: Path, text: str) -> str:
    write(course, text)
    with pytest.raises(ManifestError) as raised:
        load_course(course)
    return str(raised.value)


def test_the_course_manifest_loads() -> None:
    course = load_course(ROOT)
    # the curriculum first, in order; a teacher's own exercises may follow
    assert [(ex.id, ex.slug, ex.module) for ex in course.exercises][:len(CURRICULUM)] == list(CURRICULUM)
    assert all(len(ex.hints) >= 2 and ex.hints[0].zh for ex in course.exercises)
    assert course.select("queue") is course.select("3") is course.select("exercise-3")


def test_defaults_apply(course: Path) -> None:
    write(course, "format_version: 1\nexercises:\n" + ENTRY)
    (exercise,) = load_course(course).exercises
    assert exercise.timeout == DEFAULTS["timeout"] and exercise.points == DEFAULTS["points"]
    assert exercise.start_methods == START_METHODS


def test_course_defaults_and_overrides(course: Path) -> None:
    write(course, "format_version: 1\ndefaults: {timeout: 3, points: 5}\nexercises:\n"
          + ENTRY + "    start_methods: [spawn]\n    points: 2\n")
    (exercise,) = load_course(course).exercises
    assert (exercise.timeout, exercise.points, exercise.start_methods) == (3.0, 2, ("spawn",))


def test_hints_with_causes(course: Path) -> None:
    """Version 2: each hint names the failures it explains; the report's hint is the first
    one tied to the first cause that has one, and there is none for other failures."""
    write(course, "format_version: 2\nexercises:\n" + ENTRY.replace(HINTS_V1, HINTS_V2))
    (exercise,) = load_course(course).exercises
    assert exercise.hints_in("en") == ["one", "two"] and exercise.hints_in("zh") == ["一", "二"]
    assert [hint.causes for hint in exercise.hints] == [("ex01.process_in_caller",), ("ex01.exit_code", "diff.order")]
    assert exercise.hints_for("diff.order", "zh") == ["二"]
    assert exercise.hint_for(["value.wrong", "ex01.exit_code"], "en") == "two"
    assert exercise.hint_for(["ex01.returned_early", "call.raised"], "en") == ""
    assert exercise.hint_for([], "en") == ""


def test_hints_of_version_1_have_no_causes(course: Path) -> None:
    """A version 1 manifest still loads, in either version: its hints explain no failure
    (``grade hint`` shows them; the report shows none)."""
    for version in (1, 2):
        write(course, f"format_version: {version}\nexercises:\n" + ENTRY)
        (exercise,) = load_course(course).exercises
        assert exercise.hints_in("en") == ["one", "two"]
        assert all(hint.causes == () for hint in exercise.hints)
        assert exercise.hint_for(["ex01.process_in_caller"], "en") == ""


def test_the_course_ties_every_exercise_hint_to_a_cause() -> None:
    course = load_course(ROOT)
    for exercise in course.exercises:
        assert any(hint.causes for hint in exercise.hints), exercise.id


@pytest.mark.parametrize(("text", "fragments"), [
    ("format_version: 1\nexercises: [\n", ["line 3", "invalid YAML"]),
    ("exercises:\n" + ENTRY, ["missing 'format_version'"]),
    ("format_version: 3\nexercises:\n" + ENTRY, ["format_version 3 is not supported", "reads 1 and 2"]),
    ("format_version: 1\nexercises:\n" + ENTRY.replace("    topic: Process\n", ""),
     ["line 3", "exercise exercise-1", "field 'topic'", "missing required field"]),
    ("format_version: 1\nexercises:\n" + ENTRY + "    colour: red\n",
     ["line 10", "exercise exercise-1", "unknown field 'colour'"]),
    ("format_version: 1\nexercises:\n" + ENTRY.replace("check_ex01_process.py", "nope.py"),
     ["line 8", "field 'checks'", "file not found"]),
    ("format_version: 1\nexercises:\n" + ENTRY + "    start_methods: [thread]\n",
     ["line 10", "unknown start method 'thread'"]),
    ("format_version: 1\nexercises:\n" + ENTRY + "    timeout: -1\n", ["field 'timeout'", "between 0 and 600"]),
    ("format_version: 1\nexercises:\n" + ENTRY.replace("[one, two]", "[one]"),
     ["field 'hints'", "at least two hints"]),
    ("format_version: 1\nexercises:\n" + ENTRY + ENTRY.replace("exercise-1", "exercise-2"),
     ["exercise exercise-2", "field 'slug'", "already used by exercise-1"]),
    ("format_version: 1\nexercises:\n" + ENTRY + ENTRY,
     ["line 10", "field 'id'", "expected 'exercise-2'"]),
    ("format_version: 1\nexercises:\n" + ENTRY.replace("{en: Process, zh: 进程}", "{en: Process}"),
     ["field 'title'", "missing the 'zh' text"]),
    # hints with causes (format_version 2)
    ("format_version: 1\nexercises:\n" + ENTRY.replace(HINTS_V1, HINTS_V2),
     ["line 10", "field 'hints'", "needs format_version 2"]),
    ("format_version: 2\nexercises:\n" + ENTRY.replace(HINTS_V1, HINTS_V2.replace("ex01.exit_code", "ex01.exitcode")),
     ["line 15", "field 'hints #2'", "unknown cause 'ex01.exitcode'", "grader/i18n/en.yaml"]),
    ("format_version: 2\nexercises:\n" + ENTRY.replace(HINTS_V1, HINTS_V2.replace("causes: [ex01", "cause: [ex01")),
     ["line 12", "field 'hints #1'", "unknown field 'cause'"]),
    ("format_version: 2\nexercises:\n" + ENTRY.replace(HINTS_V1, HINTS_V2.replace("        zh: 二\n", "")),
     ["field 'hints #2'", "missing the 'zh' text"]),
    ("format_version: 2\nexercises:\n" + ENTRY.replace(HINTS_V1, "    hints: {en: [one, two], zh: [一, 二], causes: [x]}"),
     ["field 'hints'", "have no causes"]),
])
def test_broken_manifests_are_named_precisely(course: Path, text: str, fragments: list[str]) -> None:
    message = error_of(course, text)
    assert message.startswith(str(course / "exercises.yaml"))
    for fragment in fragments:
        assert fragment in message, message


def test_a_missing_solution_is_named(course: Path) -> None:
    (course / "solutions" / "ex01_process.py").unlink()
    message = error_of(course, "format_version: 1\nexercises:\n" + ENTRY)
    assert "file not found: solutions/ex01_process.py" in message


def test_a_missing_exercise_file_is_the_students_not_the_manifests(course: Path) -> None:
    """A student who deleted an exercise's file can still list, grade (it is named as
    missing) and reset it: the manifest does not depend on the student's files."""
    (course / "exercises" / "ex01_process.py").unlink()
    (course / "exercises.yaml").write_text("format_version: 1\nexercises:\n" + ENTRY, encoding="utf-8")
    assert load_course(course).exercises[0].module == "ex01_process"
