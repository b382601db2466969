"""A call's timeout: set in exercises.yaml only (an exercise's entry, then defaults, then
the built-in ``auto``), ``auto`` fitted to the reference solution's times on this machine
(measured once, cached in .grade/, shipped for copies without solutions/), and said where
it matters: ``grade show`` and the message of a call that timed out.

Most tests replace the measurement (:func:`grader.timeouts.measure`) with fixed durations:
what is tested is what is done with them. The message and ``grade show`` tests run
``grade`` in a copy of the course whose cache holds those durations.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
from pathlib import Path

import pytest

from grader import timeouts
from grader.manifest import ManifestError, load_course
from grader.timeouts import FALLBACK_S, FLOOR_S, K, SHIPPED, Timeout, Timeouts
from test_student import grade, make_course

REFERENCE_S = 0.05  # every call of the fake reference solution


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course", git=False)


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Measuring gives every call :data:`REFERENCE_S`; the list holds the modules measured."""
    calls: list[str] = []

    def fake(exercise, plan, path, sessions=None):
        calls.append(exercise.module)
        return {method: {call.name: REFERENCE_S for call in plan.calls} for method in exercise.start_methods}

    monkeypatch.setattr(timeouts, "measure", fake)
    return calls


def set_timeouts(course: Path, defaults: str | None = "auto", **exercises: str) -> None:
    """``timeout:`` in defaults (None: no such line) and in exercises' entries (by module)."""
    manifest = course / "exercises.yaml"
    text = manifest.read_text(encoding="utf-8")
    text = re.sub(r"^  timeout: .*\n", "" if defaults is None else f"  timeout: {defaults}\n", text, flags=re.M)
    for module, value in exercises.items():
        text = text.replace(f"    module: {module}\n", f"    module: {module}\n    timeout: {value}\n")
    manifest.write_text(text, encoding="utf-8")


def auto_for(reference_s: float, harness_s: float = 0.0) -> float:
    return math.ceil((K * reference_s + FLOOR_S + harness_s) * 10) / 10


# --- one place, one order -----------------------------------------------------------------

def test_the_exercise_wins_over_defaults_and_defaults_over_auto(course: Path, measured: list[str]) -> None:
    set_timeouts(course, "7", ex03_queue="3")
    loaded = load_course(course)
    first, third = loaded.select("1"), loaded.select("3")
    assert (third.timeout, third.timeout_from) == (3.0, "exercise")
    assert (first.timeout, first.timeout_from) == (7.0, "defaults")
    resolver = Timeouts(loaded)
    assert resolver.resolve(third) == Timeout(3.0, "exercise")
    assert resolver.resolve(first) == Timeout(7.0, "defaults")
    assert measured == [] and not (course / ".grade").exists()  # a number needs no measurement


def test_auto_in_an_exercise_wins_over_a_number_in_defaults(course: Path, measured: list[str]) -> None:
    set_timeouts(course, "7", ex01_process="auto")
    loaded = load_course(course)
    first = loaded.select("1")
    assert (first.timeout, first.timeout_from) == (None, "exercise")
    timeout = Timeouts(loaded).resolve(first)
    assert (timeout.source, timeout.seconds) == ("measured", auto_for(REFERENCE_S)) and measured == ["ex01_process"]


def test_auto_is_the_built_in_default(course: Path) -> None:
    set_timeouts(course, None)
    first = load_course(course).select("1")
    assert (first.timeout, first.timeout_from) == (None, "built-in")


def test_a_timeout_that_is_neither_a_number_nor_auto_is_named(course: Path) -> None:
    set_timeouts(course, "soon")
    with pytest.raises(ManifestError, match=r"line \d+: field 'timeout': must be a number of seconds or 'auto'"):
        load_course(course)


def test_no_check_file_states_a_timeout() -> None:
    from conftest import ROOT

    for checks in (ROOT / "grader" / "checks").glob("check_*.py"):
        # An Align's timeout_s is how long its rendezvous waits (a harness), not a call's timeout.
        text = re.sub(r"Align\([^\n]*", "", checks.read_text(encoding="utf-8"))
        assert "timeout_s=" not in text, checks.name


# --- auto: measured once, cached ----------------------------------------------------------

def test_measured_once_then_read_from_the_cache(course: Path, measured: list[str]) -> None:
    loaded = load_course(course)
    queue = loaded.select("3")  # an ordering harness: its window is the grader's time
    timeout = Timeouts(loaded).resolve(queue)
    assert timeout.source == "measured" and timeout.reference.durations.harness_s == 3.3
    assert timeout.seconds == auto_for(REFERENCE_S, 3.3)
    cached = json.loads((course / ".grade" / "timeouts" / "ex03_queue.json").read_text())["durations"]
    assert cached["calls"]["spawn"] == {"values": REFERENCE_S, "empty": REFERENCE_S}
    assert {"solution", "checks", "python", "host"} <= set(cached)
    again = Timeouts(load_course(course))
    assert again.known(queue) == timeout and measured == ["ex03_queue"]  # another run: from the cache
    assert (course / ".grade" / ".gitignore").is_file()


def test_the_first_grading_measures_the_reference_solution(course: Path) -> None:
    graded = grade(course, "1", "--start-method", "fork", "--format", "json")
    assert graded.returncode == 1, graded.stderr  # the starter, graded under fork only
    cached = json.loads((course / ".grade" / "timeouts" / "ex01_process.json").read_text())["durations"]
    assert set(cached["calls"]) == {"fork", "spawn", "forkserver"}  # every start method, whatever was graded
    assert all(0 < seconds < 10 for calls in cached["calls"].values() for seconds in calls.values())
    assert not (course / ".grade" / "timeouts" / "ex02_main_guard.json").exists()  # only what was graded


def test_the_sessions_of_an_exercise_share_one_measurement(course: Path, measured: list[str]) -> None:
    loaded = load_course(course)
    resolver = Timeouts(loaded)
    found: list[Timeout] = []
    threads = [threading.Thread(target=lambda: found.append(resolver.resolve(loaded.select("1")))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert measured == ["ex01_process"] and len(found) == 3 and all(each is found[0] for each in found)


@pytest.mark.parametrize("change", ["solution", "checks", "host"])
def test_measured_again_when_the_key_changes(course: Path, measured: list[str], change: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_course(course).select("1")
    Timeouts(load_course(course)).resolve(first)
    if change == "solution":
        with open(course / "solutions" / "ex01_process.py", "a") as file:
            file.write("\n# a better reference\n")
    elif change == "checks":
        with open(first.checks, "a") as file:
            file.write("\n# another check\n")
    else:
        monkeypatch.setattr(timeouts.socket, "gethostname", lambda: "another-machine")
    resolver = Timeouts(load_course(course))
    assert resolver.known(first) is None
    assert resolver.resolve(first).source == "measured" and measured == ["ex01_process"] * 2


@pytest.mark.parametrize("content", [b"{not json", b'{"format_version": 1, "durations": {"calls": {}}}', b""])
def test_a_corrupt_cache_is_measured_again_with_one_line(course: Path, measured: list[str], content: bytes) -> None:
    first = load_course(course).select("1")
    Timeouts(load_course(course)).resolve(first)
    cache = course / ".grade" / "timeouts" / "ex01_process.json"
    cache.write_bytes(content)
    notes: list[str] = []
    resolver = Timeouts(load_course(course), note=notes.append)
    assert resolver.known(first) is None  # as the scheduler asks first, then a session's thread
    timeout = resolver.resolve(first)
    assert timeout.seconds == auto_for(REFERENCE_S) and measured == ["ex01_process"] * 2
    assert len(notes) == 1 and "\n" not in notes[0] and str(cache) in notes[0]
    assert json.loads(cache.read_text())["durations"]["calls"]["fork"]  # rebuilt
    assert Timeouts(load_course(course), note=notes.append).known(first) is not None and len(notes) == 1


def test_fewer_cpus_than_when_measured_give_longer_timeouts(course: Path, measured: list[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_course(course).select("1")
    monkeypatch.setattr(timeouts, "cpus", lambda: 2.0)
    Timeouts(load_course(course)).resolve(first)
    monkeypatch.setattr(timeouts, "cpus", lambda: 0.5)  # a CFS quota of half a CPU since
    throttled = Timeouts(load_course(course)).resolve(first)
    assert throttled.reference.scale == 4.0 and throttled.seconds == auto_for(4 * REFERENCE_S)
    monkeypatch.setattr(timeouts, "cpus", lambda: 8.0)  # more: never shorter than measured
    assert Timeouts(load_course(course)).resolve(first).seconds == auto_for(REFERENCE_S)


def test_cpus_reads_a_cfs_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cpu" / "grading").mkdir(parents=True)
    (tmp_path / "cpu" / "grading" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "grading" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "cgroup").write_text("3:cpu,cpuacct:/grading\n0::/\n")
    monkeypatch.setattr(timeouts, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(timeouts, "PROC_CGROUP", tmp_path / "cgroup")
    assert timeouts.cpus() == min(0.5, len(timeouts.os.sched_getaffinity(0)))
    (tmp_path / "cpu.max").write_text("25000 100000\n")  # cgroup v2, the whole hierarchy's
    assert timeouts.cpus() == 0.25


# --- said where it matters ----------------------------------------------------------------

ENDLESS = '''
def run_in_process(target, args=()):
    while True:  # busy, not blocked: only the timeout stops it
        pass


def run_in_thread(target, args=()):
    while True:
        pass
'''


def test_a_timed_out_call_is_told_the_reference_time(course: Path, measured: list[str]) -> None:
    Timeouts(load_course(course)).resolve(load_course(course).select("1"))
    submission = course / "exercises" / "ex01_process.py"
    submission.write_text(ENDLESS)
    graded = grade(course, "1", "--start-method", "fork", "--format", "json")
    (exercise,) = json.loads(graded.stdout)["exercises"]
    assert exercise["status"] == "timeout", exercise
    message = next(check["message"] for check in exercise["checks"] if check["status"] == "timeout")
    assert f"did not finish within {auto_for(REFERENCE_S):g} s: it was stopped.\n" \
           f"On this machine the reference solution takes {REFERENCE_S:.2f} s for this call (under fork" in message


def test_grade_show_says_the_timeout_and_where_it_comes_from(course: Path, measured: list[str]) -> None:
    Timeouts(load_course(course)).resolve(load_course(course).select("1"))
    shown = grade(course, "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert f"each call may take {auto_for(REFERENCE_S):g} s." in shown.stdout
    assert re.search(rf"The timeout is auto: {K:g} × the reference solution's slowest call on this machine "
                     rf"\({REFERENCE_S:.2f} s, measured \d{{4}}-\d\d-\d\d\) \+ {FLOOR_S:g} s\.", shown.stdout)
    set_timeouts(course, "7", ex02_main_guard="4")
    shown = grade(course, "show", "1").stdout
    assert "each call may take 7 s." in shown and "The timeout is set in the defaults of exercises.yaml." in shown
    shown = grade(course, "show", "2", "--lang", "zh").stdout
    assert "每次调用最多 4 秒。" in shown and "这个时限是在 exercises.yaml 中为 exercise-2 单独设置的。" in shown


# --- a copy without solutions/ --------------------------------------------------------------

def test_a_copy_without_solutions_fits_the_shipped_times_to_its_machine(course: Path, measured: list[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = timeouts.ship(load_course(course))
    every = [exercise.module for exercise in load_course(course).exercises]
    assert shipped == course / SHIPPED and sorted(measured) == sorted(every)  # each measured once
    teacher_probe = json.loads(shipped.read_text())["exercises"]["ex01_process"]["probe_s"]
    shutil.rmtree(course / "solutions")
    monkeypatch.setattr(timeouts, "probe", lambda: teacher_probe * 2)  # one core half as fast here
    monkeypatch.setattr(timeouts, "cpus", lambda: 64.0)
    loaded = load_course(course)
    timeout = Timeouts(loaded).resolve(loaded.select("1"))
    assert timeout.source == "shipped" and timeout.reference.scale == 2.0
    assert timeout.seconds == auto_for(2 * REFERENCE_S) and len(measured) == len(every)  # nothing measured again
    with open(loaded.select("1").checks, "a") as file:  # times for other checks: not these
        file.write("\n# another check\n")
    assert Timeouts(load_course(course)).resolve(loaded.select("1")) == Timeout(FALLBACK_S, "fallback")


def test_a_copy_with_neither_solutions_nor_shipped_times_falls_back(course: Path) -> None:
    shutil.rmtree(course / "solutions")
    (course / SHIPPED).unlink(missing_ok=True)
    loaded = load_course(course)
    assert Timeouts(loaded).resolve(loaded.select("1")) == Timeout(FALLBACK_S, "fallback")
    shown = grade(course, "show", "1").stdout
    assert f"each call may take {FALLBACK_S:g} s." in shown
    assert "there is neither a reference solution nor the teacher's measurements" in shown
