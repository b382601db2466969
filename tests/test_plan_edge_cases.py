"""The edge cases of every exercise are in every run's inputs, whatever the seed.

Each check file's ``plan(rng)`` draws the inputs of a grading run. An edge case that a
classic wrong attempt depends on (a line count that does not divide evenly by
``processes``, a repeated ``n``, an empty list...) must be there on every run: drawn only
sometimes, it lets the wrong attempt pass now and then (issue 15: exercise-10's
``count_words`` dropping the lines left over after ``processes`` equal chunks passed in
about 1 run of 3; issue 6 asked for the edge cases of every exercise in every run).

One table per exercise names its edge cases (those docs/exercises.md names, and those a
classic wrong attempt depends on), each with a predicate on the plan the check file
draws; the test loads the plan as ``grade`` does (:func:`grader.check.load_plan`, seeded
``"<seed>:<exercise id>"``) for seeds 0..99 and requires every predicate on each of them.
"""

from __future__ import annotations

import functools
import random
from typing import Callable

import pytest

from conftest import CURRICULUM_IDS, ROOT
from grader.check import Plan, load_plan
from grader.manifest import Exercise, load_course
from grader.sandbox import Call, Ref

SEEDS = range(100)
PIPE_BUFFER = 64 * 1024  # bytes: what the pipe behind a multiprocessing.Queue holds

Predicate = Callable[[Plan], bool]


# --- helpers on a plan ------------------------------------------------------------------

def call(plan: Plan, name: str) -> Call:
    found = [c for c in plan.calls if c.name == name]
    assert len(found) == 1, f"the plan has {len(found)} calls named {name!r}: {[c.name for c in plan.calls]}"
    return found[0]


def arg(plan: Plan, name: str, index: int = 0) -> object:
    return call(plan, name).args[index]


def released_out_of_order(plan: Plan, name: str, keys: list, values: list) -> bool:
    """The ordering harness releases the calls of ``name`` (keyed by ``keys``, standing for
    the results ``values``) so that the second key comes before the first and the results,
    in the order they arrive, are never the expected ones."""
    if plan.order is None or name not in plan.order.calls:
        return False
    order = list(plan.order.calls[name])
    by_key = dict(zip(keys, values))
    return (sorted(order) == sorted(keys) and order.index(keys[1]) < order.index(keys[0])
            and [by_key[key] for key in order] != list(values))


def words(lines: list[str]) -> list[str]:
    return [word for line in lines for word in line.split()]


def remainder_has_words(lines: list[str], processes: int) -> bool:
    """``len(lines)`` does not divide evenly by ``processes``, and the lines left over
    after ``processes`` chunks of ``len(lines) // processes`` hold a word: dropping them
    changes the counts."""
    left = len(lines) % processes
    return left > 0 and bool(words(lines[len(lines) - left:]))


def in_two_casings(lines: list[str]) -> bool:
    """Some word is spelled in two casings (``Pool``, ``POOL``): counts not lower-cased split."""
    spellings: dict[str, set[str]] = {}
    for word in words(lines):
        spellings.setdefault(word.lower(), set()).add(word)
    return any(len(spelt) >= 2 for spelt in spellings.values())


def joined_by(lines: list[str], separator: str) -> bool:
    """Some line has two words with ``separator`` between them."""
    return any(separator in line.strip() for line in lines)


def ex10_texts(plan: Plan) -> list[tuple[list[str], int]]:
    """The non-empty texts of exercise-10's calls, with their ``processes``."""
    return [(c.args[0], c.args[1]) for c in plan.calls if c.args and c.args[0]]


# --- the edge cases, per exercise -------------------------------------------------------

EDGE_CASES: dict[str, dict[str, Predicate]] = {
    "exercise-1": {
        "run_in_process with a target that exits with a code other than 0 and 1": lambda p: (
            arg(p, "process_exit") == Ref("grade_probe.exit_with") and arg(p, "process_exit", 1)[1] in range(2, 10)),
        "run_in_process with a target that raises (exit code 1)": lambda p: arg(p, "process_raise") == Ref(
            "grade_probe.fail"),
        "the targets of the 'returns only after' checks take a noticeable time": lambda p: all(
            arg(p, name) == Ref("grade_probe.record") and arg(p, name, 1)[1] >= 0.1 for name in ("process", "thread")),
    },
    "exercise-2": {
        "importing the module": lambda p: call(p, "import").kind == "import",
        "running the script": lambda p: call(p, "script").kind == "script",
        "square(x) with x outside range(10) (no square the script prints; x * x != x)": lambda p: (
            arg(p, "square") not in range(10)),
    },
    "exercise-3": {
        "collect([])": lambda p: arg(p, "empty") == [],
        "4 or 5 values of n": lambda p: len(arg(p, "values")) in (4, 5),
        "a repeated n (results keyed by n lose one)": lambda p: len(set(arg(p, "values"))) < len(arg(p, "values")),
        "ns never sorted": lambda p: arg(p, "values") != sorted(arg(p, "values")),
        "children finish in an order that is never the order of ns": lambda p: released_out_of_order(
            p, "values", list(range(len(arg(p, "values")))), arg(p, "values")),
    },
    "exercise-4": {
        "3 or 4 tasks": lambda p: len(arg(p, "serial")) in (3, 4),
        "a few hundred thousand iterations per task": lambda p: all(
            100_000 <= n < 1_000_000 for n in arg(p, "serial")),
        "the same tasks for every variant": lambda p: all(
            c.args == (arg(p, "serial"),) for c in p.calls),
        "tasks neither in ascending nor in descending order": lambda p: arg(p, "serial") not in (
            sorted(arg(p, "serial")), sorted(arg(p, "serial"), reverse=True)),
        "calls of work in threaded and multicore return out of task order": lambda p: all(
            released_out_of_order(p, name, arg(p, name), arg(p, name)) for name in ("threaded", "multicore")),
        "the first two calls of work in multicore start together": lambda p: (
            p.align is not None and p.align.parties == 2 and "multicore" in p.align.calls),
        "timed (measured alone)": lambda p: p.timed,
    },
    "exercise-5": {
        "processes=3": lambda p: arg(p, "three", 1) == 3 and len(arg(p, "three")) > 3,
        "another size (1, 4 or 5)": lambda p: arg(p, "other_size", 1) in (1, 4, 5) and len(arg(p, "other_size")) > 0,
        "the default processes=None": lambda p: len(call(p, "default").args) == 1 and len(arg(p, "default")) > 0,
        "multicore([], 2)": lambda p: call(p, "empty").args == ([], 2),
        "negative values among those of processes=3": lambda p: any(x < 0 for x in arg(p, "three")),
        "two values with distinct squares, two workers, released out of order": lambda p: (
            arg(p, "unordered", 1) == 2 and len({x * x for x in arg(p, "unordered")}) == 2
            and released_out_of_order(p, "unordered", arg(p, "unordered"), arg(p, "unordered"))),
    },
    "exercise-6": {
        "one(x) with a random x": lambda p: len(call(p, "one").args) == 1 and isinstance(arg(p, "one"), int),
        "8 to 16 values for many (tasks to submit before the first get)": lambda p: 8 <= len(arg(p, "many")) <= 16,
    },
    "exercise-7": {
        "add_in_child: start, delta and start + delta all have a fractional part (type code 'i' fails)": lambda p: all(
            not float(x).is_integer() for x in (*call(p, "value").args, sum(call(p, "value").args))),
        "squares: workers from 2 to 4, n at least 200 * workers and at most 2,000": lambda p: (
            2 <= arg(p, "squares", 1) <= 4 and 200 * arg(p, "squares", 1) <= arg(p, "squares") <= 2_000),
        "squares: n never divides evenly by workers": lambda p: arg(p, "squares") % arg(p, "squares", 1) != 0,
        "squares: fewer slots than workers": lambda p: 0 < arg(p, "few") < arg(p, "few", 1),
        "squares: with fewer slots than workers, a slot an unwritten Array gets wrong (n >= 2)": lambda p: (
            arg(p, "few") >= 2),
    },
    "exercise-8": {
        "two runs": lambda p: [c.function for c in p.calls] == ["multicore", "multicore"],
        "times between 20,000 and 30,000": lambda p: all(20_000 <= c.args[0] <= 30_000 for c in p.calls),
        "the two processes begin their loops together": lambda p: (
            p.align is not None and p.align.function == "job" and p.align.parties == 2),
    },
    "exercise-9": {
        "two payloads of 1,000,000 items or more (far larger than a pipe's buffer)": lambda p: (
            len(arg(p, "large")) == 2 and all(size >= 1_000_000 > 10 * PIPE_BUFFER for size in arg(p, "large"))),
        "the large payloads first": lambda p: p.calls[0].name == "large",
        "2 to 4 small sizes": lambda p: 2 <= len(arg(p, "small")) <= 4,
        "a size of 0 among the small ones": lambda p: 0 in arg(p, "small"),
        "a small size that is not 0": lambda p: any(arg(p, "small")),
        "children finish out of order (the second before the first)": lambda p: all(
            released_out_of_order(p, name, list(range(len(arg(p, name)))),
                                  [[i] * size for i, size in enumerate(arg(p, name))])
            for name in ("large", "small")),
    },
    "exercise-10": {
        "count_words([], 2)": lambda p: call(p, "empty").args == ([], 2),
        "30 to 80 lines with processes=2": lambda p: arg(p, "two", 1) == 2 and 30 <= len(arg(p, "two")) <= 80,
        "a shorter text with processes=3": lambda p: (
            arg(p, "three", 1) == 3 and 2 <= len(arg(p, "three")) < len(arg(p, "two"))),
        "line counts that do not divide evenly by processes, the lines left over holding words": lambda p: all(
            remainder_has_words(lines, processes) for lines, processes in ex10_texts(p)),
        "a word in two casings (Pool, POOL)": lambda p: in_two_casings(arg(p, "two")),
        "a run of spaces between two words": lambda p: joined_by(arg(p, "two"), "  "),
        "a tab between two words": lambda p: joined_by(arg(p, "two"), "\t"),
        "an empty line": lambda p: "" in arg(p, "two"),
    },
}

CASES = [(exercise, name) for exercise, table in EDGE_CASES.items() for name in table]


@functools.cache
def exercises() -> dict[str, Exercise]:
    return {exercise.id: exercise for exercise in load_course(ROOT).exercises}


@functools.cache
def plans(exercise_id: str) -> tuple[Plan, ...]:
    """The plans ``grade --seed N`` draws for seeds 0..99 (seeded as the scheduler does)."""
    exercise = exercises()[exercise_id]
    return tuple(load_plan(exercise, f"{seed}:{exercise.id}") for seed in SEEDS)


def test_every_exercise_has_a_table() -> None:
    assert sorted(EDGE_CASES) == sorted(CURRICULUM_IDS), "every exercise of the course needs a table of edge cases"


@pytest.mark.parametrize(("exercise_id", "edge_case"), CASES, ids=[f"{e}: {n}" for e, n in CASES])
def test_edge_case_in_every_run(exercise_id: str, edge_case: str) -> None:
    predicate = EDGE_CASES[exercise_id][edge_case]
    missing = [seed for seed, plan in zip(SEEDS, plans(exercise_id)) if not predicate(plan)]
    assert not missing, (f"{exercise_id}: {edge_case!r} is missing from the inputs of {len(missing)} of "
                         f"{len(SEEDS)} runs (grade {exercise_id} --seed N, N in {missing[:10]})")


class NoNegatives(random.Random):
    """Draws no negative number from ``randint``: the rare run where none comes up."""

    def randint(self, a: int, b: int) -> int:
        return super().randint(max(a, 0), b) if b >= 0 else super().randint(a, b)


def test_negative_values_even_when_none_is_drawn() -> None:
    """Exercise-5's values hold a negative one even when the draw gave none (a chance of
    about one in a million per run: seeds 0..99 never show it)."""
    from grader.checks import check_ex05_pool_map

    for seed in range(20):
        plan = check_ex05_pool_map.plan(NoNegatives(seed))
        assert EDGE_CASES["exercise-5"]["negative values among those of processes=3"](plan), seed
