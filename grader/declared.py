"""What an exercise's checks declare for scoring: their points, and which are hidden.

Read from the check files themselves (imported as the scheduler imports them for their
plan, never run) and from ``exercises.yaml``, before any check runs: so an exercise has
its max score even when its submission cannot be graded at all, and the live line knows
which checks it must not name before their first result comes back (under ``-j`` too,
where the grading process collects no checks itself).

Points, first found wins: the exercise's ``check_points`` in ``exercises.yaml``, then a
``@pytest.mark.points(n)`` marker (on the check, its class or its module), then 1. An
exercise gives partial credit when it has ``check_points`` (even ``{}``) or any of its
checks carries a points marker; otherwise it scores all or nothing, its ``points``.

Hidden: a check marked ``@pytest.mark.hidden``, and every check of the exercise's
``hidden_checks`` file. That file has no plan of its own: its checks read the calls of
the main check file's plan, in the same sandbox sessions (see :func:`declare`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from grader.check_modules import load_check_module
from grader.manifest import Exercise

# The markers a check may carry, registered by grader.plugin (``pytest --markers``).
MARKERS = {
    "points(n)": "the check is worth n points (a whole number, 0 or more). An exercise with any check "
                 "declaring points (or check_points in exercises.yaml, which wins over this marker) scores "
                 "the points of each check that passed under every start method it ran under, instead of "
                 "all or nothing; checks without points are worth 1.",
    "hidden": "the check is run and scored, but students never see its name, message, output or timeline: "
              "only how many hidden checks failed and the points they cost (grade --teacher shows it all).",
}
CHECK_PREFIX = "test_"  # python_functions of grader/grading.ini
CLASS_PREFIX = "Test"  # pytest's default python_classes


@dataclass(frozen=True)
class Declared:
    """One check's declarations: its points (None: none declared) and whether it is hidden."""

    points: int | None = None
    hidden: bool = False


@dataclass(frozen=True)
class CheckTable:
    """Every check of an exercise (main and hidden files) by name, and how it scores.

    ``problem`` says what is wrong with the declarations (a bad marker, a ``check_points``
    entry naming no check, a plan in the hidden file): the exercise is then not graded.
    A check file that cannot be imported leaves its checks out, without a problem here:
    pytest's collection reports it when it is run.
    """

    checks: dict[str, Declared] = field(default_factory=dict)
    partial_credit: bool = False
    problem: str = ""

    def worth(self, name: str) -> int | None:
        """What the check ``name`` is worth under partial credit (None: all or nothing)."""
        if not self.partial_credit:
            return None
        points = self.checks.get(name, Declared()).points
        return 1 if points is None else points

    def hidden(self, name: str) -> bool:
        return self.checks.get(name, Declared()).hidden

    def max_score(self, exercise: Exercise) -> int:
        """The sum of the checks' points under partial credit, else the exercise's points."""
        if not self.partial_credit:
            return exercise.points
        return sum(self.worth(name) or 0 for name in self.checks)


class _Invalid(Exception):
    """A declaration that cannot be used: becomes :attr:`CheckTable.problem`."""


def declare(exercise: Exercise) -> CheckTable:
    """The :class:`CheckTable` of ``exercise``."""
    manifest_points = dict(exercise.check_points) if exercise.check_points is not None else None
    try:
        main = _import(exercise.checks)
        checks = _declared(main, hidden=False) if main is not None else {}
        if manifest_points is not None and main is not None:
            for name, points in manifest_points.items():
                if name not in checks:
                    raise _Invalid(f"exercises.yaml, check_points of {exercise.id}: {name!r} is not a check of "
                                   f"{exercise.checks.name} (the points of a hidden_checks file's checks go on "
                                   "their markers: exercises.yaml is shipped to students)")
                checks[name] = Declared(points, checks[name].hidden)
        hidden = _import(exercise.hidden_checks) if exercise.hidden_checks is not None else None
        if hidden is not None:
            if hasattr(hidden, "plan"):
                raise _Invalid(f"{exercise.hidden_checks.name} defines plan(): a hidden checks file has no plan "
                               f"of its own, its checks read the calls of the plan of {exercise.checks.name}")
            for name, declared in _declared(hidden, hidden=True).items():
                if name in checks:
                    raise _Invalid(f"{name} is a check of both {exercise.checks.name} and "
                                   f"{exercise.hidden_checks.name}: a check's name must be unique")
                checks[name] = declared
    except _Invalid as error:
        return CheckTable(problem=f"The checks of this exercise declare their scoring wrongly: {error}")
    partial = manifest_points is not None or any(declared.points is not None for declared in checks.values())
    return CheckTable(checks, partial)


def _import(path: Path) -> ModuleType | None:
    """The check file at ``path``, executed as a module of its own (None if it fails to import)."""
    try:
        return load_check_module(path)
    except Exception:  # pytest's collection says why, when the checks are run
        return None


def _declared(module: ModuleType, hidden: bool) -> dict[str, Declared]:
    """The checks pytest collects from ``module`` (functions ``test_*``, and methods
    ``test_*`` of classes ``Test*``), with their markers: the closest one wins."""
    found: dict[str, Declared] = {}
    module_marks = _marks(module)
    for name, value in vars(module).items():
        if name.startswith(CHECK_PREFIX) and inspect.isfunction(value):
            found[name] = _declare(name, [module_marks, _marks(value)], hidden)
        elif name.startswith(CLASS_PREFIX) and inspect.isclass(value):
            for method_name, method in vars(value).items():
                if method_name.startswith(CHECK_PREFIX) and inspect.isfunction(method):
                    found[method_name] = _declare(method_name, [module_marks, _marks(value), _marks(method)],
                                                  hidden)
    return found


def _declare(name: str, levels: list[list], hidden: bool) -> Declared:
    """A check's declarations from its markers, ``levels`` from the farthest (module) to the closest."""
    points = None
    for marks in levels:
        given = [mark for mark in marks if mark.name == "points"]
        if len(given) > 1:
            raise _Invalid(f"{name} has @pytest.mark.points more than once")
        if given:
            points = _points(name, given[0])
        hidden = hidden or any(mark.name == "hidden" for mark in marks)
    return Declared(points, hidden)


def _points(name: str, mark) -> int:
    value = mark.args[0] if len(mark.args) == 1 and not mark.kwargs else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Invalid(f"{name}: @pytest.mark.points takes one whole number of points, 0 or more "
                       f"(as in @pytest.mark.points(2)), not {mark.args or mark.kwargs}")
    return value


def _marks(target: object) -> list:
    """The pytest marks stored on ``target`` (``pytestmark``: one mark, a decorator or a list)."""
    marks = getattr(target, "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    return [getattr(mark, "mark", mark) for mark in marks]
