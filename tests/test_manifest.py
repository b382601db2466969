"""The manifest loader: typed defaults, and one clear message for every kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT
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
    assert [ex.id for ex in course.exercises] == [f"exercise-{n}" for n in range(1, 11)]
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


@pytest.mark.parametrize(("text", "fragments"), [
    ("format_version: 1\nexercises: [\n", ["line 3", "invalid YAML"]),
    ("exercises:\n" + ENTRY, ["missing 'format_version'"]),
    ("format_version: 2\nexercises:\n" + ENTRY, ["format_version 2 is not supported"]),
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
])
def test_broken_manifests_are_named_precisely(course: Path, text: str, fragments: list[str]) -> None:
    message = error_of(course, text)
    assert message.startswith(str(course / "exercises.yaml"))
    for fragment in fragments:
        assert fragment in message, message


def test_a_missing_starter_is_named(course: Path) -> None:
    (course / "exercises" / "ex01_process.py").unlink()
    message = error_of(course, "format_version: 1\nexercises:\n" + ENTRY)
    assert "file not found: exercises/ex01_process.py" in message
