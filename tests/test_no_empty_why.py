"""A failure never shows an empty line where its cause would go (an empty "Why:").

A catalogue text such as ``value.wrong`` ends with the cause on a line of its own
(``{difference}``); when no cause is known, that line is left out of the failure
(:class:`grader.check.CheckFailed`), so no output format (text, JSON, JUnit, Markdown,
GitHub, Gradescope: all show the check's message) prints it.
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from grader.check import CheckFailed
from grader.diagnose import Said
from grader.i18n import LANGUAGES, text

EXAMPLES = ROOT / "tests" / "examples"
LABELS = ("Why:", "原因：")  # the label of a cause line, in each language


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_cause_nobody_knows_leaves_no_line(language: str) -> None:
    said = text("value.wrong", language, call="count_words([], 2)", expected="{}", got="None", difference="")
    failure = CheckFailed(Said.of(said, "value.wrong", {}))
    assert said.endswith("\n")  # the catalogue's text has the cause's line, empty
    assert str(failure) == said[:-1]  # that line, and nothing else, is gone
    assert failure.causes == ("value.wrong",)  # the causes are the message's, as before


def test_an_empty_line_inside_a_message_goes_too() -> None:
    cause = Said.of(text("diff.truncated", "en"), "diff.truncated", {})
    failure = CheckFailed(Said.of(f"Expected: 1.5\n\n{cause}\n", "value.wrong", {"difference": cause}))
    assert str(failure) == f"Expected: 1.5\n{cause}"
    assert failure.causes == ("diff.truncated", "value.wrong")


def test_no_golden_feedback_has_an_empty_line_or_an_empty_why() -> None:
    goldens = sorted(EXAMPLES.glob("*/*/expected_results.json"))
    assert goldens
    for golden in goldens:
        document = json.loads(golden.read_text(encoding="utf-8"))
        for check in document["checks"]:
            where = f"{golden.relative_to(ROOT)}: {check['name']}[{check['start_method']}]"
            assert all(line.strip() for line in check["message"]), where
            assert not any(line.strip() in LABELS for line in check["message"]), where
