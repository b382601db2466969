"""Explanations of what went wrong in a call, in plain words for the student.

Reads a :class:`~grader.sandbox.CallOutcome` (exception, exit status, leftover
processes, stacks at a timeout) and names the likely cause: the missing main guard, an
unpicklable lambda, a process blocked on a full pipe, a busy loop, an output flood.
"""

from __future__ import annotations

import ast
import re
import signal
from typing import TYPE_CHECKING

from grader.i18n import catalogue
from grader.results import Status
from grader.sandbox import CallOutcome, Ref
from grader.sandbox.session import BOOT_DIR

if TYPE_CHECKING:
    from grader.check import CheckFailed, Run

FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')
THREAD = re.compile(r"^(Current thread|Thread) (0x[0-9a-f]+)")
BUSY_CPU_SHARE = 0.5

# Where a blocked thread's innermost frames are, and what that means: (file suffix,
# function names, catalogue key). The first match from the innermost frame wins.
WAIT_POINTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("multiprocessing/queues.py", ("_feed",), "wait.feeder"),
    ("multiprocessing/queues.py", ("get",), "wait.queue_get"),
    ("multiprocessing/queues.py", ("put",), "wait.queue_put"),
    ("multiprocessing/queues.py", ("_finalize_join",), "wait.feeder_join"),
    ("multiprocessing/process.py", ("join",), "wait.join"),
    ("multiprocessing/pool.py", ("get", "wait"), "wait.pool_result"),
    ("multiprocessing/pool.py", ("join", "_terminate_pool"), "wait.pool_join"),
    ("multiprocessing/pool.py", ("map", "starmap"), "wait.pool_result"),
    ("multiprocessing/synchronize.py", ("__enter__", "acquire"), "wait.lock"),
    ("multiprocessing/synchronize.py", ("wait",), "wait.condition"),
    ("multiprocessing/connection.py", ("recv", "recv_bytes", "_recv", "_recv_bytes", "poll", "wait"),
     "wait.pipe_recv"),
    ("multiprocessing/connection.py", ("send", "send_bytes", "_send", "_send_bytes"), "wait.pipe_send"),
    ("/queue.py", ("get",), "wait.thread_queue_get"),  # queue.Queue, the threads' queue
    ("threading.py", ("join", "_wait_for_tstate_lock"), "wait.thread_join"),
    ("_grade_runtime.py", ("_rendezvous",), "wait.rendezvous"),
)


class Said(str):
    """A text of the catalogue that remembers the keys it was made from: its own key
    last, the keys of the texts filled into it (more specific: the cause) first."""

    causes: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, key: str, params: dict[str, object]) -> Said:
        said = cls(text)
        said.causes = tuple(dict.fromkeys(causes_of(*params.values()) + (key,)))
        return said


def causes_of(*parts: object) -> tuple[str, ...]:
    """The causes of texts, in order, each once (plain strings have none)."""
    found: dict[str, None] = {}
    for part in parts:
        for cause in getattr(part, "causes", ()):
            found.setdefault(cause)
    return tuple(found)


def said(text: str, *parts: object) -> Said:
    """``text`` (made of ``parts``) with the causes of ``parts``, in that order."""
    result = Said(text)
    result.causes = causes_of(*parts)
    return result


def started_while_importing(outcome: CallOutcome, run: Run) -> CheckFailed | None:
    """A failure for a call one of whose children, still importing the main module,
    tried to start a process (the runtime's ``start_while_importing``), else None.

    It comes before any other diagnosis: whether such a call then hangs (a Pool replaces
    its crashed workers for ever), raises (a Pool found with no worker at that instant)
    or leaves its pool running is chance; the missing main guard is not."""
    from grader.check import CheckFailed, describe_call

    if not outcome.trace.of("start_while_importing"):
        return None
    message = run.t("call.start_while_importing", call=describe_call(outcome))
    cause = run.t("cause.main_guard", method=run.start_method)
    return CheckFailed(message + "\n" + cause, output=_all_output(outcome), causes=causes_of(cause, message))


def unfinished(outcome: CallOutcome, run: Run, plainly: bool = False) -> CheckFailed | None:
    """A failure for a call that did not finish (timeout, crash, never ran), else None.

    ``plainly``: the same failure (None just as often) without what the records explain
    (the cause, who waited where, where the function is defined): what it says when its
    feedback budget is spent (:mod:`grader.budget`)."""
    from grader.check import CheckFailed, describe_call

    call = describe_call(outcome)
    if run.session.error and outcome.status in ("not_run", "crashed"):
        return CheckFailed(run.t("call.supervisor_killed", call=call), output=_all_output(outcome))
    if outcome.status == "timeout":
        cause = "" if plainly else timeout_cause(outcome, run)
        crashing = any(key in CRASH_CAUSES for key in causes_of(cause))
        message = (run.t("call.timeout", call=call, timeout=seconds(run.session.spec.timeout_s))
                   if outcome.deadlock_s is None else  # found deadlocked before its timeout
                   # with a known cause, the header does not call it a deadlock: the cause says what it was
                   run.t("call.blocked" if cause else "call.deadlock", call=call, after=f"{outcome.deadlock_s:.1f} s",
                         timeout=seconds(run.session.spec.timeout_s)))
        # Children that crash as they start (and are replaced, by a Pool) are the cause; which
        # of them was where at the moment the call was stopped says nothing more.
        summary = "" if crashing or plainly else hang_summary(outcome, run, explain=not cause)
        reference = reference_time(outcome, run) if outcome.deadlock_s is None else ""
        parts = [part for part in (message, reference, summary, cause) if part]
        return CheckFailed("\n".join(parts), Status.TIMEOUT, _all_output(outcome),
                           causes=causes_of(cause) + _hang_causes(summary, run) + causes_of(message))
    if outcome.status == "not_run":
        if outcome.call.kind != "script" and any(other.call.kind == "import" and other.status == "timeout"
                                                 for other in run.session.outcomes.values()):
            return CheckFailed(run.t("call.not_run_import", call=call, module=run.exercise.module))
        if sum(other.status == "timeout" for other in run.session.outcomes.values()) > 1:
            return CheckFailed(run.t("call.not_run_twice", call=call))
        return CheckFailed(run.t("call.not_run", call=call))
    if outcome.status == "crashed":
        return CheckFailed(_crash(outcome, run, call, plainly), output=_all_output(outcome))
    if outcome.status == "missing":
        place = "" if plainly else _definition_place(run, outcome.call.function)
        if place in ("main_guard", "nested"):
            return CheckFailed(run.t(f"call.missing_{place}", function=outcome.call.function,
                                     module=run.exercise.module))
        return CheckFailed(run.t("call.missing", function=outcome.call.function,
                                 module=run.exercise.module))
    return None


def reference_time(outcome: CallOutcome, run: Run) -> str:
    """How long the reference solution takes for this call on this machine, when the
    timeout was fitted to it (``auto``); '' otherwise."""
    timeout = run.timeout
    if timeout is None or timeout.reference is None:
        return ""
    reference = timeout.reference.of(outcome.call.name, run.start_method)
    return run.t(f"call.timeout.{timeout.source}", reference=f"{reference:.2f} s", method=run.start_method)


def timeout_cause(outcome: CallOutcome, run: Run) -> str:
    """The likely cause of a call that outlived its timeout, when one is known: then the
    hang summary only says who waited where (no generic "deadlock")."""
    cause = _pool_terminated_before_result(outcome, run) or run.cause(outcome) or _thread_queue_across(outcome, run)
    if not cause and outcome.call.kind != "script" and outcome.trace.started(include_pool_workers=True) and (
            outcome.call.kind == "import" or _stuck_importing(outcome, run)):
        cause = run.t("cause.import_starts_processes")
    return cause


def _thread_queue_across(outcome: CallOutcome, run: Run) -> str:
    """The submission's code waited in ``get()`` on a thread queue (``queue.Queue``, seen
    in a stack) after the call had started processes: a forked child gets a copy of that
    queue and puts into its copy, so the item never comes. '' otherwise. (A Manager's
    server process waits in a queue.Queue's get() for its clients: not the submission's
    code, so not this.)"""
    if not outcome.trace.started():
        return ""
    module_file = f"/{run.exercise.module}.py"
    for process in outcome.hang:
        for frames in parse_stack(process.get("stack", "")):
            files = [file for file, _, _ in frames]
            getting = next((index for index, (file, _, function) in enumerate(frames)
                            if file.endswith("/queue.py") and function == "get"), None)
            if getting is not None and any(file.endswith(module_file) for file in files[getting + 1:]):
                return run.t("cause.thread_queue_copied")
    return ""


def _stuck_importing(outcome: CallOutcome, run: Run) -> bool:
    """Whether the main process was still importing the submission (a frame of its
    module-level code) when the call was stopped: a function call imports it first."""
    module_file = f"/{run.exercise.module}.py"
    return any(file.endswith(module_file) and function == "<module>"
               for process in outcome.hang if process.get("is_worker")
               for frames in parse_stack(process.get("stack", "")) for file, _, function in frames)


POOL_RESULT_WAITS = ("get", "wait", "next", "__next__")
# Causes read from the error output of child processes that crash as they start.
CRASH_CAUSES = ("cause.main_guard", "cause.missing_in_child", "cause.missing_in_child_main_guard",
                "cause.missing_in_child_late", "cause.missing_in_child_nested")


def _pool_terminated_before_result(outcome: CallOutcome, run: Run) -> str:
    """A process waited for a Pool's result after terminating that pool: leaving a
    ``with Pool() as pool:`` block terminates the pool, and a task its workers had not
    finished never gets a result. Seen in the trace (a ``pool_terminate`` and, later, a
    ``get`` of the same process, no new pool in between) or in the stack of a process
    waiting for a pool's result after its process terminated a pool."""
    terminations = outcome.trace.of("pool_terminate")
    if not terminations:
        return ""
    created = outcome.trace.pools()

    def terminated_before(pid: int, moment: float) -> bool:
        before = [e["t"] for e in terminations if e["pid"] == pid and e["t"] < moment]
        return bool(before) and not any(p["pid"] == pid and max(before) < p["t"] < moment for p in created)

    if any(terminated_before(get["pid"], get["t"]) for get in outcome.trace.gets()):
        return run.t("cause.pool_terminated")
    for process in outcome.hang:
        pid = outcome.trace.main_pid if process.get("is_worker") else process.get("pid")
        waiting = any(file.endswith("multiprocessing/pool.py") and function in POOL_RESULT_WAITS
                      for frames in parse_stack(process.get("stack", "")) for file, _, function in frames[:6])
        if waiting and pid is not None and terminated_before(pid, float("inf")):
            return run.t("cause.pool_terminated")
    return ""


def _hang_causes(summary: str, run: Run) -> tuple[str, ...]:
    """The catalogue keys of the explanations (``hang.cause.*``) a hang summary gives."""
    found = []
    for key, template in catalogue(run.language).items():
        if key.startswith("hang.cause."):
            literal = max(re.split(r"\{[^{}]*\}", template), key=len)
            if literal and literal in summary:
                found.append(key)
    return tuple(found)


def did_not_return(outcome: CallOutcome, run: Run, plainly: bool = False) -> str:
    """Why a finished call did not return a value: it raised or exited (``plainly``:
    without the line of the traceback and the likely cause)."""
    from grader.check import describe_call

    call = describe_call(outcome)
    if outcome.status == "exited":
        return run.t("call.exited", call=call, code=outcome.exit_code)
    return exception(outcome, run, call, plainly)


def exception(outcome: CallOutcome, run: Run, call: str, plainly: bool = False) -> Said:
    """Name the exception and, when it is a classic one, its cause (``plainly``: only
    name it)."""
    text = outcome.traceback + "\n" + outcome.message
    message = outcome.message.splitlines()[0] if outcome.message.strip() else ""
    head = (run.t("call.raised", call=call, exception=outcome.exception, message=message) if message else
            run.t("call.raised_bare", call=call, exception=outcome.exception))
    if plainly:
        return head
    cause = cause_of(text, outcome, run)
    where = _student_line(outcome.traceback, run)
    parts = [head]
    if where:
        parts.append(run.t("call.where", where=where))
    if cause:
        parts.append(cause)
    return said("\n".join(parts), cause, head)


def cause_of(text: str, outcome: CallOutcome, run: Run) -> str:
    """The likely cause of an error found in a traceback or in the output of children."""
    if "has finished its bootstrapping phase" in " ".join(text.split()):  # the message spans lines
        return run.t("cause.main_guard", method=run.start_method)
    match = re.search(r"Can't get attribute '(\w+)' on <module '([\w.]+)'", text)
    if match:
        return _missing_in_child(match.group(1), match.group(2), run)
    if re.search(r"^(?:_?queue\.)?Empty\b", text, re.MULTILINE):  # raised by get(timeout=...) or get_nowait()
        crashed = "Traceback (most recent call last)" in getattr(outcome, "stderr", "")  # a child's, printed
        return run.t("cause.queue_empty_child_crashed" if crashed else "cause.queue_empty")
    if "ValueError: Pool not running" in text:
        return run.t("cause.pool_not_running")
    if re.search(r"cannot pickle '_thread\.R?lock' object", text, re.IGNORECASE):  # TypeError, Python 3.8 on
        queue_made = creates_thread_queue(run, outcome.call.function)
        return run.t("cause.thread_queue_pickled" if queue_made else "cause.thread_lock_pickled")
    if re.search(r"Can't (?:pickle|get)[^\n]*<lambda>", text):  # a lambda, at the top level or not
        return run.t("cause.pickle_lambda")
    # Python 3.11: local object 'f.<locals>.g'; later: local object <function f.<locals>.g at 0x...>
    match = re.search(r"Can't (?:pickle|get) local object '?(?:<function )?([\w.<>]+)", text)
    if match:
        return run.t("cause.pickle_local", name=match.group(1))
    match = re.search(r"Can't (?:pickle|get attribute) '?([\w.<>]+)'? ", text)
    if match:
        return run.t("cause.pickle_other", name=match.group(1))
    if "[Errno 27] File too large" in text:
        return run.t("cause.output_limit", limit=megabytes(run.session.spec.limits.output_bytes))
    if "MemoryError" in text or "Cannot allocate memory" in text:
        return run.t("cause.memory_limit", limit=megabytes(run.session.spec.limits.memory_bytes))
    if "can't start new thread" in text or "Resource temporarily unavailable" in text:
        return run.t("cause.process_limit")
    if "Too many open files" in text:
        return run.t("cause.open_files")
    if "cannot be interpreted as an integer" in text or "type float" in text and "'i'" in text:
        return run.t("cause.int_value")
    if "ModuleNotFoundError" in text and run.exercise.module in text:
        return run.t("cause.module_not_found", module=run.exercise.module)
    if "SemLock._rebuild" in text and "FileNotFoundError" in text:  # a child opening a lock by its name
        return run.t("cause.lock_gone")
    return ""


# The exception a traceback ends with: the line after its frames (indented), "Name: message".
RAISED = re.compile(r"^Traceback \(most recent call last\):\n(?:[ \t][^\n]*\n)+"
                    r"(?P<exception>[A-Za-z_][\w.]*(?:: [^\n]*)?)$", re.MULTILINE)
# An exception's line at the end of a line, where the tracebacks of processes that died at
# the same moment came out interleaved (no traceback whole).
EXCEPTION_LINE = re.compile(r"\b(?P<exception>[A-Z]\w*(?:Error|Exception)(?:: [^\n]*)?)$", re.MULTILINE)


def children_died(outcome: CallOutcome, run: Run) -> str:
    """Why a call's result is wrong when child processes it created died of an error:
    their work was never done, which explains the result before any arithmetic does.
    Which died is the kernel's fact (an exit code above 0: a pool worker stopped by its
    pool is killed by a signal, and a child that finished exits with 0); the exception
    is the last one in the call's error output, with its likely cause (:func:`cause_of`).
    '' when none died, or the kernel's facts are missing."""
    died = [process for process in outcome.trace.kernel.created() if process.exit is not None and process.exit > 0]
    if not died:
        return ""
    raised = ([match["exception"] for match in RAISED.finditer(outcome.stderr)]
              or [match["exception"] for match in EXCEPTION_LINE.finditer(outcome.stderr)])
    message = (run.t("child.died", count=len(died), exception=_text(raised[-1], 160)) if raised else
               run.t("child.exited", count=len(died), code=died[0].exit))
    cause = cause_of(outcome.stderr, outcome, run)
    return said(message + ("\n" + cause if cause else ""), cause, message)


def returned_none(outcome: CallOutcome, run: Run) -> str:
    """Why a function call returned None where a value was expected: it printed instead
    (it wrote to its standard output), or it ends without returning a value; '' when it
    returned something else."""
    if outcome.value is not None or outcome.call.kind != "function":
        return ""
    key = "value.none_printed" if outcome.stdout.strip() else "value.none"
    return run.t(key, function=outcome.call.function)


def leaks(outcome: CallOutcome, run: Run, plainly: bool = False) -> str:
    """The processes a call left running, each named by what the trace says it was
    (``plainly``: by its pid)."""
    from grader.check import describe_call

    names = ", ".join(f"process {leak['pid']}" if plainly else _leak_name(leak, outcome) for leak in outcome.leaks)
    return run.t("call.leaked", call=describe_call(outcome), count=len(outcome.leaks), processes=names)


def hang_summary(outcome: CallOutcome, run: Run, explain: bool = True) -> str:
    """Who was blocked where when the call timed out (or was found deadlocked) and, if
    ``explain``, what that usually means. multiprocessing's own helper processes are left out."""
    lines, meanings = [], []
    busy = False
    for process in outcome.hang:
        if process.get("is_helper"):  # multiprocessing's own, as the supervisor knows them
            continue
        who = run.t("who.main") if process.get("is_worker") else _who(process["pid"], outcome, run)
        threads = parse_stack(process.get("stack", ""))
        share = process.get("cpu_s", 0.0) / max(outcome.duration_s, 0.001)
        student = _innermost_student(threads, run)
        wait_key = _wait_point(threads, f"/{run.exercise.module}.py")
        # A call found deadlocked had every process asleep, whatever CPU its start-up took.
        if outcome.deadlock_s is None and (share >= BUSY_CPU_SHARE or process.get("state") == "R" and wait_key is None):
            busy = True
            state = run.t("state.busy", where=student or "?", cpu=f"{process.get('cpu_s', 0.0):.1f}")
        elif wait_key is not None:
            state = run.t(wait_key)
            if student:
                state += " " + run.t("state.called_from", where=student)
            meanings.append(wait_key)
        elif student:
            state = run.t("state.in_code", where=student)
        else:
            state = run.t("state.unknown")
        lines.append(f"  - {who}: {state}")
    if not lines:
        return run.t("hang.no_processes")
    summary = run.t("hang.header") + "\n" + "\n".join(lines)
    if not explain:
        return summary
    if "wait.feeder" in meanings or "wait.feeder_join" in meanings:
        summary += "\n" + run.t("hang.cause.full_pipe")
    elif busy:
        summary += "\n" + run.t("hang.cause.busy")
    elif meanings:
        summary += "\n" + run.t("hang.cause.deadlock")
    return summary


def parse_stack(dump: str) -> list[list[tuple[str, int, str]]]:
    """faulthandler's dump as threads, each a list of (file, line, function), innermost first."""
    threads: list[list[tuple[str, int, str]]] = []
    for line in dump.splitlines():
        if THREAD.match(line):
            threads.append([])
        match = FRAME.match(line)
        if match and threads:
            threads[-1].append((match["file"], int(match["line"]), match["func"]))
    return threads


def difference(expected: object, got: object, run: Run) -> str:
    """One sentence on how a wrong value differs from the expected one, when it helps."""
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return run.t("diff.length", expected=len(expected), got=len(got))
        if sorted(map(repr, expected)) == sorted(map(repr, got)):
            return run.t("diff.order")
        for index, (want, have) in enumerate(zip(expected, got)):
            if want != have:
                return run.t("diff.item", index=index, expected=show(want, 80), got=show(have, 80))
    if isinstance(expected, float) and isinstance(got, (int, float)) and int(expected) == got:
        return run.t("diff.truncated")
    if isinstance(expected, dict) and isinstance(got, dict) and "__summary__" not in expected:
        missing = [key for key in expected if key not in got]
        wrong = [key for key in expected if key in got and expected[key] != got[key]]
        extra = [key for key in got if key not in expected]
        return run.t("diff.dict", missing=len(missing), wrong=len(wrong), extra=len(extra),
                     example=show((wrong or missing or extra or ["?"])[0], 80))
    return ""


ELLIPSIS = "..."
SHORTEST = 5  # the shortest abbreviation: "[...]", "'...'", "{...}"
SHORTEST_ITEM = 8  # the first item of a sequence is abbreviated only into at least this much room


def show(value: object, limit: int = 200) -> str:
    """A short, readable rendering of a value in its JSON form, at most ``limit``
    characters (at least ``SHORTEST``).

    It is abbreviated by its structure, never by cutting its text: a list keeps its
    first elements whole, then ``...`` for those left out, then its last element when
    there is room (``[241, 733, ..., 3]``), brackets balanced; a dict likewise
    (``{'a': 1, ..., 'z': 2}``); a long string keeps its quotes and both its ends
    (``'abc...xyz'``); a summarised sequence shows its first items and its length
    (``[0, 0, ...] (1,007,465 items)``); the text of an object's repr is cut between
    its elements, its brackets closed. The time it takes grows with ``limit`` and the
    depth of the value, not with its size.
    """
    return _render(value, max(limit, SHORTEST))


def _flat(value: object, cap: int) -> str | None:
    """The whole rendering of ``value`` if it takes at most ``cap`` characters, else
    None (found without building more than ``cap`` characters of it)."""
    if cap < 1:
        return None
    if isinstance(value, dict) and isinstance(value.get("__summary__"), dict):
        summary = value["__summary__"]
        suffix = _summary_suffix(summary)
        head = _flat_items(list(summary.get("head", [])), cap - len(suffix) - len("[, " + ELLIPSIS + "]"), _flat)
        if head is None:
            return None
        return "[" + ", ".join(head + [ELLIPSIS]) + "]" + suffix
    if isinstance(value, dict) and "__repr__" in value:
        text_ = _object_repr(value)
        return text_ if len(text_) <= cap else None
    if isinstance(value, dict):
        items = _flat_items(_pairs(value), cap - 2, _flat_entry)
        return None if items is None else "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        items = _flat_items(list(value), cap - 2, _flat)
        return None if items is None else "[" + ", ".join(items) + "]"
    if isinstance(value, str) and len(value) + 2 > cap:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * cap + 4:
        return None  # more digits than cap (and repr() of a huge int may refuse)
    text_ = _scalar(value)
    return text_ if len(text_) <= cap else None


def _flat_items(items: list, cap: int, flat) -> list[str] | None:
    """Every item whole, separated by ", ", in at most ``cap`` characters, else None."""
    shown, used = [], 0
    for item in items:
        separator = 2 if shown else 0
        text_ = flat(item, cap - used - separator)
        if text_ is None:
            return None
        shown.append(text_)
        used += separator + len(text_)
    return shown


def _flat_entry(pair: tuple[object, object], cap: int) -> str | None:
    key = _flat(pair[0], cap - 3)
    value = None if key is None else _flat(pair[1], cap - len(key) - 2)
    return None if value is None else f"{key}: {value}"


def _pairs(value: dict) -> list[tuple[object, object]]:
    """A dict's entries; a dict with keys other than strings comes as ``__pairs__``."""
    if isinstance(value.get("__pairs__"), list):
        return [tuple(pair) for pair in value["__pairs__"] if isinstance(pair, (list, tuple)) and len(pair) == 2]
    return list(value.items())


def _summary_suffix(summary: dict) -> str:
    return f" ({summary['len']:,} items)" if isinstance(summary.get("len"), int) else ""


def _object_repr(value: dict) -> str:
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(value["__repr__"]))  # addresses only distract


def _scalar(value: object) -> str:
    if isinstance(value, Ref):
        return value.qualified_name.rsplit(".", 1)[-1]
    try:
        return repr(value)
    except ValueError:  # an int too large for repr()
        return f"<int of {value.bit_length()} bits>" if isinstance(value, int) else "<?>"


def _render(value: object, limit: int) -> str:
    """``value`` in at most ``limit`` characters (``limit >= SHORTEST``)."""
    flat = _flat(value, limit)
    if flat is not None:
        return flat
    if isinstance(value, dict) and isinstance(value.get("__summary__"), dict):
        summary = value["__summary__"]
        suffix = _summary_suffix(summary)
        room = limit - len(suffix)
        if room < SHORTEST + 2:
            suffix, room = "", limit
        return _sequence(list(summary.get("head", [])), "[", "]", room, more=True) + suffix
    if isinstance(value, dict) and "__repr__" in value:
        return _text(_object_repr(value), limit)
    if isinstance(value, dict):
        return _sequence(_pairs(value), "{", "}", limit, entries=True)
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), "[", "]", limit)
    if isinstance(value, str):
        return _string(value, limit)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit + 4:
        return _text(f"<int of {value.bit_length()} bits>", limit)
    return _text(_scalar(value), limit)


def _entry(pair: tuple[object, object], limit: int) -> str:
    """``key: value`` of a dict, abbreviated, in at most ``limit`` characters when
    ``limit`` leaves both at least ``SHORTEST``: the value keeps half the room when it
    needs it."""
    key, value = pair
    full_key, full_value = _flat(key, limit), _flat(value, limit)
    key_length = len(full_key) if full_key is not None else limit
    value_length = len(full_value) if full_value is not None else limit
    key_room = max(SHORTEST, min(key_length, limit - 2 - min(value_length, limit // 2)))
    shown_key = full_key if full_key is not None and len(full_key) <= key_room else _render(key, key_room)
    return f"{shown_key}: {_render(value, max(SHORTEST, limit - 2 - len(shown_key)))}"


def _sequence(items: list, opening: str, closing: str, limit: int, more: bool = False,
              entries: bool = False) -> str:
    """The items (dict entries if ``entries``) between ``opening`` and ``closing``, when
    they do not all fit in ``limit``: the first ones whole (the very first one
    abbreviated when even it does not fit), ``...``, and the last one when it fits in a
    third of the room. ``more``: the items are only the first of a longer sequence."""
    flat, abbreviate = (_flat_entry, _entry) if entries else (_flat, _render)
    room = limit - len(opening) - len(closing)
    last = flat(items[-1], room // 3) if not more and len(items) >= 2 and room // 3 >= SHORTEST else None
    rest = items[:-1] if last is not None else items
    reserved = (len(", " + ELLIPSIS) if more or len(rest) > 1 else 0) + (len(", " + last) if last is not None else 0)
    head: list[str] = []
    used = 0
    for item in rest:
        separator = 2 if head else 0
        space = room - reserved - used - separator
        text_ = flat(item, space)
        if text_ is not None:
            head.append(text_)
            used += separator + len(text_)
            continue
        if not head and space >= SHORTEST_ITEM:
            text_ = abbreviate(item, space)
            if len(text_) <= space:
                head.append(text_)
        break
    elements = head + ([ELLIPSIS] if more or len(head) < len(rest) else []) + ([last] if last is not None else [])
    return opening + ", ".join(elements) + closing


def _string(value: str, limit: int) -> str:
    """A string literal in at most ``limit`` characters: whole, or its quotes around its
    first and last characters with ``...`` between them (never an escape cut in two)."""
    quote = '"' if "'" in value and '"' not in value else "'"  # as repr() chooses

    def pieces(chars: str) -> list[str]:  # each character as the literal writes it
        return ["\\" + char if char == quote else char if char in "'\"" else repr(char)[1:-1] for char in chars]

    room = limit - 2 - len(ELLIPSIS)
    head = _pieces(pieces(value[:room]), room - room // 3)
    tail = _pieces(pieces(value[-room:] if room else "")[::-1], room // 3)[::-1]
    return quote + "".join(head) + ELLIPSIS + "".join(tail) + quote


def _pieces(pieces: list[str], room: int) -> list[str]:
    """The first pieces that fit in ``room`` characters together."""
    kept, used = [], 0
    for piece in pieces:
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return kept


OPENERS = {"[": "]", "(": ")", "{": "}"}


def _text(text: str, limit: int) -> str:
    """Text with no known structure (an object's repr, a number) in at most ``limit``
    characters: whole; else cut after one of its elements (at a ", " outside any string
    literal), with ``...`` and the brackets still open closed (``Counter({'a': 1, ...})``);
    else its two ends around ``...``."""
    if len(text) <= limit:
        return text
    best = None
    stack: list[str] = []
    quote = ""
    index = 0
    while index < min(len(text), limit + 1):  # a cut further on would not fit: its time is the limit's
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in OPENERS:
            stack.append(OPENERS[char])
        elif char in ")]}" and stack and stack[-1] == char:
            stack.pop()
        elif text.startswith(", ", index):
            cut = text[:index] + ", " + ELLIPSIS + "".join(reversed(stack))
            if len(cut) > limit:
                break
            best = cut
        index += 1
    if best is not None:
        return best
    room = limit - len(ELLIPSIS)
    return text[: room - room // 3] + ELLIPSIS + (text[len(text) - room // 3:] if room // 3 else "")


def _crash(outcome: CallOutcome, run: Run, call: str, plainly: bool = False) -> str:
    code = outcome.exit_code
    if code is None:
        return run.t("call.killed", call=call)
    if code < 0:
        name = _signal_name(-code)
        if -code == signal.SIGXCPU:
            return run.t("call.cpu_limit", call=call)
        return run.t("call.signal", call=call, signal=name)
    cause = "" if plainly else cause_of(outcome.stderr, outcome, run)
    message = run.t("call.process_exited", call=call, code=code)
    return said(message + ("\n" + cause if cause else ""), cause, message)


def _missing_in_child(name: str, module: str, run: Run) -> str:
    """A child looked ``name`` up in ``module`` (``__mp_main__``: the script, imported
    afresh by a spawn or forkserver child) and did not find it: say where the
    submission defines it, so the student sees why the child has no such function."""
    place = _definition_place(run, name)
    key = {"main_guard": "cause.missing_in_child_main_guard", "after_start": "cause.missing_in_child_late",
           "nested": "cause.missing_in_child_nested"}.get(place, "cause.missing_in_child")
    return run.t(key, name=name, module=module, method=run.start_method)


def _submission_tree(run: Run) -> ast.Module | None:
    """The graded file, parsed (never imported); None when it cannot be read or parsed."""
    try:
        return ast.parse(run.session.spec.submission.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None


def _definition_place(run: Run, name: str) -> str:
    """Where the submission defines the function ``name``: ``top`` (at the top level),
    ``main_guard`` (inside ``if __name__ == "__main__":``), ``after_start`` (at the top
    level, below top-level code that starts a Pool or a Process), ``nested`` (inside
    another function or class), ``missing`` (nowhere), or ``""`` (the file cannot be read)."""
    tree = _submission_tree(run)
    if tree is None:
        return ""
    first_start = None
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            return "after_start" if first_start is not None and first_start < statement.lineno else "top"
        if _is_main_guard(statement):
            if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
                   for node in ast.walk(statement)):
                return "main_guard"
        elif first_start is None and not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                ast.ClassDef)) and _starts_processes(statement):
            first_start = statement.lineno
    if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in ast.walk(tree)):
        return "nested"
    return "missing"


THREAD_QUEUES = ("Queue", "SimpleQueue", "LifoQueue", "PriorityQueue")


def creates_thread_queue(run: Run, function: str) -> bool:
    """Whether the submission's ``function`` (or its module-level code) creates a queue of
    the ``queue`` module (``queue.Queue()``, or ``Queue()`` imported from it): a queue for
    the threads of one process. Read from its source (parsed, never imported); False when
    it cannot be read. Exercise-4's ``threaded()`` rightly makes one: only the code of the
    call that failed counts."""
    tree = _submission_tree(run)
    if tree is None:
        return False
    modules, classes = set(), set()  # the names the module and its queue classes go by
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "queue"}
        elif isinstance(node, ast.ImportFrom) and node.module == "queue":
            classes |= {alias.asname or alias.name for alias in node.names if alias.name in THREAD_QUEUES}
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    code = [statement for statement in tree.body if not isinstance(statement, definitions)
            or isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == function]
    return any(isinstance(node, ast.Call) and (
        isinstance(node.func, ast.Attribute) and node.func.attr in THREAD_QUEUES
        and isinstance(node.func.value, ast.Name) and node.func.value.id in modules
        or isinstance(node.func, ast.Name) and node.func.id in classes)
        for statement in code for node in ast.walk(statement))


def _is_main_guard(statement: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either way round)."""
    if not isinstance(statement, ast.If) or not isinstance(statement.test, ast.Compare):
        return False
    test = statement.test
    sides = [test.left, *test.comparators]
    return (len(sides) == 2 and isinstance(test.ops[0], ast.Eq)
            and any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
            and any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides))


def _starts_processes(statement: ast.stmt) -> bool:
    """Whether top-level code creates a Pool or a Process (``mp.Pool()``, ``Process(...)``)."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("Pool", "Process", "ProcessPoolExecutor"):
                return True
    return False


def _function_body(run: Run, function: str) -> list[ast.AST]:
    """The nodes of the top-level ``def function`` of the submission (parsed, never
    imported); none when there is no such function or the file cannot be read."""
    tree = _submission_tree(run)
    if tree is None:
        return []
    definition = next((node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and node.name == function), None)
    return [] if definition is None else [node for statement in definition.body for node in ast.walk(statement)]


def method_not_called(run: Run, function: str, method: str) -> str:
    """The text of a statement of the submission's ``function`` that names the method
    ``method`` without calling it (``t.join`` where ``t.join()`` was meant: a statement
    that is only the attribute, which does nothing); '' when there is none."""
    return next((ast.unparse(node.value) for node in _function_body(run, function)
                 if isinstance(node, ast.Expr) and isinstance(node.value, ast.Attribute)
                 and node.value.attr == method), "")


def calls_method(run: Run, function: str, method: str) -> bool:
    """Whether the submission's ``function`` calls a method ``method`` of something
    (``pool.apply(job, (v,))`` for ``apply``), as its source reads."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
               for node in _function_body(run, function))


def _who(pid: int, outcome: CallOutcome, run: Run) -> str:
    """A process of the submission, named in the student's language as the timeline names it."""
    if any(event["child"] == pid for event in outcome.trace.pool_workers_started()):
        return run.t("timeline.pool_worker", pid=pid)
    return outcome.trace.describe(pid).replace("process", run.t("who.process"), 1)


def names_of(pids: list[int], outcome: CallOutcome, run: Run) -> str:
    """Processes of the submission, each named as the timeline names it, in the student's
    language: ``process 812 (target produce), process 815 (target _run_server)``."""
    return ", ".join(_who(pid, outcome, run) for pid in pids)


# The target of the server process a Manager starts (``mp.Manager()``), as the runtime's
# ``start`` record names it.
MANAGER_SERVER = "multiprocessing.managers.BaseManager._run_server"


def manager_servers(outcome: CallOutcome) -> set[int]:
    """The pids of the server processes Managers started during the call, as the records
    of the submission's processes name them: for an explanation, never for a verdict."""
    return {event["child"] for event in outcome.trace.started() if event.get("target") == MANAGER_SERVER}


def _leak_name(leak: dict, outcome: CallOutcome) -> str:
    described = outcome.trace.describe(leak["pid"])
    if described != f"process {leak['pid']}":
        return described
    return f"process {leak['pid']} ({leak.get('cmdline') or leak.get('name', '?')})"[:160]


def _wait_point(threads: list[list[tuple[str, int, str]]], module_file: str) -> str | None:
    """The catalogue key of the wait point closest to the submission's code.

    In each thread the frames are read from the innermost out, up to the first frame of
    the submission: the last known wait point on the way is the API the submission
    called (``Process.join`` rather than the pipe read it waits in).
    """
    found: list[tuple[bool, str]] = []
    for frames in threads:
        if _idle_feeder(frames):
            continue
        key, in_submission = None, False
        for file, _, function in frames:
            if file.endswith(module_file):
                in_submission = True
                break
            key = next((k for suffix, names, k in WAIT_POINTS if file.endswith(suffix) and function in names),
                       key)
        if key:
            found.append((in_submission, key))
    keys = [key for _, key in found]
    for preferred in ("wait.feeder", "wait.feeder_join"):
        if preferred in keys:
            return preferred
    found.sort(key=lambda item: not item[0])  # threads running the submission's code first
    return found[0][1] if found else None


def _idle_feeder(frames: list[tuple[str, int, str]]) -> bool:
    """A queue's feeder thread waiting for something to send (``Condition.wait`` right
    inside ``_feed``): idle, not blocked. One writing into the pipe, or waiting for the
    queue's write lock that a sibling writing holds, is pushing data nobody reads."""
    return (len(frames) >= 2 and frames[0][0].endswith("/threading.py") and frames[0][2] == "wait"
            and frames[1][0].endswith("multiprocessing/queues.py") and frames[1][2] == "_feed")


def _innermost_student(threads: list[list[tuple[str, int, str]]], run: Run) -> str:
    module_file = f"/{run.exercise.module}.py"
    for frames in threads:
        for file, line, function in frames:
            if file.endswith(module_file):
                return f"{function}() line {line}"
    return ""


# A traceback's frame line, at the start of its line (not a quote of one in a message).
FRAME_LINE = re.compile(r'^[ \t]+File "(?P<file>[^"\n]+)", line (?P<line>\d+), in \S+', re.MULTILINE)


def failure_line(outcome: CallOutcome, module: str) -> int | None:
    """The line of the submission's file (``<module>.py``) where a call's failure shows:
    its innermost frame in the traceback the call raised, else in the stack of the main
    process when it hung (then of the other processes), else in a child's traceback in the
    error output; None when none of them passes through the file."""
    module_file = f"/{module}.py"

    def last_in(traceback: str) -> int | None:
        lines = [int(m["line"]) for m in FRAME_LINE.finditer(traceback) if m["file"].endswith(module_file)]
        return lines[-1] if lines else None

    if (line := last_in(outcome.traceback)) is not None:
        return line
    for process in sorted(outcome.hang, key=lambda process: not process.get("is_worker")):
        for frames in parse_stack(process.get("stack", "")):
            line = next((line for file, line, _ in frames if file.endswith(module_file)), None)
            if line is not None:
                return line
    return last_in(outcome.stderr)


def _student_line(traceback: str, run: Run) -> str:
    """The last line of the student's file in a traceback: ``collect() line 12``."""
    module_file = f"/{run.exercise.module}.py"
    where = ""
    for match in re.finditer(r'File "([^"]+)", line (\d+), in (\S+)', traceback):
        if match.group(1).endswith(module_file):
            where = f"{match.group(3)}() line {match.group(2)}"
    return where


# A frame of a traceback ("  File "...", line 3, in f") and the lines that belong to it
# (its source line and the carets under it: indented deeper than the frame line).
TRACEBACK_FRAME = re.compile(r'^(?P<indent>[ \t]*)File "(?P<file>[^"\n]+)", line \d+, in \S+')
GRADER_FILE = re.compile(r"(?:^|/)(?:_grade_\w+|grade_probe|sitecustomize)\.py$")


def without_grader_frames(output: str) -> str:
    """``output`` without the traceback frames of the grader's own code: any file of the
    sandbox's boot folder (its tracing runtime wraps ``Process.run`` as ``original_run``,
    the pool's ``worker``...). The student's frames and the standard library's stay."""
    if 'File "' not in output:
        return output
    boot = str(BOOT_DIR) + "/"
    kept: list[str] = []
    dropping: int | None = None  # the indentation of a frame being left out
    for line in output.split("\n"):
        if dropping is not None:
            if line.strip() and len(line) - len(line.lstrip()) > dropping:
                continue  # the frame's source line, or its carets
            dropping = None
        match = TRACEBACK_FRAME.match(line)
        if match and (match["file"].startswith(boot) or "/sandbox/boot/" in match["file"]
                      or GRADER_FILE.search(match["file"])):
            dropping = len(match["indent"])
            continue
        kept.append(line)
    return "\n".join(kept)


TRACEBACK_HEADER = "Traceback (most recent call last):"
PROCESS_HEADER = re.compile(r"^(?:Process|Exception in thread) [^\n]*:$")


def tidy_output(output: str, repeated: str = "[the same traceback {count} more time(s)]") -> str:
    """``output`` with a traceback cut short at its end (the process was killed while
    printing it) left out when a whole one comes before it, and a traceback printed again
    and again right after itself (pool workers that die as they start, and are replaced)
    shown once, followed by ``repeated`` (with ``{count}``)."""
    lines = output.split("\n")
    starts = [i for i, line in enumerate(lines) if line == TRACEBACK_HEADER]
    if starts:
        last = starts[-1]
        rest = [line for line in lines[last + 1:] if line.strip()]
        if rest and all(line[:1].isspace() for line in rest) and len(starts) > 1:  # no exception line: cut short
            if last > 0 and PROCESS_HEADER.match(lines[last - 1]):
                last -= 1
            lines = lines[:last]
    blocks: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        starts_block = PROCESS_HEADER.match(line) or line == TRACEBACK_HEADER and not (
            index > 0 and PROCESS_HEADER.match(lines[index - 1]))
        if starts_block and blocks[-1]:
            blocks.append([])
        blocks[-1].append(line)
    kept: list[str] = []
    previous, count = None, 0
    for block in blocks:
        shape = [re.sub(r"\d+", "N", block[0])] + block[1:] if block else block
        if TRACEBACK_HEADER in block and shape == previous:
            count += 1
            continue
        if count:
            kept.append(repeated.format(count=count))
        kept += block
        previous, count = shape, 0
    if count:
        kept.append(repeated.format(count=count))
    return "\n".join(kept)


def tail(output: str, limit: int) -> tuple[str, bool]:
    """The end of ``output``, at most ``limit`` characters cut at a line boundary (only a
    last line longer than ``limit`` is cut inside; a traceback cut short is left out when
    a whole one follows), and whether anything was left out."""
    output = output.rstrip("\n")
    if len(output) <= limit:
        return output, False
    lines = output.split("\n")
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if not kept:
        return lines[-1][-limit:], True
    kept.reverse()
    if kept[0][:1].isspace() and "Traceback (most recent call last):" in kept[1:]:
        # The cut fell inside a traceback: begin at the next whole one (with the line
        # naming its process, "Process Process-1:", when there is one).
        start = kept.index("Traceback (most recent call last):", 1)
        if start > 1 and kept[start - 1] and not kept[start - 1][:1].isspace():
            start -= 1
        kept = kept[start:]
    return "\n".join(kept), True


def _all_output(outcome: CallOutcome) -> str:
    return "\n".join(part for part in (outcome.stdout, outcome.stderr) if part.strip())


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def seconds(value: float) -> str:
    return f"{value:g} s"


def megabytes(value: int) -> str:
    return f"{value // 1024**2} MiB"
