"""Running untrusted submissions: the grader side of the sandbox.

``session`` starts a supervisor process that owns the submission's process tree and
returns plain data (:class:`~grader.sandbox.session.SessionResult`). The files in
``boot/`` are what runs inside the sandbox; they use the standard library only.
"""

from grader.sandbox.session import (
    Align,
    Call,
    CallOutcome,
    Limits,
    Order,
    Ref,
    SessionResult,
    SessionSpec,
    run_session,
    start_session,
)

__all__ = [
    "Align",
    "Call",
    "CallOutcome",
    "Limits",
    "Order",
    "Ref",
    "SessionResult",
    "SessionSpec",
    "run_session",
    "start_session",
]
