"""Both catalogues hold the same texts with the same placeholders."""

from __future__ import annotations

import string

import pytest

from grader.i18n import LANGUAGES, catalogue, resolve_language


def placeholders(template: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    english = catalogue("en")
    for language in LANGUAGES:
        other = catalogue(language)
        assert list(other) == list(english), language
        for key, template in english.items():
            assert placeholders(other[key]) == placeholders(template), (language, key)


@pytest.mark.parametrize(("requested", "env", "expected"), [
    ("zh", {}, "zh"), (None, {"GRADE_LANG": "zh"}, "zh"), (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
    (None, {"LANG": "C.UTF-8"}, "en"), ("fr", {}, "en"),
])
def test_language_resolution(monkeypatch: pytest.MonkeyPatch, requested, env, expected) -> None:
    for name in ("GRADE_LANG", "LC_ALL", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert resolve_language(requested) == expected
