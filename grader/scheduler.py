"""When sandbox sessions start: all start methods of an exercise at once, and ahead of
the checks that read them.

A check file's plan is drawn from a generator seeded with ``(seed, exercise id)``, so
whoever starts the sessions (the runner, before pytest has even been imported, or the
pytest plugin) gets the same calls. With an ``order`` of exercises, asking for one
exercise's results also starts the next exercise's sessions, so a run of several
exercises keeps the sandboxes busy while checks are being evaluated.
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass, field
from pathlib import Path

from grader.check import Plan
from grader.manifest import Course, Exercise
from grader.sandbox import SessionResult, SessionSpec, start_session
from grader.sandbox.session import RunningSession


@dataclass(eq=False)  # a pytest plugin object: hashed by identity
class Scheduler:
    course: Course
    submissions: dict[str, Path]
    start_methods: tuple[str, ...]
    seed: int
    order: list[Exercise] = field(default_factory=list)
    _running: dict[tuple[str, str], RunningSession] = field(default_factory=dict)
    _done: dict[tuple[str, str], SessionResult] = field(default_factory=dict)
    _started: set[str] = field(default_factory=set)

    def methods(self, exercise: Exercise) -> list[str]:
        """The exercise's start methods, restricted to the ones asked for."""
        return [m for m in exercise.start_methods if not self.start_methods or m in self.start_methods]

    def plan(self, exercise: Exercise) -> Plan:
        spec = importlib.util.spec_from_file_location(f"_grade_plan_{exercise.module}", exercise.checks)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.plan(random.Random(f"{self.seed}:{exercise.id}"))

    def start(self, exercise: Exercise) -> None:
        """Start the sessions of every start method of ``exercise`` (once)."""
        if exercise.id in self._started:
            return
        self._started.add(exercise.id)
        plan = self.plan(exercise)
        submission = self.submissions.get(exercise.module, self.course.exercises_dir / f"{exercise.module}.py")
        for method in self.methods(exercise):
            spec = SessionSpec(
                module=exercise.module, submission=submission, start_method=method,
                calls=tuple(plan.calls), timeout_s=plan.timeout_s or exercise.timeout,
                traced=plan.traced, align=plan.align, order=plan.order,
            )
            self._running[exercise.id, method] = start_session(spec)

    def result(self, exercise: Exercise, method: str) -> SessionResult:
        """The session's result, waiting for it if needed; starts the next exercise too."""
        key = (exercise.id, method)
        if key not in self._done:
            self.start(exercise)
            following = self.order[self.order.index(exercise) + 1:] if exercise in self.order else []
            if following:
                self.start(following[0])
            self._done[key] = self._running.pop(key).result()
        return self._done[key]

    def close(self, abort: bool = False) -> None:
        """Wait for (and clean up after) sessions nobody asked for; with ``abort``
        (Ctrl-C), stop them first. Every session is closed, even when one fails."""
        running, self._running = list(self._running.values()), {}
        if abort:
            for session in running:
                session.kill()
        errors = []
        for session in running:
            try:
                session.result()
            except Exception as error:  # close the others all the same
                errors.append(error)
        if errors:
            raise errors[0]
