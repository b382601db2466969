"""How values and calls are abbreviated in feedback (``grader.diagnose.show``,
``grader.check.describe_call``): by their structure, never by cutting their text.

A list keeps its first elements whole, ``...`` for those left out and its last element
when there is room, its brackets balanced; a string literal is never cut inside (a long
one keeps its quotes and both ends: ``'abc...xyz'``); the length is capped.
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from types import SimpleNamespace

import pytest

from grader.check import describe_call
from grader.diagnose import show
from grader.sandbox import Ref

CLOSING = {"(": ")", "[": "]", "{": "}"}


def balanced(text: str) -> bool:
    """Every bracket of ``text`` (outside string literals) closed, in order."""
    stack = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.OP and token.string in CLOSING:
            stack.append(CLOSING[token.string])
        elif token.type == tokenize.OP and token.string in ")]}":
            if not stack or stack.pop() != token.string:
                return False
    return not stack


def string_literals(text: str) -> list[str]:
    """The values of the string literals in ``text`` (tokenize fails on one left open)."""
    return [ast.literal_eval(token.string) for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.STRING]


def strings_of(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_of(item)


def random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.choice(["int", "float", "str", "list", "dict", "bool"] if depth < 3 else ["int", "str"])
    if kind == "int":
        return rng.randint(-10**rng.randint(1, 12), 10**rng.randint(1, 12))
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "bool":
        return rng.choice([True, False, None])
    if kind == "str":
        alphabet = "abc XYZ'\"\\\n\t,[]{}()é中"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 30))]
    return {f"k{i}{rng.choice(['', 'ey', '_long_key_name'])}": random_value(rng, depth + 1)
            for i in range(rng.randint(0, 12))}


def test_a_long_list_is_cut_between_elements_with_its_brackets() -> None:
    assert show([241, 733, 512, 333, 3], 20) == "[241, 733, ..., 3]"
    assert show(list(range(100)), 40) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ..., 99]"
    shown = show([-857, -388, 801, -604, 567, -845, -940, -463, -9, -612, 17, 18, 19, 20], 60)
    assert shown.startswith("[-857, -388, ") and shown.endswith(", ..., 20]") and len(shown) <= 60
    assert "  " not in shown


def test_a_string_is_never_cut_inside() -> None:
    assert show("abcdefghijklmnopqrstuvwxyz", 16) == "'abcdefgh...xyz'"
    assert show("it's", 40) == '"it\'s"'
    lines = ["Thread fork POOL thread", "Fork array value Worker word reduce Pipe map", "pool"] * 5
    shown = show(lines, 60)
    assert shown == "['Thread fork POOL thread', ..., 'pool']"
    assert show(["x" * 100, "y"], 30) == "['xxxxxxxxxxxx...xxxxxx', 'y']"


def test_dicts_objects_and_summaries() -> None:
    counts = {"thread": 26, "fork": 23, "pool": 25, "array": 3, "word": 9, "x": 1, "y": 2, "z": 3}
    assert show(counts, 40) == "{'thread': 26, 'fork': 23, ..., 'z': 3}"
    assert show({"__repr__": "Counter({'a': 1, 'b': 2, 'c': 3, 'dddd': 4})"}, 30) == "Counter({'a': 1, 'b': 2, ...})"
    assert show({"__repr__": "<Foo object at 0x7f3a12345678>"}) == "<Foo object>"
    summary = {"__summary__": {"len": 1_007_465, "head": [0, 0, 0, 0, 0], "sha256": "q:..."}}
    assert show(summary) == "[0, 0, 0, 0, 0, ...] (1,007,465 items)"
    assert show([summary, summary]) == "[[0, 0, 0, 0, 0, ...] (1,007,465 items), [0, 0, 0, 0, 0, ...] (1,007,465 items)]"
    assert show({"__pairs__": [[1, "a"], [2, "b"]]}) == "{1: 'a', 2: 'b'}"


def test_a_call_is_described_with_balanced_arguments() -> None:
    call = SimpleNamespace(kind="function", function="count_words",
                           args=(["Thread fork POOL thread", "Fork array value Worker word reduce Pipe map", "r"] * 9, 2))
    described = describe_call(SimpleNamespace(call=call))
    assert described == "count_words(['Thread fork POOL thread', ..., 'r'], 2)"
    call = SimpleNamespace(kind="function", function="run_in_process", args=(Ref("grade_probe.exit_with"), [3]))
    assert describe_call(SimpleNamespace(call=call)) == "run_in_process(exit_with, [3])"


@pytest.mark.parametrize("seed", range(300))
def test_any_value_is_capped_balanced_and_its_strings_whole(seed: int) -> None:
    rng = random.Random(seed)
    value = random_value(rng)
    limit = rng.randint(5, 120)
    shown = show(value, limit)
    assert len(shown) <= limit, shown
    assert balanced(shown), shown
    strings = set(strings_of(value))
    for literal in string_literals(shown):  # each one whole (it parses): a string of the value, or its two ends
        head, cut, tail = literal.partition("...")
        assert literal in strings or cut and any(s.startswith(head) and s.endswith(tail) for s in strings), \
            (literal, shown)
    if len(repr(value)) <= limit:
        assert shown == repr(value)
