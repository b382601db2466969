"""Checks for exercise-10 (word-count): map/reduce of word counts with a Pool."""

from __future__ import annotations

import collections
import random

from grader.check import Call, Plan, Run

WORDS = ("queue", "pool", "lock", "value", "array", "process", "thread", "join", "map", "reduce",
         "pickle", "spawn", "fork", "barrier", "pipe", "worker", "task", "result", "chunk", "word")


def plan(rng: random.Random) -> Plan:
    def line(separator: str | None = None, least: int = 0) -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(least, 12))]
        words = [w.upper() if rng.random() < 0.2 else w.title() if rng.random() < 0.2 else w for w in words]
        return (separator or rng.choice((" ", "  ", "\t"))).join(words)

    # Line counts that never divide evenly by `processes` (2, then 3), and texts whose last
    # line holds words: chunks of len(lines) // processes that leave the remainder out
    # lose words in both calls, every run (issue 15).
    count = rng.choice(range(31, 80, 2))
    short = rng.choice([size for size in range(5, 21) if size % 3])
    lines = [line() for _ in range(count)]
    lines[short - 1], lines[count - 1] = line(least=1), line(least=1)
    # In the short text, and so in both: an empty line, words joined by a run of spaces
    # and by a tab, and one word in two casings (Pool, POOL: one word).
    empty, spaces, tab = rng.sample(range(short - 1), 3)
    word = rng.choice(WORDS)
    lines[empty] = ""
    lines[spaces] = line("  ", least=1) + "  " + word.upper()
    lines[tab] = line("\t", least=1) + "\t" + word.title()
    return Plan([Call("two", "count_words", (lines, 2)),
                 Call("three", "count_words", (lines[:short], 3)),
                 Call("empty", "count_words", ([], 2))], weigh_tasks=True)


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
        # The records explain a failure; a pass needs the kernel's facts: the pool's
        # workers spent at least two tasks' ballast of CPU time (every task item is weighed).
        if counted < 2 or not run.worked(outcome, run.kernel(outcome).created(), calls=2):
            run.fail("ex10.chunks", outcome, got=counted)


def test_pool_cleaned_up(run: Run) -> None:
    """Every pool is closed and joined (or terminated by a `with` block) before returning."""
    for name in ("two", "three", "empty"):
        run.returned(name)
