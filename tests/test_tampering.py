"""Submissions that tamper with the channels from the sandbox back to the grader.

Everything that comes back from a sandbox was within reach of the submission, which has
read the grader's source: the captured output files, ``trace/*.jsonl``,
``calls/<i>.json``, the supervisor's report on its stdout, the helper pids the worker
reports. Each case, ``tests/examples/tampering/<case>/<module>.py``, attacks one of them
(its first line says how). Contained means, for every case and in both isolation modes:

- a verdict against the submission: exit status 1, the exercise not passed, score 0,
  and "failed" or "timeout", not "error" (a grader that crashes on hostile data tells
  the student "the grader failed, this is not your fault");
- within 2 x the exercise's timeout + 10 s;
- exactly one JSON document on stdout (``--format json``);
- none of the grader's secrets in its stdout or stderr: not ``GRADE_TEST_SECRET`` (in
  the grader's environment), not ``secret.txt`` (next to the session folders, in the
  grader's TMPDIR), not a line of the reference solution;
- nothing left running after the run (conftest.py checks again at the end).

The grader runs with a minimal environment, the secret first (so a leak of the
grader's environment shows in the first bytes of any excerpt, and nothing else of this
machine's environment can reach these tests' output), and a 2 GiB address-space limit
(so a grader that reads an endless record fails with MemoryError instead of exhausting
the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, descendants, grade
from grader.manifest import load_course
from grader.sandbox.isolation import isolation
from grader.starters import shipped_starter
from grader.timeouts import Timeouts

TAMPERING = ROOT / "tests" / "examples" / "tampering"
CASES = {folder.name: next(folder.glob("*.py")) for folder in sorted(TAMPERING.iterdir()) if folder.is_dir()}
COURSE = load_course(ROOT)
GRADER_ADDRESS_SPACE = 2 * 1024**3  # every reference solution passes under 2 GiB
LEFTOVER_GRACE_S = 3.0


@dataclass
class Graded:
    case: str
    label: str  # e.g. "process, json"
    bound_s: float
    stdout: str
    stderr: str
    returncode: int | None  # None: still running at the time bound, killed by the test
    elapsed_s: float
    left: list[tuple[int, str]]


@contextlib.contextmanager
def _grader_environment(secret: str, tmp: Path):
    """The environment ``grade()`` passes on (it adds os.environ): only what the grader
    needs, the secret first; and a cap on the grader's address space."""
    saved = dict(os.environ)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = GRADER_ADDRESS_SPACE if hard == resource.RLIM_INFINITY else min(GRADER_ADDRESS_SPACE, hard)
    os.environ.clear()
    os.environ.update({"GRADE_TEST_SECRET": secret, "PATH": "/usr/local/bin:/usr/bin:/bin",
                       "LANG": "C.UTF-8", "HOME": str(tmp), "TMPDIR": str(tmp)})
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        os.environ.clear()
        os.environ.update(saved)


def _leftovers() -> list[tuple[int, str]]:
    """Processes of this run still alive after a grace period: killed (by pid) and returned."""
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while True:
        left = [(pid, cmd) for pid, cmd in descendants(os.getpid()) if "execnet" not in cmd]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    for pid, _ in left:  # re-parented to this process (a child subreaper): reap them
        with contextlib.suppress(OSError):
            os.waitpid(pid, os.WNOHANG)
    return left


def _text(data: str | bytes | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data or ""


def _grade_case(case: str, fmt: str, mode: str) -> tuple[Graded, list[str]]:
    # The grader's TMPDIR, where its session folders go next to secret.txt; short, as
    # the fork server's socket path in a session folder must fit in 108 bytes.
    tmp = Path(tempfile.mkdtemp(prefix="tamper-"))
    try:
        return _grade_in(case, fmt, mode, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _grade_in(case: str, fmt: str, mode: str, tmp_path: Path) -> tuple[Graded, list[str]]:
    submission = CASES[case]
    exercise = COURSE.select(submission.stem)
    assert exercise is not None, f"{submission.name}: not a module of the course"
    bound = 2 * Timeouts(COURSE).resolve(exercise).seconds + 10
    secret = f"s3cret-{secrets.token_hex(16)}"
    (tmp_path / "secret.txt").write_text(f"GRADE_TEST_SECRET_FILE={secret}\n")
    env = {"GRADE_ISOLATION": "process"} if mode == "process" else {}
    started = time.monotonic()
    with _grader_environment(secret, tmp_path):
        try:
            completed = grade(exercise.id, "--submission", str(submission), "--format", fmt,
                              timeout=bound, env=env)
            stdout, stderr, returncode = completed.stdout, completed.stderr, completed.returncode
        except subprocess.TimeoutExpired as expired:
            stdout, stderr, returncode = _text(expired.stdout), _text(expired.stderr), None
    elapsed = time.monotonic() - started
    graded = Graded(case, f"{mode}, {fmt}", bound, stdout, stderr, returncode, elapsed, _leftovers())
    return graded, _problems(graded, fmt, exercise, secret, _solution_lines(exercise.module, submission))


def _solution_lines(module: str, submission: Path) -> list[str]:
    """Lines of the reference solution that nothing else the student sees contains (the
    starter as shipped: a student's solved exercises/ would make every line known)."""
    shipped = shipped_starter(ROOT, module)
    known = submission.read_text() + (shipped[0].decode() if shipped else _read(ROOT / "exercises" / f"{module}.py"))
    lines = {line.strip() for line in _read(ROOT / "solutions" / f"{module}.py").splitlines()}
    return sorted(line for line in lines if len(line) >= 25 and line not in known)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _problems(graded: Graded, fmt: str, exercise, secret: str, solution: list[str]) -> list[str]:
    problems = []
    if graded.returncode is None:
        problems.append(f"no answer within {graded.bound_s:g} s: the grader was killed")
    else:
        if graded.elapsed_s > graded.bound_s:
            problems.append(f"took {graded.elapsed_s:.1f} s, more than {graded.bound_s:g} s")
        if graded.returncode != 1:
            problems.append(f"exit status {graded.returncode}, not 1")
        problems += _verdict_problems(graded, fmt, exercise)
    for name, text in (("stdout", graded.stdout), ("stderr", graded.stderr)):
        if secret in text:
            problems.append(f"the secret leaked to the grader's {name}{_where(text, secret, fmt, name)}: "
                            f"{_context(text, secret)}")
        leaked = [line for line in solution if line in text]
        if leaked:
            problems.append(f"{len(leaked)} line(s) of the reference solution leaked to the grader's {name}"
                            f"{_where(text, leaked[0], fmt, name)}, e.g. {leaked[0]!r}")
    if graded.left:
        problems.append("left running (killed by the test): "
                        + "; ".join(f"{pid} {cmd[:100]}" for pid, cmd in graded.left))
    return problems


def _verdict_problems(graded: Graded, fmt: str, exercise) -> list[str]:
    if fmt == "text":
        heads = [line for line in graded.stdout.splitlines() if f" {exercise.id} · " in line]
        if len(heads) != 1:
            return [f"{len(heads)} verdict lines for {exercise.id} in the text output"]
        if "PASSED" in heads[0] or f"   0/{exercise.points}   " not in heads[0]:
            return [f"the exercise passed: {heads[0].strip()!r}"]
        if "NOT GRADED" in heads[0]:
            return [f"grader fault (not graded): {heads[0].strip()!r}"]
        return []
    try:
        report = json.loads(graded.stdout)
    except ValueError as error:
        return [f"stdout is not exactly one JSON document ({error}): {graded.stdout[:200]!r}"]
    problems = []
    if report.get("status") != "failed" or report.get("score") != 0:
        problems.append(f"report status {report.get('status')!r}, score {report.get('score')!r}")
    results = report.get("exercises") or [{}]
    if len(results) != 1 or results[0].get("id") != exercise.id:
        return problems + [f"the report is not about {exercise.id} alone"]
    result = results[0]
    if result.get("status") == "passed" or result.get("score") != 0:
        problems.append(f"the exercise {result.get('status')}, score {result.get('score')}")
    elif result.get("status") not in ("failed", "timeout"):
        errors = [check for check in result.get("checks", []) if check.get("status") == "error"]
        cause = _error_line(errors[0].get("output", "")) if errors else result.get("message", "")[:200]
        problems.append(f"grader fault: exercise status {result.get('status')!r}, "
                        f"{len(errors)} check(s) in error: {cause}")
    return problems


def _error_line(output: str) -> str:
    """The exception of a pytest traceback (its last ``E   ...`` line)."""
    lines = [line for line in output.splitlines() if line.startswith("E   ")]
    return lines[-1][4:].strip()[:200] if lines else output.strip()[-200:]


def _where(text: str, needle: str, fmt: str, stream: str) -> str:
    """Which checks of the JSON report carry ``needle``, and in which field."""
    if fmt != "json" or stream != "stdout":
        return ""
    try:
        checks = [check for result in json.loads(text)["exercises"] for check in result["checks"]]
    except (ValueError, KeyError, TypeError):
        return ""
    found = [f"{check['name']}[{check['start_method']}].{field}" for check in checks
             for field in ("message", "output") if needle in str(check.get(field, ""))]
    return f" ({', '.join(found[:3])}{', ...' if len(found) > 3 else ''})" if found else ""


def _context(text: str, secret: str) -> str:
    at = text.index(secret)
    return repr(text[max(0, at - 60):at + len(secret) + 60].replace(secret, "<SECRET>"))


def _summary(graded: Graded) -> str:
    """One line of evidence: how the run ended."""
    verdict = "?"
    with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
        result = json.loads(graded.stdout)["exercises"][0]
        statuses: dict[str, int] = {}
        for check in result["checks"]:
            statuses[check["status"]] = statuses.get(check["status"], 0) + 1
        failing = [c for c in result["checks"] if c["status"] != "passed"]
        first = failing[0]["message"].splitlines()[0][:160] if failing and failing[0]["message"] else ""
        verdict = f"exercise {result['status']} ({statuses}){': ' + repr(first) if first else ''}"
    if graded.returncode is not None and verdict == "?":
        verdict = " | ".join(line.strip() for line in graded.stdout.splitlines()[:1])[:200]
    return (f"{graded.case} [{graded.label}]: exit {graded.returncode}, {graded.elapsed_s:.1f} s, {verdict}")


# What the process-level sandbox, explicitly degraded (no walls), cannot contain: the
# submission runs as the grader's user with the grader's view of the machine.
NO_WALLS = {
    "direct_read_grader_secrets": "without walls the submission reads what the grader's user can read",
    "forged_grade_output": "without walls (and as root) the submission can signal the grader and open its output",
}


@pytest.mark.parametrize("mode", ["bubblewrap", "process"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_contained(case: str, mode: str) -> None:
    """JSON format, under bubblewrap and under the process-level sandbox."""
    if mode == "bubblewrap" and not isolation().bwrap:
        pytest.skip(f"no bubblewrap: {isolation().reason}")
    if mode == "process" and case in NO_WALLS:
        pytest.skip(f"process-level sandbox: {NO_WALLS[case]}")
    graded, problems = _grade_case(case, "json", mode)
    print(_summary(graded))
    if problems:
        pytest.fail(_summary(graded) + "\n  - " + "\n  - ".join(problems), pytrace=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_in_text_feedback(case: str) -> None:
    """The text format a student reads, with the default isolation (bubblewrap where
    installed): no secret in the feedback, and not passed."""
    graded, problems = _grade_case(case, "text", "default")
    print(_summary(graded))
    if problems:
        pytest.fail(_summary(graded) + "\n  - " + "\n  - ".join(problems), pytrace=False)
