"""Explanations of what went wrong in a call, in plain words for the student.

Reads a :class:`~grader.sandbox.CallOutcome` (exception, exit status, leftover
processes, stacks at a timeout) and names the likely cause: the missing main guard, an
unpicklable lambda, a process blocked on a full pipe, a busy loop, an output flood.
"""

from __future__ import annotations

import re
import signal
from typing import TYPE_CHECKING

from grader.results import Status
from grader.sandbox import CallOutcome, Ref

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
    ("threading.py", ("join", "_wait_for_tstate_lock"), "wait.thread_join"),
    ("_grade_runtime.py", ("_rendezvous",), "wait.rendezvous"),
)


def unfinished(outcome: CallOutcome, run: Run) -> CheckFailed | None:
    """A failure for a call that did not finish (timeout, crash, never ran), else None."""
    from grader.check import CheckFailed, describe_call

    call = describe_call(outcome)
    if run.session.error and outcome.status in ("not_run", "crashed"):
        return CheckFailed(run.t("call.supervisor_killed", call=call), output=_all_output(outcome))
    if outcome.status == "timeout":
        message = run.t("call.timeout", call=call, timeout=seconds(run.session.spec.timeout_s))
        cause = run.cause(outcome)
        if not cause and outcome.call.kind == "import" and outcome.trace.started(include_pool_workers=True):
            cause = run.t("cause.import_starts_processes")
        parts = [message, hang_summary(outcome, run, explain=not cause)] + ([cause] if cause else [])
        return CheckFailed("\n".join(parts), Status.TIMEOUT, _all_output(outcome))
    if outcome.status == "not_run":
        return CheckFailed(run.t("call.not_run", call=call))
    if outcome.status == "crashed":
        return CheckFailed(_crash(outcome, run, call), output=_all_output(outcome))
    if outcome.status == "missing":
        return CheckFailed(run.t("call.missing", function=outcome.call.function,
                                 module=run.exercise.module))
    return None


def did_not_return(outcome: CallOutcome, run: Run) -> str:
    """Why a finished call did not return a value: it raised or exited."""
    from grader.check import describe_call

    call = describe_call(outcome)
    if outcome.status == "exited":
        return run.t("call.exited", call=call, code=outcome.exit_code)
    return exception(outcome, run, call)


def exception(outcome: CallOutcome, run: Run, call: str) -> str:
    """Name the exception and, when it is a classic one, its cause."""
    text = outcome.traceback + "\n" + outcome.message
    head = run.t("call.raised", call=call, exception=outcome.exception,
                 message=outcome.message.splitlines()[0] if outcome.message else "")
    cause = cause_of(text, outcome, run)
    where = _student_line(outcome.traceback, run)
    parts = [head]
    if where:
        parts.append(run.t("call.where", where=where))
    if cause:
        parts.append(cause)
    return "\n".join(parts)


def cause_of(text: str, outcome: CallOutcome, run: Run) -> str:
    """The likely cause of an error found in a traceback or in the output of children."""
    if "before the current process has finished its bootstrapping phase" in text:
        return run.t("cause.main_guard", method=run.start_method)
    match = re.search(r"Can't pickle <function <lambda>", text) or re.search(r"Can't pickle local object '([^']+)'", text) \
        or re.search(r"Can't get local object '([^']+)'", text)
    if match:
        name = match.group(1) if match.groups() else "<lambda>"
        return run.t("cause.pickle_local", name=name)
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
    return ""


def leaks(outcome: CallOutcome, run: Run) -> str:
    from grader.check import describe_call

    names = ", ".join(_leak_name(leak, outcome) for leak in outcome.leaks)
    return run.t("call.leaked", call=describe_call(outcome), count=len(outcome.leaks), processes=names)


def hang_summary(outcome: CallOutcome, run: Run, explain: bool = True) -> str:
    """Who was blocked where when the call timed out and, if ``explain``, what that
    usually means. multiprocessing's own helper processes are left out."""
    lines, meanings = [], []
    busy = False
    for process in outcome.hang:
        if process.get("is_helper"):  # multiprocessing's own, as the supervisor knows them
            continue
        who = "main process" if process.get("is_worker") else outcome.trace.describe(process["pid"])
        who = run.t("who.main") if process.get("is_worker") else who.replace("process", run.t("who.process"), 1)
        threads = parse_stack(process.get("stack", ""))
        share = process.get("cpu_s", 0.0) / max(outcome.duration_s, 0.001)
        student = _innermost_student(threads, run)
        wait_key = _wait_point(threads, f"/{run.exercise.module}.py")
        if share >= BUSY_CPU_SHARE or process.get("state") == "R" and wait_key is None:
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


def show(value: object, limit: int = 200) -> str:
    """A short, readable rendering of a value in its JSON form."""
    if isinstance(value, dict) and "__summary__" in value:
        summary = value["__summary__"]
        head = ", ".join(show(item, 20) for item in summary["head"])
        return f"[{head}, ...] ({summary['len']:,} items)"
    if isinstance(value, dict) and "__repr__" in value:
        text_ = re.sub(r" at 0x[0-9a-fA-F]+", "", value["__repr__"])  # addresses only distract
    elif isinstance(value, Ref):
        text_ = value.qualified_name.rsplit(".", 1)[-1]
    elif isinstance(value, list):
        text_ = "[" + ", ".join(show(item, limit) for item in value[:50]) + (", ...]" if len(value) > 50 else "]")
    else:
        text_ = repr(value)
    return text_ if len(text_) <= limit else text_[: limit - 4] + " ..."


def _crash(outcome: CallOutcome, run: Run, call: str) -> str:
    code = outcome.exit_code
    if code is None:
        return run.t("call.killed", call=call)
    if code < 0:
        name = _signal_name(-code)
        if -code == signal.SIGXCPU:
            return run.t("call.cpu_limit", call=call)
        return run.t("call.signal", call=call, signal=name)
    text = outcome.stderr
    cause = cause_of(text, outcome, run)
    message = run.t("call.process_exited", call=call, code=code)
    return message + ("\n" + cause if cause else "")


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


def _innermost_student(threads: list[list[tuple[str, int, str]]], run: Run) -> str:
    module_file = f"/{run.exercise.module}.py"
    for frames in threads:
        for file, line, function in frames:
            if file.endswith(module_file):
                return f"{function}() line {line}"
    return ""


def _student_line(traceback: str, run: Run) -> str:
    """The last line of the student's file in a traceback: ``collect() line 12``."""
    module_file = f"/{run.exercise.module}.py"
    where = ""
    for match in re.finditer(r'File "([^"]+)", line (\d+), in (\S+)', traceback):
        if match.group(1).endswith(module_file):
            where = f"{match.group(3)}() line {match.group(2)}"
    return where


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
