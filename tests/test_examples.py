"""Golden example submissions: one folder per example, holding the submission and the
verdict it must get (``expected_results.json``), in the manner of exercism's test runner.

The inputs are drawn with a fixed seed, so every value a message shows is reproducible
and is compared. What is compared is the whole feedback of the exercise (status, score,
message) and of every check (name, start method, status, message, output), passed
through :func:`normalise`, which strips only what varies from run to run or machine to
machine (see ``RULES`` and ``RACY``), and the hint shown with it (the one tied to the
cause of the failure, or none). The durations and the timelines are left out (the
timelines are tested in tests/test_timeline.py and tests/test_student.py).

The goldens are written by ``python tests/update_goldens.py [CASE...]``, never by the
test; review the diff before committing it.
"""

from __future__ import annotations

import difflib
import json
import re
import string
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, grade_json
from grader.course_check import declared_verdict, submission_of  # shared with grade check
from grader.i18n import catalogue

EXAMPLES = ROOT / "tests" / "examples"
GOLDEN = "expected_results.json"
SEED = "20261127"
UPDATE_COMMAND = "python tests/update_goldens.py"
CASES = sorted(path.parent for path in EXAMPLES.glob("ex*/*/ex*.py"))
START_METHODS_LINE = re.compile(r"# start methods: ([\w, ]+)$")


def case_id(case: Path) -> str:
    """``ex03_queue/wrong_nested_target``: how tests and ``update_goldens.py`` name a case."""
    return f"{case.parent.name}/{case.name}"


# --- normalisation ----------------------------------------------------------------------

# Messages whose values come from a race or a clock, by catalogue key (grader/i18n/en.yaml):
# each placeholder named is matched by the pattern given and replaced by <name>. The
# message's other placeholders, and every other message, are compared as they are. The
# patterns are built from the catalogue, so they follow its wording.
#
# Not here: results in the wrong order ("value.wrong" with "diff.order"). The checks force
# the order in which the calls finish (release orders) and check a forced call first, so
# the order that comes back is reproducible (measured: 10 of 10 runs alike for each case).
# While ex05's first checked call was not forced, its "Got:" list was a race.
NUMBER = r"-?\d[\d.,]*"
OTHER = r"[^\n]*?"  # a placeholder not named: any text on the line


RACY: dict[str, dict[str, str]] = {
    # How far short of the expected total a race left it, and so the total, vary from run
    # to run. Which of the runs is the first to come up short is itself a race (run 1
    # often, run 2 sometimes), and the expected total is that run's, so both go too;
    # {runs} stays, and so does the explanation ({why}: what the code does with its lock).
    "ex08.lost_updates": {"expected": NUMBER, "run": NUMBER, "got": NUMBER, "short": NUMBER},
    # Wall-clock timings of exercise-4, and the number of cores of the machine. Whether
    # processes came out faster or slower than serial here ({verdict}) is a matter of
    # timing too; which variant used threads and which processes is not.
    "ex04.timings": {"cores": NUMBER, "serial": NUMBER, "threads": NUMBER, "processes": NUMBER},
    # How many pool workers took a task in the timed call (no rendezvous there): a worker
    # that starts late on a loaded machine may get none.
    "ex04.how.processes": {"startup": NUMBER, "count": NUMBER},
    # How much a process printed before the call was stopped (a pool that keeps replacing
    # workers that die at once prints one more traceback per worker).
    "output.truncated": {"total": NUMBER},
    "output.repeated": {"count": NUMBER},
    # CPU seconds a busy process had used when a call timed out.
    "state.busy": {"cpu": NUMBER},
    # How long a deadlocked call ran before the sandbox found it deadlocked ("0.8 s"), and
    # the timeout: by default (auto) fitted to this machine's reference times
    # (grader/timeouts.py), and so is the reference's time a timed-out call is told.
    "call.deadlock": {"after": NUMBER + " s", "timeout": NUMBER + " s"},
    "call.blocked": {"after": NUMBER + " s", "timeout": NUMBER + " s"},  # the same, when the cause is known
    "call.timeout": {"timeout": NUMBER + " s"},
    "call.timeout.measured": {"reference": NUMBER + " s"},
}


def _racy_rule(key: str, racy: dict[str, str]) -> Callable[[str], str]:
    """Replace the racy placeholders of the catalogue message ``key`` wherever it appears."""
    parts, names = [], []
    for literal, field, _, _ in string.Formatter().parse(catalogue("en")[key]):
        parts.append(re.escape(literal))
        if field is not None:
            names.append(field)
            parts.append(f"({racy.get(field, OTHER)})")
    pattern = re.compile("".join(parts))

    def replace(match: re.Match[str]) -> str:
        text, start = [], match.start()
        for group, name in enumerate(names, 1):
            text.append(match.string[start:match.start(group)])
            text.append(f"<{name}>" if name in racy else match.group(group))
            start = match.end(group)
        text.append(match.string[start:match.end()])
        return "".join(text)

    return lambda text: pattern.sub(replace, text)


def _path_pattern(*prefixes: str) -> str:
    return "|".join(re.escape(prefix) for prefix in sorted(set(prefixes), key=len, reverse=True))


STDLIB = sysconfig.get_paths()["stdlib"]

# (pattern, replacement), applied in order to every message and output.
RULES: list[tuple[re.Pattern[str], str]] = [
    # exercise-4's lesson is told from its timed calls, which no harness touches: whether a
    # correct Pool's processes overlapped there depends on how fast spawn starts its
    # workers (tasks of a few hundredths of a second). The timings are information only;
    # the lessons' texts are tested in tests/test_diagnoses.py.
    (re.compile(r"^(Why these times|为什么是这些时间)[:：][^\n]*", re.MULTILINE), r"\1: <lesson>"),
    # The sandbox's temporary folders: /tmp/grade-k2j4x9/... (mkdtemp's random suffix, and
    # $TMPDIR differs between machines).
    (re.compile(rf"(?:{_path_pattern('/tmp', tempfile.gettempdir())})/grade-[A-Za-z0-9_]+"), "<tmp>"),
    # Where this Python and this checkout are installed: other machines, other paths.
    (re.compile(_path_pattern(sys.executable, getattr(sys, "_base_executable", sys.executable))), "<python>"),
    (re.compile(_path_pattern(STDLIB, str(Path(STDLIB).resolve()))), "<stdlib>"),
    (re.compile(_path_pattern(str(ROOT))), "<root>"),
    # The line numbers of the standard library's frames change with the Python release.
    (re.compile(r'(<stdlib>/[^"\n:]+(?:", line |:))\d+'), r"\1<n>"),
    # Noise of the kill at a timeout, printed or not depending on the order in which the
    # sandbox's processes die: multiprocessing's resource tracker warns that it was killed
    # (seen under forkserver), and a Pool's worker-handler thread, finding its workers gone,
    # fails to start new ones through a fork server already dead ("Exception in thread
    # Thread-1 (_handle_workers): ... EOFError: unexpected EOF", seen under forkserver on a
    # busy machine). The traceback may be cut short by the output cap, whose note goes too.
    (re.compile(r"^[^\n]*: UserWarning: resource_tracker: process died unexpectedly[^\n]*\n"
                r"(?:[ \t]+warnings\.warn\([^\n]*(?:\n|$))?", re.MULTILINE), ""),
    # The same tracker, when the processes it tracked were killed before they could
    # release their semaphores, warns of "N leaked semaphore objects" or not, depending on
    # whether it got to run before the sandbox ended (seen in 2 of 5 runs of
    # ex06_apply_async/wrong_get_after_with_block, a call stopped as deadlocked).
    (re.compile(r"^[^\n]*: UserWarning: resource_tracker: There appear to be \d+ leaked \w+ objects to clean up "
                r"at shutdown[^\n]*(?:\n|$)(?:[ \t]+warnings\.warn\([^\n]*(?:\n|$))?", re.MULTILINE), ""),
    (re.compile(r"^Exception in thread [^\n]*\((?:_handle_workers|_handle_tasks|_handle_results)\):\n"
                r"Traceback \(most recent call last\):\n(?:[ \t][^\n]*(?:\n|$))*"
                r"(?:\[output truncated: [^\n]*\]$|[^\n]*(?:\n|$))", re.MULTILINE), ""),
    # The resource tracker (a helper process sharing the sandbox's stderr) fails to forget
    # a semaphore it never saw registered, or saw already removed, a race between the
    # processes of a run that is being torn down ("KeyError: '/mp-vowrqrdj'", the name
    # random; seen at a timeout of ex09_drain/wrong_read_one_join_same_position).
    (re.compile(r"^Traceback \(most recent call last\):\n"
                r"  File \"<stdlib>/multiprocessing/resource_tracker\.py\", line <n>, in main\n"
                r"(?:[ \t][^\n]*\n)*KeyError: '/mp-[^'\n]*'(?:\n|$)", re.MULTILINE), ""),
    # Process ids ("process 12345 (target job)"): the kernel's, or a PID namespace's.
    (re.compile(r"\b(process|pool worker) \d+\b"), r"\1 <pid>"),
    # The grader's probe targets (exercise-1) name their process in what they raise and print.
    (re.compile(r"\(pid \d+\)"), "(pid <pid>)"),
    # Pool workers are numbered as they are started ("Process SpawnPoolWorker-7:"): a pool
    # replaces a worker that dies, as often as time allows before the call is stopped.
    (re.compile(r"\b((?:Spawn|Fork|ForkServer)?PoolWorker)-\d+\b"), r"\1-<n>"),
    # Memory addresses in reprs ("<... object at 0x7f3a...>") and in faulthandler dumps.
    (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x<addr>"),
]
RACY_RULES = [_racy_rule(key, racy) for key, racy in RACY.items() if key in catalogue("en")]


def normalise_text(text: str) -> list[str]:
    """``text`` stripped of what varies between runs and machines, as a list of lines
    (split on "\\n" only, so nothing else is lost; no text is no line)."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    for rule in RACY_RULES:
        text = rule(text)
    return text.split("\n") if text else []


SAME_PRINTS = re.compile(r"^(\S{2,}?)\1+$")  # "[][]": one text printed by two processes at once


def output_lines(text: str) -> list[str]:
    """An output, normalised, with what several processes print at the same moment kept
    once: every spawn worker importing a module that prints prints it as many times as
    workers got to it before the pool ended, and their writes interleave ("[][]", then
    two line ends). So a line made of one text repeated counts as that text, blank lines
    go, and a line repeated right after itself is kept once. For the same reason, the note
    that a traceback came again (workers crashing in turn until the call is stopped) is
    there or not depending on how many crashed before the stop: it goes."""
    repeated = normalise_text(catalogue("en")["output.repeated"].replace("{count}", "<count>"))[0]
    lines = [SAME_PRINTS.sub(r"\1", line) for line in normalise_text(text)]
    lines = [line for line in lines if line.strip() and line != repeated]
    return [line for index, line in enumerate(lines) if index == 0 or line != lines[index - 1]]


def normalise(report: dict) -> dict:
    """The part of a ``grade --format json`` report (one exercise) that a golden holds."""
    (exercise,) = report["exercises"]
    return {
        "status": exercise["status"],
        "score": exercise["score"],
        "message": normalise_text(exercise["message"]),
        "hint": exercise.get("hint", ""),
        "checks": [{"name": check["name"], "start_method": check["start_method"], "status": check["status"],
                    "message": normalise_text(check["message"]), "output": output_lines(check["output"])}
                   for check in exercise["checks"]],
    }


def render(golden: dict) -> str:
    """The text of an ``expected_results.json``."""
    return json.dumps(golden, indent=2, ensure_ascii=False) + "\n"


def start_methods(case: Path) -> list[str]:
    """The start methods a case is graded under: its second line may name some
    (``# start methods: fork, spawn``), for a submission whose own code races under another
    one (its verdict the same there, its feedback not); by default, the exercise's."""
    lines = submission_of(case).read_text(encoding="utf-8").splitlines()[1:2]
    match = START_METHODS_LINE.match(lines[0]) if lines else None
    return [method.strip() for method in match.group(1).split(",")] if match else []


def grade_case(case: Path) -> dict:
    """Grade the case's submission with the fixed seed; the normalised result."""
    # A path relative to the course folder (grade's working directory): the same on every machine.
    submission = submission_of(case).relative_to(ROOT)
    methods = [option for method in start_methods(case) for option in ("--start-method", method)]
    return normalise(grade_json("--submission", str(submission), "--seed", SEED, *methods))


# --- the test ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_example(case: Path) -> None:
    expected_file = case / GOLDEN
    verdict, declared = declared_verdict(case)
    assert verdict, f"{submission_of(case)} must start with '# expect: <verdict>'"
    if not expected_file.exists():
        pytest.fail(f"{expected_file.relative_to(ROOT)} is missing: run `{UPDATE_COMMAND} {case_id(case)}`, "
                    "then review the file and commit it")
    got = grade_case(case)
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    if got != expected:
        diff = difflib.unified_diff(render(expected).splitlines(keepends=True), render(got).splitlines(keepends=True),
                                    str(expected_file.relative_to(ROOT)), "the grader now", n=2)
        pytest.fail(f"the grader's feedback differs from the golden:\n{''.join(diff)}\nif the change is intended, "
                    f"run `{UPDATE_COMMAND} {case_id(case)}` and review the diff", pytrace=False)
    assert got["status"] == verdict, f"{submission_of(case).relative_to(ROOT)}: {declared}"
