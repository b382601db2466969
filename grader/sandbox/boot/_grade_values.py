"""JSON form of the values that cross the sandbox boundary (never pickle: a result
coming back from a submission is data, not code).

The grader encodes its expected values with the same function, so a check compares
like with like. Long sequences are summarised (length, first items, digest) to keep
results small and fast to compare.
"""

from __future__ import annotations

import hashlib
import json

LONG_SEQUENCE = 5_000


def encode(value, depth: int = 0):
    """Return a JSON-serialisable form of ``value`` (lists and tuples both become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 20:
        return {"__repr__": _short_repr(value), "__type__": type(value).__name__}
    if isinstance(value, (list, tuple)):
        if len(value) > LONG_SEQUENCE:
            return summarise(value, depth + 1)
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: encode(item, depth + 1) for key, item in value.items()}
        return {"__pairs__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return {"__repr__": _short_repr(value), "__type__": type(value).__name__}


def summarise(sequence, depth: int = 0) -> dict:
    items = [encode(item, depth) for item in sequence]
    digest = hashlib.sha256(json.dumps(items, separators=(",", ":")).encode()).hexdigest()
    return {"__summary__": {"len": len(items), "head": items[:5], "sha256": digest}}


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a hostile __repr__ must not break the result
        text = f"<unrepresentable {type(value).__name__}: {error!r}>"
    return text if len(text) <= 300 else text[:300] + "..."
