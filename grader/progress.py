"""A student's progress: ``.grade/state.json`` in the course folder (git-ignored).

Per exercise: the status of its last grading, the digest of the file then graded (so a
file changed since is seen as such), whether it ever passed (a pass once earned stays
earned: ``grade reset`` does not lock the solution again), the digest of the starter
``grade reset`` put back since, and how many hints were shown. Fields added since the
first files were written have defaults, so an older file reads as it was meant. Written
atomically (a temporary file renamed over the old one). The file is the student's, not the
grader's: a missing one is an empty progress, a corrupt or unreadable one is set aside
with one line of warning and rebuilt, an unwritable one is ignored with one line;
never a crash. It decides nothing about a grade: it only remembers.
"""

from __future__ import annotations

import enum
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from grader.manifest import Course, Exercise
from grader.results import Report, Status

STATE_FOLDER = ".grade"
STATE_FILE = "state.json"
FORMAT_VERSION = 1
MAX_STATE_BYTES = 1024**2


class Progress(str, enum.Enum):
    """Where a student stands on one exercise."""

    PASSED = "passed"
    FAILED = "failed"  # graded, not passed (failed, error or timeout)
    NOT_TRIED = "not tried"
    CHANGED = "changed"  # the file changed since it was last graded
    RESET = "reset"  # the file is the starter ``grade reset`` put back (and not graded since)


class ExerciseState(msgspec.Struct, forbid_unknown_fields=False):
    status: str = ""  # of the last grading: a Status value, '' when never graded
    digest: str = ""  # sha256 of the file then graded
    graded_at: float = 0.0  # time.time() of that grading
    hints_shown: int = 0  # how many of the exercise's hints ``grade hint`` has shown
    ever_passed: bool = False  # passed once under all its start methods (older files: see ``earned``)
    reset_digest: str = ""  # sha256 of the starter ``grade reset`` wrote since the last grading

    @property
    def earned(self) -> bool:
        """Whether the exercise has passed once, whatever its file is now (a file written
        before ``ever_passed`` existed tells it by its last status)."""
        return self.ever_passed or self.status == Status.PASSED.value


class _StateFile(msgspec.Struct):
    format_version: int
    exercises: dict[str, ExerciseState] = {}


@dataclass
class State:
    """The progress of the course at ``root``; :meth:`save` writes it back."""

    root: Path
    exercises: dict[str, ExerciseState] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # one line each, for stderr

    @property
    def path(self) -> Path:
        return self.root / STATE_FOLDER / STATE_FILE

    def of(self, exercise: Exercise) -> ExerciseState:
        return self.exercises.setdefault(exercise.id, ExerciseState())

    def progress(self, course: Course, exercise: Exercise) -> Progress:
        state = self.exercises.get(exercise.id)
        if state is None or not state.status:
            return Progress.NOT_TRIED
        digest = file_digest(course.path_of(exercise))
        if digest == state.digest:
            return Progress.PASSED if state.status == Status.PASSED.value else Progress.FAILED
        return Progress.RESET if digest == state.reset_digest else Progress.CHANGED

    def passed(self, course: Course, exercise: Exercise) -> bool:
        """Whether the file as it is now has passed (what ``grade next`` goes by)."""
        return self.progress(course, exercise) is Progress.PASSED

    def earned(self, exercise: Exercise) -> bool:
        """Whether the exercise has passed once (its solution stays unlocked)."""
        state = self.exercises.get(exercise.id)
        return state is not None and state.earned

    def next_exercise(self, course: Course) -> Exercise | None:
        """The first exercise not passed (a passed one whose file changed since counts as not passed)."""
        return next((ex for ex in course.exercises if not self.passed(course, ex)), None)

    def record(self, course: Course, report: Report) -> list[Exercise]:
        """Remember the gradings of the student's own files in ``report`` (none of an
        interrupted run: its verdicts are incomplete). An exercise passes only under all
        its start methods: one that passed under some of them (``--start-method``) is
        not recorded, and is returned."""
        if report.interrupted:
            return []
        by_id = {exercise.id: exercise for exercise in course.exercises}
        partial = []
        for result in report.exercises:
            exercise = by_id.get(result.id)
            if exercise is None:
                continue
            graded = {check.start_method for check in result.checks}
            if result.status is Status.PASSED and not graded >= set(exercise.start_methods):
                partial.append(exercise)
                continue
            state = self.of(exercise)
            state.ever_passed = state.earned or result.status is Status.PASSED
            state.status = result.status.value
            state.digest = file_digest(course.path_of(exercise))
            state.graded_at = time.time()
            state.reset_digest = ""
        return partial

    def reset(self, exercise: Exercise, starter: bytes) -> None:
        """Remember that ``grade reset`` wrote ``starter`` over the exercise's file: the
        last grading, a pass once earned and the hints shown are kept."""
        self.of(exercise).reset_digest = hashlib.sha256(starter).hexdigest()

    def save(self) -> None:
        """Write the state atomically; a folder that cannot be written is a warning."""
        try:
            self.path.parent.mkdir(exist_ok=True)
            _ignore_in_git(self.path.parent)
            write_atomically(self.path, msgspec.json.encode(_StateFile(FORMAT_VERSION, self.exercises)))
        except OSError as error:
            self.warnings.append(f"grade: note: progress not saved ({self.path}: {error.strerror or error})")


def load_state(root: Path) -> State:
    """The progress saved in ``root``; empty (with a warning) when it cannot be used."""
    state = State(root)
    try:
        with open(state.path, "rb") as file:
            data = file.read(MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return state
    except OSError as error:
        state.warnings.append(f"grade: note: progress ignored ({state.path}: {error.strerror or error})")
        return state
    try:
        if len(data) > MAX_STATE_BYTES:
            raise msgspec.ValidationError("larger than 1 MiB")
        saved = msgspec.json.decode(data, type=_StateFile)
        if saved.format_version != FORMAT_VERSION:
            raise msgspec.ValidationError(f"format_version {saved.format_version}, not {FORMAT_VERSION}")
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        aside = state.path.with_name(f"{STATE_FILE}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(state.path, aside)
            where = f"set aside as {aside.name}"
        except OSError:
            where = "left as it is"
        state.warnings.append(f"grade: note: progress file {state.path} was unreadable ({error}): "
                              f"{where}, progress starts afresh")
        return state
    state.exercises = dict(saved.exercises)
    return state


def _umask() -> int:
    """This process's umask, read without setting it (setting it, even back, would change
    it for a moment under every other thread)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError):  # Linux before 4.7
        return 0o022


def write_atomically(target: Path, content: bytes) -> None:
    """Replace ``target`` with ``content`` at once (a temporary file renamed over it, with
    the old file's mode): a reader never sees half of it. No temporary file is left."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=f".{target.stem}-", delete=False) as file:
        temporary = file.name
        try:
            file.write(content)
        except BaseException:
            os.unlink(temporary)
            raise
    try:
        if target.exists():
            shutil.copymode(target, temporary)
        else:  # as open() would make it, not the temporary file's 0600
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes; '' when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _ignore_in_git(folder: Path) -> None:
    """Keep ``.grade/`` out of the student's commits, whatever the course's .gitignore says."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# made by grade: the progress and backups stay on this machine\n*\n")
