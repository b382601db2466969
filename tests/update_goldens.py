"""Rewrite the goldens of the example submissions from the current grader.

    python tests/update_goldens.py                      # every case
    python tests/update_goldens.py ex03_queue/wrong_nested_target ex08_lock

A case is named ``<exercise folder>/<case folder>`` (as in the test ids of
tests/test_examples.py), or by its folder's path; an exercise folder alone names all its
cases. Each case is graded with the test's fixed seed and normalised by the test's own
function, and its ``expected_results.json`` is written when it changed. The files that
changed are listed: review their diff before committing them. A case whose grade differs
from the verdict its submission declares (``# expect: ...``) is pointed out too; one where
the grader itself failed (a check with status ``error``, or an exercise not graded when
its submission does not declare ``error``) is not written.
Exit status: 0, 1 when a case could not be graded, 2 for an unknown case.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

from test_examples import CASES, EXAMPLES, GOLDEN, ROOT, case_id, declared_verdict, grade_case, render  # noqa: E402


def select(names: list[str]) -> list[Path]:
    """The cases ``names`` stand for (all when none), in order; exits 2 on an unknown name."""
    if not names:
        return CASES
    by_id = {case_id(case): case for case in CASES}
    selected: list[Path] = []
    for name in names:
        path = Path(name).resolve()
        key = path.relative_to(EXAMPLES).as_posix() if path.is_relative_to(EXAMPLES) else name.strip("/")
        found = [case for cid, case in by_id.items() if cid == key or cid.startswith(key + "/")]
        if not found:
            print(f"update_goldens.py: unknown case {name!r}; the cases are:\n  " + "\n  ".join(by_id),
                  file=sys.stderr)
            sys.exit(2)
        selected += [case for case in found if case not in selected]
    return selected


def update(case: Path) -> tuple[str, str]:
    """Grade ``case`` and write its golden if it changed: (what happened, note)."""
    golden = case / GOLDEN
    got = grade_case(case)
    verdict, declared = declared_verdict(case)
    # A check the grader could not evaluate, or an exercise it could not grade when the
    # submission does not declare that, is a grader fault: never the verdict to keep.
    faults = sorted({f"{check['name']}[{check['start_method']}]" for check in got["checks"] if check["status"] == "error"})
    if got["status"] == "error" and verdict != "error":
        faults.insert(0, "the exercise (" + " ".join(got["message"][:1])[:200] + ")")
    if faults:
        raise RuntimeError(f"the grader failed in {', '.join(faults)}: golden left as it was")
    text = render(got)
    before = golden.read_text(encoding="utf-8") if golden.exists() else None
    if text != before:
        golden.write_text(text, encoding="utf-8")
    note = "" if got["status"] == verdict else f"graded {got['status']}, but the submission declares: {declared}"
    return ("created" if before is None else "unchanged" if text == before else "changed"), note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help="ex03_queue/wrong_nested_target, or ex03_queue")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="cases graded at the same time (default 2)")
    args = parser.parse_args(argv)
    cases = select(args.cases)
    started = time.monotonic()
    outcomes: dict[str, list[str]] = {"created": [], "changed": [], "unchanged": [], "failed": []}
    notes: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(update, case): case for case in cases}
        for future in as_completed(futures):
            case = futures[future]
            golden = (case / GOLDEN).relative_to(ROOT)
            try:
                outcome, note = future.result()
            except Exception as error:  # noqa: BLE001 - reported, the other cases go on
                outcome, note = "failed", f"could not be graded: {type(error).__name__}: {error}"
            outcomes[outcome].append(case_id(case))
            if outcome == "failed":
                print(f"failed    {golden}: {note}", flush=True)
            elif outcome != "unchanged":
                print(f"{outcome:9} {golden}", flush=True)
            if note and outcome != "failed":
                notes.append(f"{case_id(case)}: {note}")
    for note in sorted(notes):
        print(f"note: {note}")
    print(f"{len(cases)} case(s) in {time.monotonic() - started:.0f} s: " + ", ".join(
        f"{len(names)} {outcome}" for outcome, names in outcomes.items() if names))
    return 1 if outcomes["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
