"""The student's commands besides grading: ``list``, ``show``, ``hint``, ``reset``, ``solution``.

Each takes the loaded course and the student's progress (:mod:`grader.progress`) and
returns the lines to print, or raises :class:`CommandError` (one line, non-zero exit).
``next`` and ``watch`` grade, so they live with the command line and ``grader.watch``.
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

from grader.i18n import columns, fit, text
from grader.manifest import Course, Exercise
from grader.progress import STATE_FOLDER, Progress, State, write_atomically
from grader.report import Line
from grader.results import Status
from grader.starters import StarterError, shipped_starter
from grader.timeouts import Timeouts, describe

BACKUPS = "backups"
CONTRACT = Path("docs") / "exercises.md"
MARKS = {Progress.PASSED: "✓", Progress.FAILED: "✗", Progress.NOT_TRIED: "·", Progress.CHANGED: "~",
         Progress.RESET: "·"}


class CommandError(Exception):
    """A command that cannot do what was asked: its message is printed on one line."""


def list_exercises(course: Course, state: State, language: str) -> list[Line]:
    """Every exercise with its id, slug, topic, title and state; the next one marked."""
    upcoming = state.next_exercise(course)
    rows = []
    for exercise in course.exercises:
        rows.append((exercise, state.progress(course, exercise), _state_label(course, exercise, state, language)))
    width_slug = max(len(ex.slug) for ex in course.exercises)
    width_topic = max(len(ex.topic) for ex in course.exercises)
    width_title = max(columns(ex.title.get(language)) for ex in course.exercises)
    lines = []
    for exercise, progress, label in rows:
        arrow = "→" if exercise is upcoming else " "
        lines.append(Line(f"{arrow} {MARKS[progress]} {exercise.id:<12} {exercise.slug:<{width_slug}}  "
                          f"{exercise.topic:<{width_topic}}  {fit(exercise.title.get(language), width_title)}  {label}",
                          _STYLES[progress] + (" bold" if exercise is upcoming else "")))
    passed = sum(1 for _, progress, _ in rows if progress is Progress.PASSED)
    lines.append(Line(""))
    summary = text("progress.summary", language, passed=passed, total=len(course.exercises))
    if upcoming is not None:
        summary += "  " + text("progress.next", language, id=upcoming.id, slug=upcoming.slug)
    lines.append(Line(summary, "bold"))
    return lines


_STYLES = {Progress.PASSED: "green", Progress.FAILED: "red", Progress.NOT_TRIED: "", Progress.CHANGED: "yellow",
           Progress.RESET: ""}


def _state_label(course: Course, exercise: Exercise, state: State, language: str) -> str:
    """Where the student stands, in words: the state of the file as it is now (passed,
    failed, not tried, changed since graded with the last status, reset to the starter),
    and "passed before" when the exercise passed once but its file now has not, unless
    the last status already says so."""
    progress = state.progress(course, exercise)
    label = text(f"progress.{progress.name.lower()}", language)
    last = state.of(exercise).status if progress is Progress.CHANGED else ""
    if last:
        label += " " + text("progress.last", language, status=text(f"status.{last}", language))
    if progress is not Progress.PASSED and state.earned(exercise) and last != Status.PASSED.value:
        label += " · " + text("progress.passed_before", language)
    return label


def show(course: Course, exercise: Exercise, state: State, language: str) -> str:
    """The exercise's header, its instructions (from the starter) and its contract
    (its section of ``docs/exercises.md``), as Markdown."""
    progress = _state_label(course, exercise, state, language)
    timeout = Timeouts(course).resolve(exercise)  # auto: measured here the first time
    parts = [f"# {exercise.id} · {exercise.slug} · {exercise.title.get(language)}",
             text("show.facts", language, topic=exercise.topic,
                  path=exercise.file, state=progress,
                  methods=", ".join(exercise.start_methods), timeout=f"{timeout.seconds:g}")
             + "\n" + describe(timeout, exercise, language)]
    instructions = _instructions(course, exercise, language)
    if instructions:
        parts += [f"## {text('show.instructions', language)}", "```text\n" + instructions + "\n```"]
    contract = _contract(course, exercise, language)
    if contract:
        parts.append(f"## {text('show.contract', language)} ({CONTRACT.as_posix()})")
        if language == "zh" and not _chinese(_without_summary(contract)):  # not translated yet
            parts.append(f"> {text('show.contract_english', language)}")
        parts.append(contract)
    parts.append(text("show.commands", language, id=exercise.id, number=exercise.number))
    return "\n\n".join(parts) + "\n"


def _instructions(course: Course, exercise: Exercise, language: str) -> str:
    """The starter's docstring in ``language``: the shipped starter's, else the student's file's."""
    sources = []
    try:
        shipped = shipped_starter(course.root, exercise.module)
    except StarterError:
        shipped = None
    if shipped is not None:
        sources.append(shipped[0].decode("utf-8", "replace"))
    try:
        sources.append(course.path_of(exercise).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        pass
    for source in sources:
        try:
            docstring = ast.get_docstring(ast.parse(source))
        except (SyntaxError, ValueError):
            continue
        if docstring:
            return _in_language(docstring, language)
    return ""


_SECTION = re.compile(r"^(English|中文说明)\n[-=]+\n", re.MULTILINE)


def _in_language(docstring: str, language: str) -> str:
    """The title line and the section in ``language`` of a bilingual starter docstring
    (headed ``English`` and ``中文说明``); the whole docstring when it has no such sections."""
    marks = list(_SECTION.finditer(docstring))
    if not marks:
        return docstring.strip()
    wanted = "中文说明" if language == "zh" else "English"
    for index, mark in enumerate(marks):
        if mark.group(1) == wanted:
            end = marks[index + 1].start() if index + 1 < len(marks) else len(docstring)
            return (docstring[:marks[0].start()].strip() + "\n\n" + docstring[mark.end():end].strip()).strip()
    return docstring.strip()


def _contract(course: Course, exercise: Exercise, language: str) -> str:
    """The exercise's section of ``docs/exercises.md`` (from its ``## <id> ·`` heading to
    the next ``## `` heading or rule), without the heading; '' when there is none."""
    try:
        document = (course.root / CONTRACT).read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(rf"^## {re.escape(exercise.id)} ·.*?\n(.*?)(?=^## |^---\s*$|\Z)", document,
                      re.MULTILINE | re.DOTALL)
    if not match:
        return ""
    section = match.group(1).strip()
    if language != "zh":  # the section opens with a summary in Chinese: not for an English reader
        return _without_summary(section).strip()
    return section


def _without_summary(contract: str) -> str:
    """``contract`` without its italic lines in Chinese (the summary a section opens with)."""
    return "\n".join(line for line in contract.split("\n") if not (line.startswith("*") and _chinese(line)))


def _chinese(line: str) -> bool:
    """Whether most letters of ``line`` are CJK characters."""
    letters = [char for char in line if char.isalpha()]
    return bool(letters) and sum(ord(char) >= 0x2E80 for char in letters) * 2 > len(letters)


def hint(exercise: Exercise, state: State, language: str, watching: bool = False) -> list[Line]:
    """The next hint not yet shown; once all were shown, all of them. ``watching``: in
    ``grade watch``, where the next one is a key away."""
    hints = exercise.hints_in(language)
    if not hints:
        return [Line(text("hint.none", language, id=exercise.id))]
    exercise_state = state.of(exercise)
    if exercise_state.hints_shown < len(hints):
        number = exercise_state.hints_shown + 1
        exercise_state.hints_shown = number
        lines = [Line(text("hint.one", language, id=exercise.id, number=number, total=len(hints)), "bold"),
                 Line("  " + hints[number - 1])]
        if number < len(hints):
            lines.append(Line(text("hint.more_watching" if watching else "hint.more", language,
                                   number=exercise.number), "dim"))
        return lines
    lines = [Line(text("hint.all", language, id=exercise.id, total=len(hints)), "bold")]
    lines += [Line(f"  {number}. {each}") for number, each in enumerate(hints, 1)]
    return lines


def reset(course: Course, exercise: Exercise, state: State, language: str, confirm) -> list[Line]:
    """Restore the shipped starter; the student's file is first copied to
    ``.grade/backups/<module>-<time>.py``. ``confirm(question) -> bool`` asks the student."""
    target = course.path_of(exercise)
    relative = exercise.file
    try:
        shipped = shipped_starter(course.root, exercise.module)
    except StarterError as error:
        raise CommandError(str(error)) from None
    if shipped is None:
        raise CommandError(text("reset.no_starter", language, path=relative))
    starter, commit = shipped
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        current = None
    except OSError as error:
        raise CommandError(f"{relative}: {error.strerror or error}") from None
    if current == starter:
        state.reset(exercise, starter)
        return [Line(text("reset.already", language, path=relative))]
    if current is not None and not confirm(text("reset.confirm", language, path=relative)):
        raise CommandError(text("reset.declined", language))
    lines = []
    if current is not None:
        backup = _backup(course.root, exercise.module, current)
        lines.append(Line(text("reset.saved", language, backup=backup.relative_to(course.root).as_posix())))
    write_atomically(target, starter)
    state.reset(exercise, starter)
    lines.append(Line(text("reset.done", language, path=relative, commit=commit[:10]), "green"))
    return lines


def _backup(root: Path, module: str, content: bytes) -> Path:
    """A new file in ``.grade/backups`` holding ``content``; never overwrites one."""
    folder = root / STATE_FOLDER / BACKUPS
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        path = folder / (f"{module}-{stamp}.py" if attempt == 0 else f"{module}-{stamp}-{attempt}.py")
        try:
            with open(path, "xb") as file:  # exclusive: an existing backup is never replaced
                file.write(content)
            return path
        except FileExistsError:
            continue
    raise CommandError(f"{folder}: no free backup name")


def solution(course: Course, exercise: Exercise, state: State, language: str) -> str:
    """The reference solution, once the exercise has passed (whatever its file is since)."""
    path = course.solutions_dir / f"{exercise.module}.py"
    if not path.is_file():
        raise CommandError(text("solution.none", language))
    if not state.earned(exercise):
        raise CommandError(text("solution.locked", language, id=exercise.id,
                                state=_state_label(course, exercise, state, language)))
    return path.read_text(encoding="utf-8", errors="replace")
