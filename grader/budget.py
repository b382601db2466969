"""A check's time for building its feedback: past it, the feedback is the plain message.

The explanations of a failure (:mod:`grader.diagnose`, the drawn :mod:`grader.timeline`)
are read from records the submission's processes wrote: untrusted, possibly huge or
made to be slow to explain. They are linear in the records' size; this is the backstop.
Each check gets a :class:`FeedbackBudget` of :data:`FEEDBACK_BUDGET_S` seconds (the
``run`` fixture gives its :class:`~grader.check.Run` a new one when the check starts).
An explanation runs through :meth:`FeedbackBudget.explain`: in a daemon thread that the
check waits for at most the time left, after which the check goes on with the plain
message its caller gave (the failure without the explanation: "the call did not finish
within 5 s", "raised ValueError", no timeline). The verdict never depends on the
budget: only the text explaining it does.

Not SIGALRM (pytest-timeout's, and only the main thread gets it), and not a cooperative
deadline (every loop of every explanation would have to check it). A thread cannot be
killed: one given up is sent :class:`FeedbackOverrun`, raised in it at its next Python
instruction, so that it stops burning CPU beside the rest of the grading; one blocked in
a single long C call (a regex on a huge text) holds the GIL until that call returns, so
the inputs of such calls stay bounded by the sandbox's record limits
(``grader/sandbox/records.py``), and being a daemon it never holds up the grader's exit.
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T")

FEEDBACK_BUDGET_S = 3.0  # per check: every explanation of its failure together, timeline included


class FeedbackOverrun(BaseException):
    """Raised inside an explanation given up (its check's budget was spent), to stop it.
    A ``BaseException``: an ``except Exception`` of the explanation does not catch it."""


class _Explanation(threading.Thread):
    """One explanation, run apart so that its check can stop waiting for it."""

    def __init__(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__(name=f"feedback:{getattr(function, '__qualname__', '?')}", daemon=True)
        self.function, self.args, self.kwargs = function, args, kwargs
        self.lock = threading.Lock()
        self.result: tuple[bool, Any] | None = None  # (raised, value or exception), once done
        self.abandoned = False

    def run(self) -> None:
        try:
            try:
                result = (False, self.function(*self.args, **self.kwargs))
            except FeedbackOverrun:
                raise
            except BaseException as error:  # a fault of the grader (or pytest's outcome): raised in the check
                result = (True, error)
            with self.lock:  # the check gives up under this lock: a result is kept or stopped, never both
                if not self.abandoned:
                    self.result = result
        except FeedbackOverrun:
            pass

    def wait(self, timeout: float) -> tuple[bool, Any] | None:
        """The result, if the explanation ended within ``timeout`` seconds; else None,
        and the explanation is told to stop."""
        self.join(max(timeout, 0.0))
        with self.lock:
            if self.result is None:
                self.abandoned = True
                _interrupt(self)
            return self.result


def _interrupt(thread: threading.Thread) -> None:
    """Raise :class:`FeedbackOverrun` in ``thread`` at its next Python instruction."""
    if thread.ident is None:
        return
    try:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(FeedbackOverrun))
    except (AttributeError, OSError):  # no C API here: the daemon thread runs on, unwaited for
        pass


@dataclass
class FeedbackBudget:
    """The time one check may spend building its feedback, wall-clock, in seconds."""

    seconds: float = field(default_factory=lambda: FEEDBACK_BUDGET_S)
    spent: float = 0.0
    given_up: list[str] = field(default_factory=list)  # the explanations that fell back, in order

    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    def explain(self, function: Callable[..., T], *args: Any, plain: T, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` if it returns within the time left, else ``plain``
        (at once when none is left). Its exceptions are raised here, as if called here.
        Called from inside an explanation (``unfinished`` asking for ``Run.cause``), it
        runs there: the outer one's wait already bounds it."""
        if isinstance(threading.current_thread(), _Explanation):
            return function(*args, **kwargs)
        name = getattr(function, "__qualname__", repr(function))
        if self.left() <= 0.0:
            self.given_up.append(name)
            return plain
        explanation = _Explanation(function, args, kwargs)
        began = time.monotonic()
        explanation.start()
        try:
            result = explanation.wait(self.left())
        finally:
            self.spent += time.monotonic() - began
        if result is None:
            self.given_up.append(name)
            return plain
        raised, value = result
        if raised:
            raise value
        return value
