"""Checks for exercise-10 (word-count): map/reduce of word counts with a Pool.

Wrong counts are explained when their shape tells why (:func:`_why_counts_wrong`): a
child that died of an error; ``None`` (printed instead of returned, or no ``return``);
keys that are single characters (a line gone through as if it were a list of lines:
``pool.map(count_chunk, lines)``) or whole lines; counts that are exactly those of every
line but a block of lines (:func:`uncounted_lines`), named as the remainder of chunks
of ``len(lines) // processes`` when it is that.
"""

from __future__ import annotations

import collections
import random

from grader.check import Call, CallOutcome, Plan, Run
from grader.diagnose import children_died, returned_none

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
        run.expect_value(outcome, _expected(outcome.call.args[0]), cause=lambda: _why_counts_wrong(run, outcome))


def _why_counts_wrong(run: Run, outcome: CallOutcome) -> str:
    """Why ``count_words`` returned wrong counts, when their shape tells; '' otherwise."""
    if died := children_died(outcome, run):
        return died
    if none := returned_none(outcome, run):
        return none
    lines, processes = outcome.call.args
    got, expected = outcome.value, _expected(lines)
    if not (isinstance(got, dict) and all(isinstance(count, int) and not isinstance(count, bool)
                                          for count in got.values())):
        return ""  # not counts (an object's repr, pairs of other keys, a summary): the difference says what it is
    if got and all(len(word) == 1 for word in got) and any(len(word) > 1 for word in expected):
        return run.t("ex10.why.characters")
    if any(any(char.isspace() for char in word) for word in got):
        return run.t("ex10.why.whole_lines")
    block = uncounted_lines(lines, got)
    if block is None:
        return ""
    first, end = block
    remainder = len(lines) % processes
    if end == len(lines) and first >= len(lines) - remainder and not _expected(lines[len(lines) - remainder:first]):
        size = len(lines) // processes
        return run.t("ex10.why.remainder_dropped", count=remainder, first=len(lines) - remainder, n=len(lines),
                     processes=processes, size=size, covered=size * processes)
    return run.t("ex10.why.lines_not_counted", first=first, end=end, count=end - first, total=len(lines))


def uncounted_lines(lines: list[str], got: dict[str, int]) -> tuple[int, int] | None:
    """``(first, end)`` when ``got`` holds exactly the counts of the words of every line
    but ``lines[first:end]`` (a block that begins and ends with a line holding words:
    the one that ends last, else the shortest), else None (also when nothing was
    counted: the value says it all)."""
    missing = collections.Counter(_expected(lines))
    missing.subtract(got)
    if not got or any(word not in missing for word in got) or any(count < 0 for count in missing.values()):
        return None
    missing = +missing  # the words some line holds more of than were counted
    words = [collections.Counter(word.lower() for word in line.split()) for line in lines]
    blocks = []
    for first in (index for index in range(len(lines)) if missing and words[index]):
        block: collections.Counter[str] = collections.Counter()
        for end in range(first + 1, len(lines) + 1):
            block += words[end - 1]
            if any(block[word] > missing[word] for word in words[end - 1]):
                break
            if block == missing:  # its last line holds words: the one that made it equal
                blocks.append((first, end))
                break
    return max(blocks, key=lambda block: (block[1] == len(lines), block[0] - block[1]), default=None)


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
