"""Checks for exercise-10 (word-count): map/reduce of word counts with a Pool."""

from __future__ import annotations

import collections
import random

from grader.check import Call, Plan, Run

WORDS = ("queue", "pool", "lock", "value", "array", "process", "thread", "join", "map", "reduce",
         "pickle", "spawn", "fork", "barrier", "pipe", "worker", "task", "result", "chunk", "word")


def plan(rng: random.Random) -> Plan:
    def line() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
        words = [w.upper() if rng.random() < 0.2 else w.title() if rng.random() < 0.2 else w for w in words]
        return rng.choice((" ", "  ", "\t")).join(words)

    lines = [line() for _ in range(rng.randint(30, 80))]
    lines[rng.randrange(len(lines))] += " " + rng.choice(WORDS).upper()  # mixed case, always
    return Plan([Call("two", "count_words", (lines, 2)),
                 Call("three", "count_words", (lines[: rng.randint(5, 20)], 3)),
                 Call("empty", "count_words", ([], 2))])


def _expected(lines: list[str]) -> dict[str, int]:
    return dict(collections.Counter(w.lower() for line in lines for w in line.split()))


def test_counts(run: Run) -> None:
    for name in ("two", "three", "empty"):
        outcome = run.returned(name)
        run.expect_value(outcome, _expected(outcome.call.args[0]))


def test_chunks_counted_in_pool_workers(run: Run) -> None:
    """Pool tasks must return partial counts (a dict/Counter or (word, count) pairs) for
    at least two chunks: workers that only pre-process lines do not count."""
    for name in ("two", "three"):
        outcome = run.returned(name)
        counted = sum(1 for task in outcome.trace.tasks() for kind in task.get("results", [])
                      if kind in ("mapping", "pairs"))
        if counted < 2:
            run.fail("ex10.chunks", outcome, got=counted)


def test_pool_cleaned_up(run: Run) -> None:
    """Every pool is closed and joined (or terminated by a `with` block) before returning."""
    for name in ("two", "three", "empty"):
        run.returned(name)
