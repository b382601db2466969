"""JSON form of the values that cross the sandbox boundary (never pickle: a result
coming back from a submission is data, not code).

The grader encodes its expected values with the same function, so a check compares
like with like. Long sequences are summarised (length, first items, digest) to keep
results small and fast to compare.
"""

from __future__ import annotations

try:
    from _sha256 import sha256 as _builtin_sha256
except ImportError:  # Python 3.12 and later
    try:
        from _sha2 import sha256 as _builtin_sha256
    except ImportError:
        _builtin_sha256 = None

LONG_SEQUENCE = 5_000
PLAIN_TYPES = {int, float, str, bool, type(None)}
SMALL_DATA = 256 * 1024


def sha256(data: bytes):
    """A SHA-256 hash object of ``data``: Python's built-in module for small data (the
    ``hashlib`` module loads OpenSSL, milliseconds a sandbox process need not spend for a
    short record), OpenSSL's for large data (several times faster)."""
    if _builtin_sha256 is not None and len(data) <= SMALL_DATA:
        return _builtin_sha256(data)
    import hashlib

    return hashlib.sha256(data)


BALLAST_ROUNDS = 6_000  # under a millisecond of CPU on the 2-core machine the course was measured on
MARK_BEGIN = 34 + 8  # SIGRTMIN + 8: real-time signals no library of the sandbox uses
MARK_END = 34 + 9


def ballast(rounds: int = BALLAST_ROUNDS) -> int:
    """Spend CPU time: ``rounds`` steps of a 64-bit linear congruential generator (no
    shortcut: it takes as long to compute as to run). The result is returned so that
    nothing can be skipped."""
    x = rounds
    for _ in range(rounds):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return x


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
    """Length, first items and a digest of a long sequence."""
    import array
    import json

    types = set(map(type, sequence))
    if types <= {int}:
        try:  # a million ints: hash their machine representation, 50x faster than JSON
            digest = "q:" + sha256(array.array("q", sequence).tobytes()).hexdigest()
            return {"__summary__": {"len": len(sequence), "head": list(sequence[:5]), "sha256": digest}}
        except OverflowError:
            pass
    items = list(sequence) if types <= PLAIN_TYPES else [encode(item, depth) for item in sequence]
    digest = sha256(json.dumps(items, separators=(",", ":")).encode()).hexdigest()
    return {"__summary__": {"len": len(items), "head": items[:5], "sha256": digest}}


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a hostile __repr__ must not break the result
        text = f"<unrepresentable {type(value).__name__}: {error!r}>"
    return text if len(text) <= 300 else text[:300] + "..."
