"""The pytest plugin that runs check files: options, the ``run`` fixture, results.

Loaded with ``-p grader.plugin`` by :func:`grader.runner.run`. Settings come from the
command line only (the runner passes them); state lives in ``config.stash``:

- ``--grade-submission MODULE=PATH`` (repeatable): the file standing for each module;
- ``--grade-start-method M`` (repeatable): restrict the manifest's start methods;
- ``--grade-seed N``: the seed inputs are drawn from (reported, for reproducing a run);
- ``--grade-lang en|zh``: the language of messages.

Every check file's tests are parametrised over the exercise's start methods (test ids
end in ``[spawn]``). Sessions are started by a :class:`~grader.scheduler.Scheduler`
(the runner's, when it passes one in): all start methods of an exercise at once;
every test of that exercise and start method reads the same result.
Each test's verdict data is attached to its report as the user property ``grade``: its
status, message and output, and the causes of a failure (catalogue keys, most telling
first: the runner picks the hint tied to them). Each test's explanations, its timeline
and failure line included, share one :class:`~grader.budget.FeedbackBudget`, given to
its ``run`` when it starts.

The markers of scoring, ``@pytest.mark.points(n)`` and ``@pytest.mark.hidden``, are
registered here (:data:`grader.declared.MARKERS`) and read by :mod:`grader.declared`,
from the check files, before the run. Under ``-j`` an exercise's checks, those of its
``hidden_checks`` file included, all go to one worker (:func:`pytest_xdist_make_scheduler`),
which runs the exercise's sessions once.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from grader.budget import FeedbackBudget
from grader.check import CheckFailed, Run
from grader.check_modules import load_check_module
from grader.declared import MARKERS
from grader.i18n import resolve_language, text
from grader.manifest import Course, Exercise, find_course_root, load_course
from grader.results import Status
from grader.scheduler import Scheduler
from grader.timeouts import upper_bound

OUTER_TIMEOUT_MARGIN_S = 30.0


@dataclass
class GradeState:
    course: Course
    scheduler: Scheduler
    language: str
    runs: dict[tuple[str, str], Run] = field(default_factory=dict)
    by_path: dict[str, Exercise | None] = field(default_factory=dict)

    def exercise_of(self, path: object) -> Exercise | None:
        """The exercise whose check file is ``path``: resolved once per file (every hook
        of every check asks, and resolving a path costs a system call per component)."""
        key = str(path)
        if key not in self.by_path:
            self.by_path[key] = self.course.by_checks(Path(key))
        return self.by_path[key]


state_key = pytest.StashKey[GradeState]()
info_key = pytest.StashKey[str]()  # information a passing check gives (inform fixture)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grade", "multiprocessing exercise grading")
    group.addoption("--grade-submission", action="append", default=[], metavar="MODULE=PATH",
                    help="file standing for MODULE (repeatable); default: the course's exercises/")
    group.addoption("--grade-start-method", action="append", default=[], metavar="METHOD",
                    help="only these start methods (repeatable); default: the manifest's")
    group.addoption("--grade-seed", type=int, default=None, help="seed for the random inputs")
    group.addoption("--grade-lang", default=None, help="language of messages: en or zh")


def pytest_configure(config: pytest.Config) -> None:
    for marker, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {meaning}")
    root = find_course_root(Path(str(config.rootpath)))
    if root is None:
        raise pytest.UsageError("no exercises.yaml found: run inside the course repository")
    submissions = {}
    for item in config.getoption("grade_submission"):
        module, sep, path = item.partition("=")
        if not sep:
            raise pytest.UsageError(f"--grade-submission expects MODULE=PATH, not {item!r}")
        submissions[module] = Path(path)
    seed = config.getoption("grade_seed")
    course = load_course(root)
    language = resolve_language(config.getoption("grade_lang"))
    # The runner hands over its scheduler (sessions may already be running); an xdist
    # worker or a plain pytest run makes its own.
    scheduler = next((plugin for plugin in config.pluginmanager.get_plugins() if isinstance(plugin, Scheduler)),
                     None) or Scheduler(course, submissions, tuple(config.getoption("grade_start_method")),
                                        random.randrange(2**32) if seed is None else seed, language=language)
    config.stash[state_key] = GradeState(course, scheduler, language)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector:
    """Every folder is a plain :class:`pytest.Dir`, never a package: a course's
    ``grader/checks/__init__.py``, imported as ``grader.checks``, would be the installed
    grader's."""
    return pytest.Dir.from_parent(parent, path=path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module:
    return CheckModule.from_parent(parent, path=module_path)


class CheckModule(pytest.Module):
    """A check file, imported from the course being graded under a name of its own
    (:func:`~grader.check_modules.load_check_module`), whatever grader is installed."""

    def _getobj(self) -> ModuleType:
        try:
            return load_check_module(self.path)
        except Exception as error:
            raised = pytest.ExceptionInfo.from_current()
            if not any(Path(entry.path) == self.path for entry in raised.traceback):
                raise self.CollectError(raised.exconly()) from error  # a syntax error: its text says where
            raised.traceback = raised.traceback.cut(path=self.path)  # from the check file's own frames on
            raise self.CollectError(raised.getrepr(style="short")) from error


def _exercise_of(node: pytest.Item) -> Exercise | None:
    return node.config.stash[state_key].exercise_of(node.path)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile``, with an exercise's check file and its hidden checks file as one
    scope: one worker runs both, and the exercise's sessions once (not once per file)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    state = config.stash[state_key]

    class ByExercise(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            exercise = state.exercise_of(config.rootpath / path)
            return exercise.id if exercise is not None else path

    return ByExercise(config, log)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "run" not in metafunc.fixturenames:
        return
    exercise = _exercise_of(metafunc.definition)
    if exercise is None:
        return
    methods = metafunc.config.stash[state_key].scheduler.methods(exercise)
    metafunc.parametrize("start_method", methods, ids=methods)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every check an outer pytest-timeout: a safety net that should never fire."""
    state = config.stash[state_key]
    for item in items:
        exercise = state.exercise_of(item.path)
        if exercise is not None:
            budget = upper_bound(exercise) * 20 + OUTER_TIMEOUT_MARGIN_S
            item.add_marker(pytest.mark.timeout(budget, method="signal"))


@pytest.fixture
def start_method(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def inform(request: pytest.FixtureRequest):
    """``inform(text)`` attaches information to a check that passes (e.g. timings)."""

    def attach(message: str) -> None:
        request.node.stash[info_key] = message

    return attach


@pytest.fixture
def run(request: pytest.FixtureRequest, start_method: str) -> Run:
    """The outcome of the check file's plan under ``start_method``."""
    state = request.config.stash[state_key]
    exercise = _exercise_of(request.node)
    assert exercise is not None, "the run fixture is only for check files listed in exercises.yaml"
    key = (exercise.id, start_method)
    if key not in state.runs:
        session = state.scheduler.result(exercise, start_method)
        state.runs[key] = Run(exercise, start_method, session, state.language,
                              timeout=state.scheduler.timeout(exercise))  # resolved by now
    state.runs[key].read = []  # the calls this check looks at (their output goes with its verdict)
    state.runs[key].budget = FeedbackBudget()  # its time for explaining a failure, from now on
    state.runs[key].reject_broken_session()
    return state.runs[key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" or report.failed or report.skipped:
        method = getattr(item, "callspec", None) and item.callspec.params.get("start_method")
        verdict = {"check": item.originalname if hasattr(item, "originalname") else item.name,
                   "start_method": method, "status": Status.PASSED.value, "message": "", "output": "",
                   "causes": [], "session_s": _session_seconds(item, method),
                   "session_window": _session_window(item, method)}
        language = item.config.stash[state_key].language
        if report.failed and call.excinfo is not None and isinstance(call.excinfo.value, CheckFailed):
            error = call.excinfo.value
            verdict.update(status=error.status.value, message=str(error), output=error.output,
                           causes=list(error.causes))
            run = getattr(item, "funcargs", {}).get("run")
            verdict["timeline"] = run.timeline() if isinstance(run, Run) else None
            verdict["line"] = run.failure_line() if isinstance(run, Run) else None
        elif report.failed:  # a fault of the check or of the grader, not of the submission
            name = type(call.excinfo.value).__name__ if call.excinfo is not None else "?"
            verdict.update(status=Status.ERROR.value, output=report.longreprtext[-4000:],
                           message=text("grader.check_error", language, error=name))
        elif report.skipped:  # skipped or xfailed: not graded, so never a pass
            verdict.update(status=Status.ERROR.value, message=text("grader.check_skipped", language))
        else:
            verdict["message"] = item.stash.get(info_key, "")
            run = getattr(item, "funcargs", {}).get("run")
            verdict["output"] = run.output_read() if isinstance(run, Run) else ""
        report.user_properties.append(("grade", json.dumps(verdict)))
    return report


def _session_seconds(item: pytest.Item, method: str | None) -> float:
    state = item.config.stash[state_key]
    exercise = _exercise_of(item)
    run = state.runs.get((exercise.id, method)) if exercise is not None else None
    return run.session.duration_s if run is not None else 0.0


def _session_window(item: pytest.Item, method: str | None) -> list[float] | None:
    """When the session the check read started and ended (``time.monotonic()``)."""
    state = item.config.stash[state_key]
    exercise = _exercise_of(item)
    window = state.scheduler.window(exercise, method) if exercise is not None and method else None
    return list(window) if window else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Wait for sessions started but never asked for (a test was deselected); stop them
    at once when the run was interrupted (Ctrl-C)."""
    state = session.config.stash.get(state_key, None)
    if state is not None:
        state.scheduler.close(abort=exitstatus == pytest.ExitCode.INTERRUPTED)
