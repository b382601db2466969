"""``exercises.yaml``: the course manifest, loaded once into frozen, typed objects.

Format (``format_version: 2``; a version 1 manifest is read as it always was)::

    format_version: 2              # 1 or 2: 2 adds the causes of hints
    defaults:                      # optional; each field may be overridden per exercise
      timeout: auto                # seconds one call of the submission may take, or auto
      points: 1
      start_methods: [fork, spawn, forkserver]
    exercises:
      - id: exercise-3             # required, "exercise-N", N counting from 1 in order
        slug: queue                # required, unique, lower-case words joined by "-"
        title: {en: ..., zh: ...}  # required, both languages
        module: ex03_queue         # required: exercises/<module>.py, solutions/<module>.py
        topic: Queue               # required, a short label
        checks: grader/checks/check_ex03_queue.py   # required, relative to the course root
        hints:                     # required, at least two, in the order `grade hint` shows them
          - en: "join() waits until a process has finished..."
            zh: "join() 会一直等到进程结束..."
            causes: [ex03.serialized]   # optional (default []): the failures this hint explains
          - ...
        points: 1                  # optional (defaults)
        timeout: 5                 # optional (defaults): a number wins over auto
        start_methods: [...]       # optional (defaults)
        check_points: {test_values: 2}   # optional, per exercise: partial credit (see below)
        hidden_checks: grader/checks/hidden/check_ex03_queue.py   # optional: checks students never see

A hint's ``causes`` are message keys of ``grader/i18n/en.yaml`` (``ex03.serialized``,
``diff.order``, ``hang.cause.full_pipe``...): the keys a failed check's feedback was built
from (``run.fail(key, ...)`` and the diagnoses it includes). After a failed check the
report shows the first hint tied to the failure's cause, and no hint when none is (a
syntax error, a missing file, a fault of the grader). A hint without ``causes`` is only
shown by ``grade hint``. Version 1's ``hints: {en: [...], zh: [...]}`` (as many in each
language) is still read, in both versions: hints without causes.

``timeout``: the exercise's entry wins over ``defaults``, which win over the built-in
``auto``; a number of seconds (at most 600) is the timeout, ``auto`` is measured from the
reference solution on this machine (:mod:`grader.timeouts`: the factor, the floor, the
cache, a copy without ``solutions/``). It is the only place a call's timeout is set.

``points`` is what the exercise is worth when it scores all or nothing (every check passed
under every start method). It gives partial credit instead when it has ``check_points``
(even ``{}``) or a check carries ``@pytest.mark.points(n)``: each check then scores its
points (``check_points`` first, then the marker, then 1) when it passed under every start
method it ran under. ``check_points`` may name only checks of ``checks`` (this file is
shipped to students). ``hidden_checks``: a second check file, its checks run and scored
in the same sessions (it has no ``plan``: its checks read the calls of the plan of
``checks``), never shown to students; ``grade export`` leaves it out. See
:mod:`grader.declared`.

Any problem is a :class:`ManifestError` naming the file, the line, the exercise and the
field, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from grader.i18n import catalogue

FORMAT_VERSION = 2
FORMAT_VERSIONS = (1, 2)  # the versions this grader reads
MANIFEST_NAME = "exercises.yaml"
START_METHODS = ("fork", "spawn", "forkserver")
LANGUAGES = ("en", "zh")
AUTO = "auto"  # timeout: measured from the reference solution (grader.timeouts); None in an Exercise
DEFAULTS: dict[str, Any] = {"timeout": None, "points": 1, "start_methods": list(START_METHODS)}
REQUIRED = ("id", "slug", "title", "module", "topic", "checks", "hints")
OPTIONAL = tuple(DEFAULTS)
SCORING = ("check_points", "hidden_checks")  # optional, per exercise only (grader.declared)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
ID_PATTERN = re.compile(r"^exercise-(\d+)$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MODULE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# grade's commands (``grade list``, ``grade hint 3``...): ``grade NAME`` must mean one
# thing, so no exercise's slug or module may be one of them.
STUDENT_COMMANDS = ("list", "next", "show", "hint", "watch", "reset", "solution")
TEACHER_COMMANDS = ("new", "check", "export")
CI_COMMANDS = ("ci", "batch", "report", "gradescope-package")
COMMANDS = STUDENT_COMMANDS + TEACHER_COMMANDS + CI_COMMANDS


class ManifestError(Exception):
    """A problem in the manifest, with where it is."""

    def __init__(self, path: Path, message: str, line: int | None = None,
                 exercise: str | None = None, field: str | None = None) -> None:
        self.path, self.line, self.exercise, self.field = path, line, exercise, field
        where = str(path) + (f", line {line}" if line else "")
        about = ", ".join(part for part in (
            f"exercise {exercise}" if exercise else "", f"field '{field}'" if field else "") if part)
        super().__init__(f"{where}: {about + ': ' if about else ''}{message}")


@dataclass(frozen=True)
class Text:
    """A text in every language of the course."""

    en: str
    zh: str

    def get(self, language: str) -> str:
        return getattr(self, language, self.en)


@dataclass(frozen=True)
class Hint(Text):
    """A hint, and the causes of failure it explains: message keys of the catalogue
    (``grader/i18n/en.yaml``). A hint without causes is never shown after a failure."""

    causes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    id: str
    number: int
    slug: str
    title: Text
    module: str
    topic: str
    checks: Path
    hints: tuple[Hint, ...]  # in the order `grade hint` shows them
    points: int
    timeout: float | None  # seconds; None: auto (grader.timeouts resolves it)
    timeout_from: str  # where it was set: "exercise" (its entry), "defaults", or "built-in" (auto)
    start_methods: tuple[str, ...]
    check_points: tuple[tuple[str, int], ...] | None = None  # points per check name (None: not given)
    hidden_checks: Path | None = None  # a second check file, every check of it hidden

    @property
    def file(self) -> str:
        """The student's file, relative to the course root: ``exercises/<module>.py``."""
        return f"exercises/{self.module}.py"

    def hints_in(self, language: str) -> list[str]:
        """Every hint, in order."""
        return [hint.get(language) for hint in self.hints]

    def hints_for(self, cause: str, language: str) -> list[str]:
        """The hints tied to the cause ``cause`` (a catalogue key), in order."""
        return [hint.get(language) for hint in self.hints if cause in hint.causes]

    def hint_for(self, causes: list[str] | tuple[str, ...], language: str) -> str:
        """The hint to show after a failure: the first hint tied to the first of
        ``causes`` (most telling first) that has one; '' when none has."""
        for cause in causes:
            hints = self.hints_for(cause, language)
            if hints:
                return hints[0]
        return ""


@dataclass(frozen=True)
class Course:
    root: Path
    exercises: tuple[Exercise, ...]

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    def path_of(self, exercise: Exercise) -> Path:
        """The student's file of ``exercise`` in this course."""
        return self.root / exercise.file

    def by_checks(self, path: Path) -> Exercise | None:
        resolved = path.resolve()
        return next((ex for ex in self.exercises if ex.checks.resolve() == resolved
                     or ex.hidden_checks is not None and ex.hidden_checks.resolve() == resolved), None)

    def select(self, name: str) -> Exercise | None:
        """Find an exercise by id (``exercise-3``), number (``3``) or slug (``queue``)."""
        key = name.strip().lower()
        for exercise in self.exercises:
            if key in (exercise.id, str(exercise.number), exercise.slug, exercise.module):
                return exercise
        return None


def find_course_root(start: Path | None = None) -> Path | None:
    """The nearest folder holding ``exercises.yaml``, from ``start`` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST_NAME).is_file():
            return folder
    return None


def load_course(root: Path) -> Course:
    path = root / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(path, f"cannot be read ({error.strerror})") from None
    try:
        document = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ManifestError(path, f"invalid YAML: {problem}",
                            line=mark.line + 1 if mark else None) from None
    if not isinstance(document, yaml.MappingNode):
        raise ManifestError(path, "expected a mapping with 'format_version' and 'exercises'")
    return _Loader(path, root).course(document)


class _Loader:
    """Walks the YAML node tree so every error can name its line."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.version = FORMAT_VERSION
        self.timeout_from = "built-in"  # or "defaults", once they set a timeout

    def error(self, node: yaml.Node, message: str, exercise: str | None = None,
              field: str | None = None) -> ManifestError:
        return ManifestError(self.path, message, node.start_mark.line + 1, exercise, field)

    def mapping(self, node: yaml.Node, what: str, exercise: str | None = None,
                field: str | None = None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping", exercise, field)
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if key.value in result:
                raise self.error(key, f"'{key.value}' is given twice", exercise, field)
            result[key.value] = (key, value)
        return result

    def scalar(self, node: yaml.Node, kind: type, exercise: str | None, field: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"must be a {kind.__name__}", exercise, field)
        value = _CONSTRUCTOR.construct_object(node)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.error(node, f"must be a {kind.__name__}, not {value!r}", exercise, field)
        return value

    def course(self, document: yaml.MappingNode) -> Course:
        top = self.mapping(document, "the manifest")
        for name, (key, _) in top.items():
            if name not in ("format_version", "defaults", "exercises"):
                raise self.error(key, f"unknown field '{name}' (expected format_version, defaults, exercises)")
        if "format_version" not in top:
            raise self.error(document, "missing 'format_version'", field="format_version")
        version = self.scalar(top["format_version"][1], int, None, "format_version")
        if version not in FORMAT_VERSIONS:
            raise self.error(top["format_version"][1],
                             f"format_version {version} is not supported (this grader reads "
                             f"{' and '.join(map(str, FORMAT_VERSIONS))})", field="format_version")
        self.version = version
        defaults = dict(DEFAULTS)
        if "defaults" in top:
            for name, (key, value) in self.mapping(top["defaults"][1], "'defaults'", field="defaults").items():
                if name not in DEFAULTS:
                    raise self.error(key, f"unknown default '{name}' (expected one of {', '.join(DEFAULTS)})",
                                     field="defaults")
                defaults[name] = self.optional(name, value, None)
                if name == "timeout":
                    self.timeout_from = "defaults"
        if "exercises" not in top:
            raise self.error(document, "missing 'exercises'", field="exercises")
        node = top["exercises"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, "must be a non-empty list of exercises", field="exercises")
        exercises = [self.exercise(item, position, defaults) for position, item in enumerate(node.value, 1)]
        self.unique(node, exercises)
        return Course(self.root, tuple(exercises))

    def exercise(self, node: yaml.Node, position: int, defaults: dict[str, Any]) -> Exercise:
        fields = self.mapping(node, f"exercise #{position}")
        label = fields["id"][1].value if "id" in fields and isinstance(fields["id"][1], yaml.ScalarNode) \
            else f"#{position}"
        for name, (key, _) in fields.items():
            if name not in REQUIRED + OPTIONAL + SCORING:
                raise self.error(key, f"unknown field '{name}' (expected one of "
                                 f"{', '.join(REQUIRED + OPTIONAL + SCORING)})",
                                 label, name)
        for name in REQUIRED:
            if name not in fields:
                raise self.error(node, f"missing required field '{name}'", label, name)
        ident = self.scalar(fields["id"][1], str, label, "id")
        match = ID_PATTERN.match(ident)
        if not match or int(match.group(1)) != position:
            raise self.error(fields["id"][1], f"expected 'exercise-{position}' (ids count from 1 in order)",
                             label, "id")
        slug = self.scalar(fields["slug"][1], str, label, "slug")
        if not SLUG_PATTERN.match(slug):
            raise self.error(fields["slug"][1], "must be lower-case words joined by '-'", label, "slug")
        if slug in COMMANDS:
            raise self.error(fields["slug"][1], f"'{slug}' is the name of a grade command "
                             f"(grade {slug} would be ambiguous); choose another slug", label, "slug")
        module = self.scalar(fields["module"][1], str, label, "module")
        if not MODULE_PATTERN.match(module):
            raise self.error(fields["module"][1], "must be a Python module name", label, "module")
        if module in COMMANDS:
            raise self.error(fields["module"][1], f"'{module}' is the name of a grade command "
                             f"(grade {module} would be ambiguous); choose another module name", label, "module")
        checks_node = fields["checks"][1]
        checks = self.root / self.scalar(checks_node, str, label, "checks")
        if not checks.is_file():
            raise self.error(checks_node, f"file not found: {checks}", label, "checks")
        # A missing exercises/ file is the student's, and graded as missing (grade reset
        # restores it); the reference solution is the course's, where it has solutions/
        # (a student copy, from grade export, has none).
        solution = self.root / "solutions" / f"{module}.py"
        if solution.parent.is_dir() and not solution.is_file():
            raise self.error(fields["module"][1], f"file not found: solutions/{module}.py", label, "module")
        values = {name: self.optional(name, fields[name][1], label) if name in fields else defaults[name]
                  for name in OPTIONAL}
        return Exercise(
            id=ident, number=position, slug=slug,
            title=self.text(fields["title"][1], label, "title"),
            module=module, topic=self.scalar(fields["topic"][1], str, label, "topic"),
            checks=checks, hints=self.hints(fields["hints"][1], label),
            points=values["points"], timeout=values["timeout"],
            timeout_from="exercise" if "timeout" in fields else self.timeout_from,
            start_methods=tuple(values["start_methods"]),
            check_points=self.check_points(fields["check_points"][1], label) if "check_points" in fields else None,
            hidden_checks=self.hidden_checks(fields["hidden_checks"][1], label, checks)
            if "hidden_checks" in fields else None,
        )

    def check_points(self, node: yaml.Node, label: str) -> tuple[tuple[str, int], ...]:
        """``check_points: {test_name: 2, ...}``: points per check (grader.declared checks the names)."""
        points = []
        for name, (key, value) in self.mapping(node, "'check_points'", label, "check_points").items():
            if not name.startswith("test_"):
                raise self.error(key, f"'{name}' is not a check's name (test_...)", label, "check_points")
            number = self.scalar(value, int, label, "check_points")
            if number < 0:
                raise self.error(value, "must not be negative", label, "check_points")
            points.append((name, number))
        return tuple(points)

    def hidden_checks(self, node: yaml.Node, label: str, checks: Path) -> Path:
        """``hidden_checks: grader/checks/hidden/check_....py``: a second check file, every check of it hidden."""
        path = self.root / self.scalar(node, str, label, "hidden_checks")
        if not path.is_file():
            raise self.error(node, f"file not found: {path}", label, "hidden_checks")
        if path.resolve() == checks.resolve():
            raise self.error(node, "is the exercise's 'checks' file", label, "hidden_checks")
        return path

    def optional(self, name: str, node: yaml.Node, label: str | None) -> Any:
        if name == "points":
            value = self.scalar(node, int, label, name)
            if value < 0:
                raise self.error(node, "must not be negative", label, name)
            return value
        if name == "timeout":
            if isinstance(node, yaml.ScalarNode) and node.value == AUTO:
                return None
            if isinstance(node, yaml.ScalarNode) and isinstance(_CONSTRUCTOR.construct_object(node), str):
                raise self.error(node, f"must be a number of seconds or '{AUTO}', not {node.value!r}", label, name)
            value = self.scalar(node, float, label, name)
            if not 0 < value <= 600:
                raise self.error(node, "must be between 0 and 600 seconds", label, name)
            return value
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, f"must be a non-empty list of {', '.join(START_METHODS)}", label, name)
        methods = [self.scalar(item, str, label, name) for item in node.value]
        for item, method in zip(node.value, methods):
            if method not in START_METHODS:
                raise self.error(item, f"unknown start method '{method}' (expected {', '.join(START_METHODS)})",
                                 label, name)
        return methods

    def text(self, node: yaml.Node, label: str, field: str) -> Text:
        fields = self.mapping(node, f"'{field}'", label, field)
        for language in LANGUAGES:
            if language not in fields:
                raise self.error(node, f"missing the '{language}' text", label, field)
        for name, (key, _) in fields.items():
            if name not in LANGUAGES:
                raise self.error(key, f"unknown language '{name}' (expected {', '.join(LANGUAGES)})", label, field)
        return Text(**{lang: self.scalar(fields[lang][1], str, label, field) for lang in LANGUAGES})

    def hints(self, node: yaml.Node, label: str) -> tuple[Hint, ...]:
        if isinstance(node, yaml.SequenceNode):
            if self.version < 2:
                raise self.error(node, "a list of hints (each with en, zh and causes) needs format_version 2; "
                                 "version 1 has hints: {en: [...], zh: [...]}", label, "hints")
            if len(node.value) < 2:
                raise self.error(node, "must be a list of at least two hints", label, "hints")
            return tuple(self.hint(item, position, label) for position, item in enumerate(node.value, 1))
        fields = self.mapping(node, "'hints'", label, "hints")
        lists = {}
        for language in LANGUAGES:
            if language not in fields:
                raise self.error(node, f"missing the '{language}' hints", label, "hints")
            items = fields[language][1]
            if not isinstance(items, yaml.SequenceNode) or len(items.value) < 2:
                raise self.error(items, "must be a list of at least two hints", label, "hints")
            lists[language] = [self.scalar(item, str, label, "hints") for item in items.value]
        if len(lists["en"]) != len(lists["zh"]):
            raise self.error(node, "needs as many 'zh' hints as 'en' hints", label, "hints")
        if "causes" in fields:
            raise self.error(fields["causes"][0], "hints: {en: [...], zh: [...]} have no causes; to tie hints to "
                             "causes, make hints a list of {en, zh, causes} (format_version 2)", label, "hints")
        return tuple(Hint(en, zh) for en, zh in zip(lists["en"], lists["zh"]))

    def hint(self, node: yaml.Node, position: int, label: str) -> Hint:
        """One hint of format_version 2: ``{en: ..., zh: ..., causes: [key, ...]}``."""
        field = f"hints #{position}"
        fields = self.mapping(node, f"hint #{position}", label, field)
        for name, (key, _) in fields.items():
            if name not in (*LANGUAGES, "causes"):
                raise self.error(key, f"unknown field '{name}' (expected {', '.join(LANGUAGES)}, causes)",
                                 label, field)
        for language in LANGUAGES:
            if language not in fields:
                raise self.error(node, f"missing the '{language}' text", label, field)
        texts = {language: self.scalar(fields[language][1], str, label, field) for language in LANGUAGES}
        causes: list[str] = []
        if "causes" in fields:
            items = fields["causes"][1]
            if not isinstance(items, yaml.SequenceNode):
                raise self.error(items, "'causes' must be a list of message keys", label, field)
            known = catalogue("en")
            for item in items.value:
                cause = self.scalar(item, str, label, field)
                if cause not in known:
                    raise self.error(item, f"unknown cause '{cause}' (causes are message keys of "
                                     "grader/i18n/en.yaml, e.g. ex03.serialized)", label, field)
                causes.append(cause)
        return Hint(texts["en"], texts["zh"], tuple(causes))

    def unique(self, node: yaml.Node, exercises: list[Exercise]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for exercise, item in zip(exercises, node.value):
            for field in ("slug", "module"):
                value = getattr(exercise, field)
                if (field, value) in seen:
                    raise self.error(item, f"'{value}' is already used by {seen[field, value]}", exercise.id, field)
                seen[field, value] = exercise.id
