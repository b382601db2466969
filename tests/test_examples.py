"""Golden example submissions: one folder per example, holding the submission and the
verdict it must get (``expected_results.json``), in the manner of exercism's test runner.

The inputs are drawn with a fixed seed, so every value a message shows is reproducible
and is compared. What is compared is the whole feedback of the exercise (status, score,
message) and of every check (name, start method, status, message, output), passed
through :func:`normalise`, which strips only what varies from run to run or machine to
machine (see ``RULES`` and ``RACY``). The durations are left out.

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
from grader.i18n import catalogue

EXAMPLES = ROOT / "tests" / "examples"
GOLDEN = "expected_results.json"
SEED = "20261127"
UPDATE_COMMAND = "python tests/update_goldens.py"
CASES = sorted(path.parent for path in EXAMPLES.glob("ex*/*/ex*.py"))


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
    # How many updates a race lost, and so the total, vary from run to run. Which of the
    # runs is the first to lose updates is itself a race (run 1 often, run 2 sometimes),
    # and the expected total is that run's, so both go too; {runs} stays.
    "ex08.lost_updates": {"expected": NUMBER, "run": NUMBER, "got": NUMBER, "lost": NUMBER},
    # Wall-clock timings of exercise-4 and their ratio.
    "ex04.timings": {"serial": NUMBER, "threads": NUMBER, "processes": NUMBER, "speedup": NUMBER},
    # CPU seconds a busy process had used when a call timed out.
    "state.busy": {"cpu": NUMBER},
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
                r"(?:[ \t]+warnings\.warn\([^\n]*\n)?", re.MULTILINE), ""),
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
    (re.compile(r"\bprocess \d+\b"), "process <pid>"),
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


def normalise(report: dict) -> dict:
    """The part of a ``grade --format json`` report (one exercise) that a golden holds."""
    (exercise,) = report["exercises"]
    return {
        "status": exercise["status"],
        "score": exercise["score"],
        "message": normalise_text(exercise["message"]),
        "checks": [{"name": check["name"], "start_method": check["start_method"], "status": check["status"],
                    "message": normalise_text(check["message"]), "output": normalise_text(check["output"])}
                   for check in exercise["checks"]],
    }


def render(golden: dict) -> str:
    """The text of an ``expected_results.json``."""
    return json.dumps(golden, indent=2, ensure_ascii=False) + "\n"


def submission_of(case: Path) -> Path:
    (submission,) = case.glob("ex*.py")
    return submission


def grade_case(case: Path) -> dict:
    """Grade the case's submission with the fixed seed; the normalised result."""
    # A path relative to the course folder (grade's working directory): the same on every machine.
    submission = submission_of(case).relative_to(ROOT)
    return normalise(grade_json("--submission", str(submission), "--seed", SEED))


def declared_verdict(case: Path) -> tuple[str | None, str]:
    """The verdict the submission's first line (``# expect: failed — why``) declares, and the line."""
    first = submission_of(case).read_text(encoding="utf-8").splitlines()[:1]
    match = re.match(r"# expect: (\w+)", first[0]) if first else None
    return (match.group(1) if match else None), (first[0] if first else "")


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
