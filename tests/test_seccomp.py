"""The worker's seccomp filter (``grader/sandbox/boot/_grade_seccomp.py``) refuses what a
multiprocessing submission never needs (sockets other than AF_UNIX, namespaces,
untraced clones, ptrace, io_uring, ...) and leaves multiprocessing whole, with every
start method.

The filter is never installed in the test process: each live case runs a ``python -I
-S`` child (the supervisor's own flags) that installs it, then probes; most probes also
run unfiltered, to show that the answer seen under the filter is the filter's. The
program itself is checked for both architectures, the one not running here included, by
a small classic-BPF interpreter, and its system call numbers against the kernel's
headers when they are installed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.sandbox.boot import _grade_seccomp as seccomp

BOOT = Path(seccomp.__file__).resolve().parent
SUPPORTED, WHY_NOT = seccomp.supported()
MACHINE = os.uname().machine
live = pytest.mark.skipif(not SUPPORTED, reason=WHY_NOT)

# <linux/seccomp.h>, written out here so that a wrong constant in the module shows.
ALLOW = 0x7FFF0000
KILL = 0x80000000  # SECCOMP_RET_KILL_PROCESS, not _THREAD (0): the whole process
ERRNO = 0x00050000
EPERM, ENOSYS, EAFNOSUPPORT = ERRNO | 1, ERRNO | 38, ERRNO | 97
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_ARM = 0x40000028
SIGCHLD = 17
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_VFORK = 0x100, 0x200, 0x400, 0x800, 0x4000
GLIBC_THREAD_FLAGS = 0x3D0F00  # CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
REFUSED_FLAGS = {"CLONE_UNTRACED": 0x00800000, "CLONE_NEWNS": 0x20000, "CLONE_NEWCGROUP": 0x02000000,
                 "CLONE_NEWUTS": 0x04000000, "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000,
                 "CLONE_NEWPID": 0x20000000, "CLONE_NEWNET": 0x40000000}

# What the filter refuses with EPERM whatever the arguments, written out here so that a
# call dropped from (or added to) the module's list shows.
REFUSED = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "unshare", "setns", "mount", "umount2",
    "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl",
    "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "open_by_handle_at",
    "name_to_handle_at",
}


# --- the program, read by a classic BPF interpreter ---------------------------------------

def run_filter(code: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """What the program returns for this ``struct seccomp_data`` (only the opcodes it may use)."""
    data = struct.pack("=iIQ6Q", nr, arch, 0x400000, *(tuple(args) + (0,) * (6 - len(args))))
    program = [struct.unpack_from("=HBBI", code, offset) for offset in range(0, len(code), 8)]
    assert 0 < len(program) <= 4096 and len(code) % 8 == 0
    pc = accumulator = 0
    for _ in range(len(program)):  # jumps only go forward: no program runs longer than itself
        opcode, true, false, constant = program[pc]
        pc += 1
        if opcode == 0x20:  # ld [k]
            assert constant % 4 == 0 and constant + 4 <= len(data)
            accumulator = struct.unpack_from("=I", data, constant)[0]
        elif opcode in (0x15, 0x35, 0x45):  # jeq, jge, jset #k
            taken = {0x15: accumulator == constant, 0x35: accumulator >= constant, 0x45: accumulator & constant}[opcode]
            pc += true if taken else false
            assert pc < len(program), "a jump past the end"
        elif opcode == 0x06:  # ret #k
            return constant
        else:
            raise AssertionError(f"unexpected opcode {opcode:#x}")
    raise AssertionError("the program fell off its end")


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_program_refuses_other_architectures(machine: str) -> None:
    code, numbers = seccomp.program(machine), seccomp.SYSCALLS[machine]
    others = {AUDIT_ARCH_I386, AUDIT_ARCH_ARM, *seccomp.ARCHES.values()} - {seccomp.ARCHES[machine]}
    for arch in others:
        for nr in (numbers["socket"], 39, 172, 20, 0):
            assert run_filter(code, nr, arch, (2,)) == KILL, (arch, nr)
    getpid = {"x86_64": 39, "aarch64": 172}[machine]
    assert run_filter(code, getpid, seccomp.ARCHES[machine]) == ALLOW


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_program_sockets(machine: str) -> None:
    code, numbers, arch = seccomp.program(machine), seccomp.SYSCALLS[machine], seccomp.ARCHES[machine]
    for name in ("socket", "socketpair"):
        nr = numbers[name]
        assert run_filter(code, nr, arch, (socket.AF_UNIX, socket.SOCK_STREAM)) == ALLOW
        assert run_filter(code, nr, arch, (socket.AF_UNIX | 7 << 32, socket.SOCK_DGRAM)) == ALLOW  # int family
        for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET, 0, 40, 0xFFFFFFFF,
                       socket.AF_INET | 1 << 32, socket.AF_UNIX << 8):
            assert run_filter(code, nr, arch, (family, socket.SOCK_STREAM)) == EAFNOSUPPORT, (name, family)


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_program_clone(machine: str) -> None:
    code, numbers, arch = seccomp.program(machine), seccomp.SYSCALLS[machine], seccomp.ARCHES[machine]
    clone = numbers["clone"]
    for flags in (SIGCHLD, GLIBC_THREAD_FLAGS, CLONE_VM | CLONE_VFORK | SIGCHLD, 0x01200011):  # fork, thread, spawn
        assert run_filter(code, clone, arch, (flags,)) == ALLOW, hex(flags)
    for name, flag in REFUSED_FLAGS.items():
        assert run_filter(code, clone, arch, (flag | SIGCHLD,)) == EPERM, name
        assert run_filter(code, clone, arch, (flag | GLIBC_THREAD_FLAGS,)) == EPERM, name
    assert run_filter(code, clone, arch, (0xFFFFFFFF << 32 | SIGCHLD,)) == ALLOW  # the kernel drops those bits
    assert run_filter(code, numbers["clone3"], arch, (0, 88)) == ENOSYS


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_program_refused_calls_and_nothing_else(machine: str) -> None:
    code, numbers, arch = seccomp.program(machine), seccomp.SYSCALLS[machine], seccomp.ARCHES[machine]
    assert set(seccomp.REFUSED) == REFUSED
    refused = {numbers[name] for name in REFUSED}
    assert len(refused) == len(REFUSED), "two refused calls share a number"
    for name in REFUSED:
        assert run_filter(code, numbers[name], arch, (0, 0, 0)) == EPERM, name
    special = refused | {numbers[name] for name in ("socket", "socketpair", "clone", "clone3")}
    for nr in set(range(600)) - special:  # every other call, landlock's (444-446) and seccomp's included
        assert run_filter(code, nr, arch, (2, 0xFFFFFFFF, 0)) == ALLOW, nr


def test_program_x32_calls_on_x86_64() -> None:
    code, arch = seccomp.program("x86_64"), seccomp.AUDIT_ARCH_X86_64
    for nr in (41, 39, 56, 101, 512, 547):  # socket, getpid, clone, ptrace, x32-only rt_sigaction, pwritev2
        assert run_filter(code, 0x40000000 | nr, arch, (2,)) == ENOSYS, nr
    assert run_filter(code, -1, arch) == ALLOW  # a tracer skipping a call: the kernel answers ENOSYS itself


def _header_numbers(path: Path, pattern: str) -> dict[str, int]:
    return {name: int(number) for name, number in re.findall(pattern, path.read_text())}


def test_numbers_match_the_kernel_headers() -> None:
    headers = {"x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
               "aarch64": Path("/usr/include/asm-generic/unistd.h")}  # arm64's table is the generic one
    checked = 0
    for machine, header in headers.items():
        if not header.exists():
            continue
        known = _header_numbers(header, r"#define __NR(?:3264)?_(\w+)\s+(\d+)")
        for name, number in seccomp.SYSCALLS[machine].items():
            if name in known:  # older headers lack the newest calls
                assert number == known[name], f"{machine} {name}: {number}, the kernel says {known[name]}"
                checked += 1
    if not checked:
        pytest.skip("no kernel headers (linux-libc-dev) here")
    assert checked >= len(seccomp.SYSCALLS["x86_64"]) - 5


def test_not_supported_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.uname()
    fake = type(real)((real.sysname, real.nodename, real.release, real.version, "riscv64"))
    monkeypatch.setattr(seccomp.os, "uname", lambda: fake)
    ok, why = seccomp.supported()
    assert not ok and "riscv64" in why
    with pytest.raises(OSError, match="riscv64"):
        seccomp.install()


def test_words_name_what_is_refused() -> None:
    for word in ("AF_UNIX", "ptrace", "namespaces", "mount", "io_uring", "bpf", "perf", "keyrings", "clone3"):
        assert word in seccomp.WORDS


# --- live: a child that installs the filter ---------------------------------------------

PRELUDE = f'''
import ctypes, errno, json, os, socket, sys
sys.path.insert(0, {str(BOOT)!r})
import _grade_seccomp
if FILTERED:
    _grade_seccomp.install()
NR = _grade_seccomp.SYSCALLS[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(name, *args):
    """The raw system call's answer: "ok", or the errno's name."""
    result = libc.syscall(ctypes.c_long(NR[name]), *(ctypes.c_ulong(arg & (1 << 64) - 1) for arg in args))
    return errno.errorcode[ctypes.get_errno()] if result == -1 else "ok"
def make(family, kind):
    try:
        socket.socket(family, kind).close()
        return "ok"
    except OSError as error:
        return errno.errorcode[error.errno]
def seccomp_mode():
    return [line.split()[1] for line in open("/proc/self/status") if line.startswith("Seccomp:")][0]
'''


def child(code: str, filtered: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    script = f"FILTERED = {filtered}\n" + PRELUDE + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def probe(code: str, filtered: bool = True) -> dict:
    """Run ``code`` (which prints one JSON document last) in a child; its answer."""
    completed = child(code, filtered)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


@live
def test_filter_is_installed() -> None:
    assert probe("print(json.dumps(seccomp_mode()))", filtered=False) == "0"
    assert probe("print(json.dumps(seccomp_mode()))") == "2"  # SECCOMP_MODE_FILTER


NETWORK_SOCKETS = '''
kinds = {"inet-udp": (socket.AF_INET, socket.SOCK_DGRAM), "inet-tcp": (socket.AF_INET, socket.SOCK_STREAM),
         "inet6-udp": (socket.AF_INET6, socket.SOCK_DGRAM), "inet6-tcp": (socket.AF_INET6, socket.SOCK_STREAM),
         "netlink": (socket.AF_NETLINK, socket.SOCK_RAW), "packet": (socket.AF_PACKET, socket.SOCK_RAW)}
found = {name: make(*kind) for name, kind in kinds.items()}
found["raw inet, family's high bits set"] = call("socket", 1 << 32 | socket.AF_INET, socket.SOCK_DGRAM, 0)
try:
    socket.socketpair(socket.AF_INET)
    found["socketpair inet"] = "ok"
except OSError as error:
    found["socketpair inet"] = errno.errorcode[error.errno]
print(json.dumps(found))
'''


@live
def test_sockets_other_than_unix_are_refused() -> None:
    unfiltered, filtered = probe(NETWORK_SOCKETS, filtered=False), probe(NETWORK_SOCKETS)
    assert set(filtered.values()) == {"EAFNOSUPPORT"}, filtered
    assert unfiltered["inet-udp"] == unfiltered["netlink"] == "ok"  # the kernel has them: the filter said no
    assert unfiltered["socketpair inet"] in ("EOPNOTSUPP", "ENOTSUP")  # one number, two names


@live
def test_unix_sockets_work(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        found = probe(f'''
        found = {{name: make(socket.AF_UNIX, kind) for name, kind in
                 (("stream", socket.SOCK_STREAM), ("dgram", socket.SOCK_DGRAM), ("seqpacket", socket.SOCK_SEQPACKET))}}
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
            left, right = socket.socketpair(socket.AF_UNIX, kind)
            left.send(b"across")
            found[f"pair {{int(kind)}}"] = right.recv(10).decode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect({str(path)!r})
            client.sendall(b"hello from the filtered child")
        found["mode"] = seccomp_mode()
        print(json.dumps(found))
        ''')
        server.settimeout(10)
        connection, _ = server.accept()
        with connection:
            assert connection.recv(100) == b"hello from the filtered child"
    assert found == {"stream": "ok", "dgram": "ok", "seqpacket": "ok", "pair 1": "across", "pair 2": "across",
                     "pair 5": "across", "mode": "2"}


MULTIPROCESSING = '''
import multiprocessing as mp
import os
import sys
import threading

sys.path.insert(0, BOOT)
import _grade_seccomp


def seccomp_mode():
    return [line.split()[1] for line in open("/proc/self/status") if line.startswith("Seccomp:")][0]


def square(x):
    return x * x


def put(queue, value):
    queue.put((value, seccomp_mode()))


def add(value, lock, times):
    for _ in range(times):
        with lock:
            value.value += 1


def main():
    _grade_seccomp.install()
    mp.set_start_method(METHOD)
    queue = mp.Queue()
    process = mp.Process(target=put, args=(queue, "queued"))
    process.start()
    print("queue", queue.get(timeout=60))
    process.join()
    print("exit code", process.exitcode)
    with mp.Pool(2) as pool:
        print("pool", pool.map(square, range(6)))
    with mp.Manager() as manager:
        shared, items = manager.dict(), manager.list()
        workers = [mp.Process(target=shared.__setitem__, args=(n, n * 10)) for n in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        items.append("managed")
        print("manager", sorted(shared.items()), list(items))
    lock, value = mp.Lock(), mp.Value("i", 0)
    workers = [mp.Process(target=add, args=(value, lock, 200)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("value", value.value)
    seen = []
    threads = [threading.Thread(target=seen.append, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("threads", sorted(seen), threading.active_count())
    print("mode", seccomp_mode())


if __name__ == "__main__":
    main()
'''


@live
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_works_under_the_filter(method: str, tmp_path: Path) -> None:
    script = tmp_path / "submission.py"
    script.write_text(MULTIPROCESSING.replace("BOOT", repr(str(BOOT))).replace("METHOD", repr(method)))
    completed = subprocess.run([sys.executable, "-I", "-S", str(script)], capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "queue ('queued', '2')",  # the child is filtered too, whatever its start method
        "exit code 0",
        "pool [0, 1, 4, 9, 16, 25]",
        "manager [(0, 0), (1, 10)] ['managed']",
        "value 400",
        "threads [0, 1, 2] 1",
        "mode 2",
    ], completed.stderr


@live
def test_threads_fall_back_from_clone3() -> None:
    """glibc 2.34 and later start threads with clone3; under the filter, with clone."""
    found = probe('''
    import threading
    seen = []
    thread = threading.Thread(target=lambda: seen.append(threading.get_native_id()))
    thread.start()
    thread.join()
    print(json.dumps({"clone3": call("clone3", 0, 0), "thread ran": seen[0] != threading.get_native_id()}))
    ''')
    assert found == {"clone3": "ENOSYS", "thread ran": True}


CLONES = f'''
found = {{}}
for name, flag in {REFUSED_FLAGS!r}.items():
    # CLONE_SIGHAND without CLONE_VM is invalid: the kernel answers EINVAL before any
    # permission check and starts nothing, so only the filter can answer EPERM.
    found[name] = call("clone", flag | {CLONE_SIGHAND}, 0, 0, 0, 0)
found["CLONE_SIGHAND alone"] = call("clone", {CLONE_SIGHAND}, 0, 0, 0, 0)
found["clone3"] = call("clone3", 0, 0)  # a null, too short clone_args: EINVAL
print(json.dumps(found))
'''


@live
def test_clone_with_namespace_or_untraced_flags_is_refused() -> None:
    unfiltered, filtered = probe(CLONES, filtered=False), probe(CLONES)
    assert unfiltered == dict.fromkeys([*REFUSED_FLAGS, "CLONE_SIGHAND alone", "clone3"], "EINVAL")
    assert filtered == {**dict.fromkeys(REFUSED_FLAGS, "EPERM"), "CLONE_SIGHAND alone": "EINVAL", "clone3": "ENOSYS"}


@live
def test_untraced_fork_is_refused() -> None:
    found = probe(f'''
    result = libc.syscall(ctypes.c_long(NR["clone"]), ctypes.c_ulong({REFUSED_FLAGS["CLONE_UNTRACED"] | SIGCHLD}),
                          *(ctypes.c_ulong(0),) * 4)
    if result == 0:  # a child, which the filter should have prevented
        os._exit(0)
    if result > 0:
        os.waitpid(result, 0)
    print(json.dumps("started a child" if result > 0 else errno.errorcode[ctypes.get_errno()]))
    ''')
    assert found == "EPERM"


REFUSED_CALLS = '''
found = {
    "unshare(0)": call("unshare", 0),                     # changes nothing: 0
    "setns(-1, 0)": call("setns", -1, 0),                 # EBADF
    "io_uring_setup(1, NULL)": call("io_uring_setup", 1, 0),  # EFAULT
    "ptrace(PTRACE_CONT, self)": call("ptrace", 7, os.getpid(), 0, 0),  # ESRCH: not our tracee
    "process_vm_readv(self, NULL, 0)": call("process_vm_readv", os.getpid(), 0, 0, 0, 0, 0),  # ok: nothing to read
    "perf_event_open(NULL)": call("perf_event_open", 0, 0, -1, -1, 0),  # EFAULT
    "keyctl(-1)": call("keyctl", -1, 0, 0, 0, 0),          # EOPNOTSUPP
    "bpf(-1)": call("bpf", -1, 0, 0),                     # EINVAL
}
print(json.dumps(found))
'''


@live
def test_refused_calls_answer_eperm() -> None:
    unfiltered, filtered = probe(REFUSED_CALLS, filtered=False), probe(REFUSED_CALLS)
    assert filtered == dict.fromkeys(unfiltered, "EPERM")
    # Whoever runs the tests, these answer otherwise without the filter: the EPERM is its.
    assert unfiltered["unshare(0)"] == "ok" and unfiltered["setns(-1, 0)"] == "EBADF"
    assert unfiltered["ptrace(PTRACE_CONT, self)"] == "ESRCH"


# Refused calls any user may make (no capability checked first), for a control without the filter.
UNPRIVILEGED = ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "unshare", "setns",
                "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl"]
ALL_ONES = '''
found = {name: call(name, -1, -1, -1, -1, -1, -1) for name in NAMES}
found["unshare(CLONE_NEWUSER)"] = call("unshare", 0x10000000) if FILTERED else "not tried"
found["ptrace(PTRACE_TRACEME)"] = call("ptrace", 0, 0, 0, 0) if FILTERED else "not tried"
print(json.dumps(found))
'''


@live
def test_every_refused_call_answers_eperm() -> None:
    """All of REFUSED, with all-ones arguments (a bad request, flag, pointer or file
    descriptor), which each of them rejects anyway (checked by hand as root on 6.18:
    EINVAL, EFAULT, EBADF, ESRCH, ENOSYS...), so that nothing happens if one slips by."""
    found = probe(ALL_ONES.replace("NAMES", repr(sorted(REFUSED))))
    assert found == dict.fromkeys([*REFUSED, "unshare(CLONE_NEWUSER)", "ptrace(PTRACE_TRACEME)"], "EPERM")
    unfiltered = probe(ALL_ONES.replace("NAMES", repr(UNPRIVILEGED)), filtered=False)
    assert "EPERM" not in unfiltered.values() and "ok" not in unfiltered.values(), unfiltered


@live
@pytest.mark.skipif(sys.version_info < (3, 12), reason="os.unshare is Python 3.12's")
def test_os_unshare_is_refused() -> None:
    found = probe('''
    try:
        os.unshare(os.CLONE_NEWUSER)
        print(json.dumps("unshared"))
    except OSError as error:
        print(json.dumps(errno.errorcode[error.errno]))
    ''')
    assert found == "EPERM"


INT_0X80_GETPID = '''
import mmap
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes.fromhex("b814000000" "cd80" "c3"))  # mov eax, 20 (i386 getpid); int 0x80; ret
getpid = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
import threading
answers = []
thread = threading.Thread(target=lambda: answers.append(getpid()))  # from a thread: the whole process dies
thread.start()
thread.join()
print(json.dumps(answers == [os.getpid()]))
'''


@live
@pytest.mark.skipif(MACHINE != "x86_64", reason="i386 system calls are x86_64's")
def test_i386_system_calls_kill_the_process() -> None:
    unfiltered = child(INT_0X80_GETPID, filtered=False)
    if unfiltered.returncode != 0 or unfiltered.stdout.split()[-1:] != ["true"]:
        pytest.skip(f"this kernel runs no i386 system calls (ia32_emulation off): {unfiltered.stderr[-300:]}")
    filtered = child(INT_0X80_GETPID)
    assert filtered.returncode == -signal.SIGSYS, (filtered.returncode, filtered.stdout, filtered.stderr)
    assert filtered.stdout == ""


@live
@pytest.mark.skipif(MACHINE != "x86_64", reason="x32 is x86_64's")
def test_x32_system_calls_are_refused() -> None:
    code = '''
    result = libc.syscall(ctypes.c_long(0x40000000 | NR["socket"]), socket.AF_INET, socket.SOCK_DGRAM, 0)
    print(json.dumps("ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]))
    '''
    if probe(code, filtered=False) == "ENOSYS":
        pytest.skip("this kernel has no x32 (CONFIG_X86_X32_ABI): it answers ENOSYS itself")
    assert probe(code) == "ENOSYS"


@live
def test_the_filter_outlives_exec() -> None:
    code = f'''
    import subprocess
    grandchild = subprocess.run([sys.executable, "-I", "-S", "-c", {PRELUDE!r} .replace("if FILTERED:", "if False:")
                                 + "print(json.dumps([make(socket.AF_INET, socket.SOCK_STREAM), seccomp_mode()]))"],
                                capture_output=True, text=True, timeout=30)
    print(grandchild.stdout.strip() or grandchild.stderr)
    '''
    assert probe(code, filtered=False) == ["ok", "0"]
    assert probe(code) == ["EAFNOSUPPORT", "2"]
