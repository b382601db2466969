"""Where the CPU of a ``grade`` run goes, per kind of process (root and ``perf`` needed).

Runs a command (by default ``grade --solution --seed 1``) under ``perf record -a`` with
the scheduler's tracepoints (``sched_stat_runtime``: every nanosecond a task ran,
user and kernel; ``sched_process_fork``/``exec``/``exit``: who started whom), rebuilds
the process tree and sums the CPU time of each kind of process:

- ``grader``: the process running pytest (its main thread, and its other threads: the
  threads that collect sessions' results), its short-lived children;
- ``bwrap``: bubblewrap (the outer process, the namespace's init);
- ``supervisor``: its main thread (the control loop, deadlock watch, leak scans), the
  trace receiver and the ptrace tracer threads;
- ``worker``: the process that imports the submission and makes the calls;
- ``resource tracker`` and ``fork server``: multiprocessing's helpers;
- ``spawn child`` (a fresh interpreter: spawn children, a script call), ``fork child``
  (fork start method, pool workers of fork), ``fork-server child``.

    sudo python bench/cpu_profile.py [-- COMMAND ...]

Tasks are counted by the kernel's own accounting (``sched_stat_runtime``), so a process
of a few milliseconds counts for what it ran, unlike tick-sampled ``utime``/``stime``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

EVENTS = "sched:sched_stat_runtime,sched:sched_process_fork,sched:sched_process_exec,sched:sched_process_exit"
LINE = re.compile(r"^\s*(?P<comm>.*?)\s+(?P<pid>-?\d+)/(?P<tid>-?\d+)\s+(?P<time>[\d.]+):\s+(?P<event>[\w:]+):\s*(?P<trace>.*)$")


def parse(data: str):
    """Yield (time, tgid, tid, event, fields) for every event of the recording."""
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,time,event,trace"],
                            capture_output=True, text=True, check=True).stdout
    for line in script.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        fields = dict(re.findall(r"(\w+)=(\S+)", match["trace"]))
        yield float(match["time"]), int(match["pid"]), int(match["tid"]), match["event"].split(":")[-1], fields


def profile(data: str, root_filename: str):
    parent: dict[int, int] = {}  # task -> the task that created it
    exec_file: dict[int, str] = {}  # process -> what it exec'd last
    tgid_of: dict[int, int] = {}
    born: dict[int, float] = {}
    runtime: dict[int, int] = collections.Counter()  # task -> ns
    root = None
    for t, tgid, tid, event, fields in parse(data):
        tgid_of.setdefault(tid, tgid)
        if event == "sched_process_fork":
            child = int(fields["child_pid"])
            parent[child] = tid
            born[child] = t
        elif event == "sched_process_exec":
            exec_file[tgid] = fields["filename"]
            if root is None and fields["filename"].endswith(root_filename):
                root = tgid
        elif event == "sched_stat_runtime":
            task = int(fields["pid"])
            runtime[task] += int(fields["runtime"])
    return parent, exec_file, tgid_of, born, runtime, root


def classify(parent, exec_file, tgid_of, born, runtime, root):
    """Each task's kind, from its place in the tree."""
    def proc(task):
        return tgid_of.get(task, task)

    def parent_proc(p):
        return proc(parent[p]) if p in parent else None

    children = collections.defaultdict(list)
    for task in parent:
        if proc(task) == task and parent_proc(task) is not None and parent_proc(task) != task:
            children[parent_proc(task)].append(task)
    for kids in children.values():
        kids.sort(key=lambda k: born.get(k, 0))
    kind_of: dict[int, str] = {}
    python = lambda p: "python" in os.path.basename(exec_file.get(p, ""))  # noqa: E731

    def visit(p, kind):
        kind_of[p] = kind
        execs = [c for c in children[p] if c in exec_file]
        for child in children[p]:
            exec_ = child in exec_file
            if kind == "grader" and PLAIN:
                k = "plain: fork child" if not exec_ else "plain: resource tracker" if execs and child == execs[0] else "plain: exec child (spawn, forkserver, script)"
            elif kind.startswith("plain: exec"):
                k = "plain: child of exec child (fork-server child)" if not exec_ else "plain: exec grandchild"
            elif kind == "grader":
                k = "bwrap (outer)" if exec_file.get(child, "").endswith("bwrap") else \
                    "supervisor" if exec_ and python(child) else f"grader child ({'exec ' + os.path.basename(exec_file[child]) if exec_ else 'fork'})"
            elif kind in ("bwrap (outer)", "bwrap (init)"):
                k = "supervisor" if exec_ and python(child) else "bwrap (init)"
            elif kind == "supervisor":
                k = "worker" if exec_ else "supervisor fork"
            elif kind == "worker":  # its first child is the resource tracker (forked or not)
                if child == children[p][0]:
                    k = "resource tracker"
                elif child == children[p][1] and born.get(child, 0) - born.get(children[p][0], 0) < 0.05 \
                        and children[child] and all(c not in exec_file for c in children[child]):
                    k = "fork server"  # started right after the tracker; its children are forks
                elif not exec_:
                    k = "fork child"
                else:
                    k = "spawn child / script"
            elif kind == "fork server":
                k = "fork-server child"
            else:
                k = f"{kind} > {'exec' if exec_ else 'fork'}"
            visit(child, k)

    visit(root, "grader")
    return kind_of


def report(kind_of, tgid_of, runtime, root, wall, cgroup_cpu):
    per_kind = collections.Counter()
    counts = collections.Counter(kind_of.values())
    for task, ns in runtime.items():
        p = tgid_of.get(task, task)
        kind = kind_of.get(p)
        if kind is None:
            continue
        if kind in ("grader", "supervisor"):
            if task == p:
                kind += " (main thread)"
            else:
                kind += " (other threads)"
        per_kind[kind] += ns
    total = sum(per_kind.values())
    print(f"wall {wall:.2f} s, CPU of the command and all its descendants: {total / 1e9:.2f} s"
          + (f" (cpuacct cgroup: {cgroup_cpu:.2f} s)" if cgroup_cpu is not None else ""))
    print(f"{'kind':<36} {'processes':>9} {'CPU s':>7} {'share':>6} {'per process':>12}")
    for kind, ns in per_kind.most_common():
        base = kind.split(" (main")[0].split(" (other")[0]
        n = counts.get(base, 0)
        print(f"{kind:<36} {n:>9} {ns / 1e9:>7.2f} {ns / total:>6.0%} {ns / 1e6 / max(n, 1):>9.1f} ms")


PLAIN = False


def main() -> int:
    global PLAIN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="*", default=None)
    parser.add_argument("--keep", help="keep the perf recording at this path")
    parser.add_argument("--plain", action="store_true", help="the command is a plain run (no sandbox)")
    args = parser.parse_args()
    PLAIN = args.plain
    command = args.command or [shutil.which("grade") or "grade", "--solution", "--seed", "1"]
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed")
    folder = tempfile.mkdtemp(prefix="grade-cpu-")
    data = args.keep or os.path.join(folder, "perf.data")
    cgroup = f"/sys/fs/cgroup/cpuacct/grade-cpu-{os.getpid()}"
    try:
        os.mkdir(cgroup)
    except OSError:
        cgroup = None
    # perf starts the command itself (after the recording has begun); the cgroup, when
    # one can be made, counts the command's CPU a second way.
    wrapped = ["sh", "-c", f'echo $$ > {cgroup}/cgroup.procs && exec "$@"', "sh", *command] if cgroup else command
    started = time.perf_counter()
    subprocess.run(["perf", "record", "-q", "-a", "-e", EVENTS, "-o", data, "--", *wrapped],
                   stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    cgroup_cpu = None
    if cgroup:
        with open(os.path.join(cgroup, "cpuacct.usage")) as file:
            cgroup_cpu = int(file.read()) / 1e9
        os.rmdir(cgroup)
    parent, exec_file, tgid_of, born, runtime, root = profile(data, os.path.basename(command[0]))
    if root is None:
        raise SystemExit("the command's exec was not recorded")
    kind_of = classify(parent, exec_file, tgid_of, born, runtime, root)
    report(kind_of, tgid_of, runtime, root, wall, cgroup_cpu)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
