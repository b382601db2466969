"""Every student-facing text, from one catalogue per language (``en.yaml``, ``zh.yaml``).

Language, first match wins: ``--lang``, ``GRADE_LANG``, then ``LC_ALL``/``LANG``
starting with ``zh``; otherwise English.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh")
_FOLDER = Path(__file__).parent


def resolve_language(requested: str | None = None) -> str:
    for candidate in (requested, os.environ.get("GRADE_LANG")):
        if candidate:
            return candidate if candidate in LANGUAGES else "en"
    locale = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    with open(_FOLDER / f"{language}.yaml", encoding="utf-8") as file:
        return yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def text(key: str, language: str = "en", **params: object) -> str:
    """The text ``key`` in ``language`` (English when missing), with ``params`` filled in."""
    template = catalogue(language).get(key) or catalogue("en")[key]
    return template.format(**params) if params else template


def columns(value: str) -> int:
    """How many terminal columns ``value`` takes (CJK characters take two)."""
    return sum(2 if ord(char) >= 0x1100 else 1 for char in value)


def fit(value: str, width: int) -> str:
    """``value`` cut or padded to ``width`` terminal columns."""
    while columns(value) > width:
        value = value[:-1]
    return value + " " * (width - columns(value))
