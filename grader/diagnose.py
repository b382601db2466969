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


def unfinished(outcome: CallOutcome, run: Run) -> CheckFailed | None:
    """A failure for a call that did not finish (timeout, crash, never ran), else None."""
    from grader.check import CheckFailed, describe_call

    call = describe_call(outcome)
    if run.session.error and outcome.status in ("not_run", "crashed"):
        return CheckFailed(run.t("call.supervisor_killed", call=call), output=_all_output(outcome))
    if outcome.status == "timeout":
        cause = timeout_cause(outcome, run)
        crashing = any(key in CRASH_CAUSES for key in causes_of(cause))
        message = (run.t("call.timeout", call=call, timeout=seconds(run.session.spec.timeout_s))
                   if outcome.deadlock_s is None else  # found deadlocked before its timeout
                   # with a known cause, the header does not call it a deadlock: the cause says what it was
                   run.t("call.blocked" if cause else "call.deadlock", call=call, after=f"{outcome.deadlock_s:.1f} s",
                         timeout=seconds(run.session.spec.timeout_s)))
        # Children that crash as they start (and are replaced, by a Pool) are the cause; which
        # of them was where at the moment the call was stopped says nothing more.
        summary = "" if crashing else hang_summary(outcome, run, explain=not cause)
        parts = [message] + ([summary] if summary else []) + ([cause] if cause else [])
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
        return CheckFailed(_crash(outcome, run, call), output=_all_output(outcome))
    if outcome.status == "missing":
        place = _definition_place(run, outcome.call.function)
        if place in ("main_guard", "nested"):
            return CheckFailed(run.t(f"call.missing_{place}", function=outcome.call.function,
                                     module=run.exercise.module))
        return CheckFailed(run.t("call.missing", function=outcome.call.function,
                                 module=run.exercise.module))
    return None


def timeout_cause(outcome: CallOutcome, run: Run) -> str:
    """The likely cause of a call that outlived its timeout, when one is known: then the
    hang summary only says who waited where (no generic "deadlock")."""
    cause = _pool_terminated_before_result(outcome, run) or run.cause(outcome)
    if not cause and outcome.call.kind != "script" and outcome.trace.started(include_pool_workers=True) and (
            outcome.call.kind == "import" or _stuck_importing(outcome, run)):
        cause = run.t("cause.import_starts_processes")
    return cause


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


def did_not_return(outcome: CallOutcome, run: Run) -> str:
    """Why a finished call did not return a value: it raised or exited."""
    from grader.check import describe_call

    call = describe_call(outcome)
    if outcome.status == "exited":
        return run.t("call.exited", call=call, code=outcome.exit_code)
    return exception(outcome, run, call)


def exception(outcome: CallOutcome, run: Run, call: str) -> Said:
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
    return said("\n".join(parts), cause, head)


def cause_of(text: str, outcome: CallOutcome, run: Run) -> str:
    """The likely cause of an error found in a traceback or in the output of children."""
    if "has finished its bootstrapping phase" in " ".join(text.split()):  # the message spans lines
        return run.t("cause.main_guard", method=run.start_method)
    match = re.search(r"Can't get attribute '(\w+)' on <module '([\w.]+)'", text)
    if match:
        return _missing_in_child(match.group(1), match.group(2), run)
    if "ValueError: Pool not running" in text:
        return run.t("cause.pool_not_running")
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
    """Who was blocked where when the call timed out (or was found deadlocked) and, if
    ``explain``, what that usually means. multiprocessing's own helper processes are left out."""
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
    return said(message + ("\n" + cause if cause else ""), cause, message)


def _missing_in_child(name: str, module: str, run: Run) -> str:
    """A child looked ``name`` up in ``module`` (``__mp_main__``: the script, imported
    afresh by a spawn or forkserver child) and did not find it: say where the
    submission defines it, so the student sees why the child has no such function."""
    place = _definition_place(run, name)
    key = {"main_guard": "cause.missing_in_child_main_guard", "after_start": "cause.missing_in_child_late",
           "nested": "cause.missing_in_child_nested"}.get(place, "cause.missing_in_child")
    return run.t(key, name=name, module=module, method=run.start_method)


def _definition_place(run: Run, name: str) -> str:
    """Where the submission defines the function ``name``: ``top`` (at the top level),
    ``main_guard`` (inside ``if __name__ == "__main__":``), ``after_start`` (at the top
    level, below top-level code that starts a Pool or a Process), ``nested`` (inside
    another function or class), ``missing`` (nowhere), or ``""`` (the file cannot be read)."""
    try:
        tree = ast.parse(run.session.spec.submission.read_bytes())
    except (OSError, SyntaxError, ValueError):
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
