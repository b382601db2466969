"""A seccomp filter for the sandbox worker: the system calls a submission never needs.

Landlock (:mod:`_grade_landlock`) walls off files, TCP and signals; it says nothing of
UDP, raw or netlink sockets, namespaces, ``ptrace``, io_uring or the kernel's rarer
doors. A seccomp filter does: a classic BPF program the kernel runs on every system call
of the process (and of all it starts: a filter is inherited across ``fork``, ``clone``
and ``execve`` and can never be removed), which answers allow, an error number, or kill.
The supervisor installs it in the forked worker just before ``exec`` (:func:`install`),
after Landlock; the supervisor itself stays unfiltered, since it traces the tree.

Standard library only, for the reason :mod:`_grade_landlock` gives (the supervisor runs
as ``python -I -S``); and cheap, since it is imported and installed in every session:
``ctypes`` (which the supervisor has already imported for Landlock and the tracer),
``os`` and ``struct``, and a program of some sixty instructions built at install time.
Measured on Linux 6.18 in a freshly forked child, median of 50: the import 1.1 to 1.3 ms
with ``ctypes`` already imported (0.6 ms of it is what importing any module costs there;
the module's own code runs in 0.05 ms), 4 ms without; :func:`install` 0.25 to 0.3 ms.
Imported before the fork, as Landlock is, it leaves only :func:`install` to the child.

The program reads ``struct seccomp_data {int nr; u32 arch; u64 instruction_pointer;
u64 args[6]}``: ``nr`` at offset 0, ``arch`` at 4, ``args[0]`` at 16 (its low 32 bits
there, on the little-endian machines supported here). In order:

1. An architecture other than the machine's own (``AUDIT_ARCH_X86_64`` or
   ``AUDIT_ARCH_AARCH64``) kills the process: i386 system calls (``int 0x80``, with their
   own numbers and ``socketcall``) and arm32 compat ones would otherwise slip past
   every number below. On x86_64, x32 calls (the number with ``__X32_SYSCALL_BIT``, which
   reach the same kernel functions under other numbers) fail with ENOSYS, as on a kernel
   built without x32; the number -1 (what a tracer writes to skip a call) is left alone.
2. ``socket`` and ``socketpair``: only ``AF_UNIX`` (the family, the low 32 bits of the
   first argument); any other fails with EAFNOSUPPORT, as if the kernel lacked it.
   multiprocessing needs only ``AF_UNIX`` (pipes, Manager and forkserver connections).
3. ``clone`` with ``CLONE_UNTRACED`` (a child the supervisor's tracer would not see) or
   any namespace flag fails with EPERM. The flags are the first argument on x86_64 and
   aarch64 alike (only s390's ``CLONE_BACKWARDS2`` puts them second); the kernel keeps
   only their low 32 bits, which is where all of these flags are.
4. ``clone3`` fails with ENOSYS: its flags are in memory, which a filter cannot read, and
   on ENOSYS glibc (2.34 and later, for threads and ``posix_spawn``) falls back to
   ``clone``, which rule 3 checks. Docker's default profile does the same.
5. The calls in :data:`REFUSED` fail with EPERM.
6. Everything else is allowed (a deny list: a call newer than this table is allowed).

Landlock's own calls stay allowed: they can only restrict further. So does ``seccomp``:
a filter added later can only refuse more. ``personality`` stays allowed too: neither
CPython nor glibc calls it at start-up, but the ``setarch`` tools do, and what it changes
(the address layout of the next exec) is no way out.
"""

from __future__ import annotations

import ctypes
import os
import struct

try:  # in the sandbox, boot/ is on sys.path; in the grader, a package
    from _grade_libc import check, libc as c_library
except ImportError:
    from grader.sandbox.boot._grade_libc import check, libc as c_library

# <linux/audit.h>: EM_X86_64 (62) and EM_AARCH64 (183), with __AUDIT_ARCH_64BIT and _LE.
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
# ``os.uname().machine`` -> the architecture its native system calls report.
ARCHES = {"x86_64": AUDIT_ARCH_X86_64, "aarch64": AUDIT_ARCH_AARCH64}

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_GET_ACTION_AVAIL = 2
SECCOMP_RET_KILL_PROCESS = 0x80000000  # Linux 4.14
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
X32_SYSCALL_BIT = 0x40000000
EPERM, EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EAFNOSUPPORT = 1, 14, 22, 38, 95, 97
AF_UNIX = 1

# Flags of ``clone`` (<linux/sched.h>) that make it refused.
CLONE_NEWNS = 0x00020000
CLONE_UNTRACED = 0x00800000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_REFUSED = (CLONE_UNTRACED | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                 | CLONE_NEWPID | CLONE_NEWNET)

# Classic BPF (<linux/bpf_common.h>): load a 32-bit word of seccomp_data, compare with a
# constant and jump, return a constant.
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16

# System call numbers, (x86_64, aarch64): arch/x86/entry/syscalls/syscall_64.tbl and
# include/uapi/asm-generic/unistd.h (aarch64's table), as in <asm/unistd_64.h> and
# <asm-generic/unistd.h>; tests/test_seccomp.py checks them against those headers when
# they are installed. Numbers from 403 on are the same on every architecture.
_NUMBERS = {
    "seccomp": (317, 277), "socket": (41, 198), "socketpair": (53, 199), "clone": (56, 220),
    "clone3": (435, 435),
    # Tracing and reading other processes.
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438),
    # Namespaces and mounts.
    "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39),
    "pivot_root": (155, 41), "chroot": (161, 51), "open_tree": (428, 428), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442),
    # Kernel subsystems with a long record of holes.
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    # The machine's administration.
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "reboot": (169, 142), "swapon": (167, 224),
    "swapoff": (168, 225), "acct": (163, 89), "quotactl": (179, 60), "quotactl_fd": (443, 443),
    "syslog": (103, 116),
    # Files by handle, past any path check.
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
}
SYSCALLS = {machine: {name: pair[index] for name, pair in _NUMBERS.items()}
            for index, machine in enumerate(("x86_64", "aarch64"))}

# Refused with EPERM, whatever their arguments (rule 5).
REFUSED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog",
    "open_by_handle_at", "name_to_handle_at",
)

WORDS = ("sockets other than AF_UNIX; ptrace and other processes' memory; namespaces and untraced clones; "
         "clone3 (ENOSYS: clone is checked instead); mount and chroot; io_uring; bpf; perf; userfaultfd; keyrings; "
         "modules, kexec, reboot, swap, acct, quotas and the kernel log; files by handle; other architectures' calls")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def supported() -> tuple[bool, str]:
    """Whether :func:`install` can work here: ``(True, "")``, or ``(False, why not)``.

    Needs Linux on x86_64 or aarch64, with seccomp filter mode (``CONFIG_SECCOMP_FILTER``)
    and ``SECCOMP_RET_KILL_PROCESS`` (Linux 4.14). Changes nothing: filter mode is
    probed with a null program (EFAULT when the kernel has the mode, EINVAL when not)."""
    system = os.uname()
    if system.sysname != "Linux" or system.machine not in ARCHES:
        return False, (f"the seccomp filter is for Linux on {' and '.join(ARCHES)}, "
                       f"not {system.sysname} {system.machine}")
    libc = c_library()
    if libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), None) == 0:
        return False, "the kernel accepted a null seccomp program"  # cannot happen
    errno = ctypes.get_errno()
    if errno == EINVAL:
        return False, f"this kernel ({system.release}) has no seccomp filter mode (CONFIG_SECCOMP_FILTER)"
    if errno != EFAULT:
        return False, f"seccomp was refused here: {os.strerror(errno)}"
    action = ctypes.c_uint32(SECCOMP_RET_KILL_PROCESS)
    if libc.syscall(ctypes.c_long(SYSCALLS[system.machine]["seccomp"]), ctypes.c_uint(SECCOMP_GET_ACTION_AVAIL),
                    ctypes.c_uint(0), ctypes.byref(action)) != 0:
        errno = ctypes.get_errno()
        if errno in (ENOSYS, EOPNOTSUPP):
            return False, f"this kernel ({system.release}) is too old for the seccomp filter: it needs Linux 4.14"
        return False, f"seccomp was refused here: {os.strerror(errno)}"
    return True, ""


def program(machine: str) -> bytes:
    """The filter for this machine (a key of :data:`ARCHES`), as ``struct sock_filter``s."""
    numbers = SYSCALLS[machine]
    code: list[tuple | str] = [  # (opcode, jump if true, jump if false, constant), and labels
        (BPF_LD_W_ABS, 0, 0, OFFSET_ARCH),
        (BPF_JEQ_K, 1, 0, ARCHES[machine]),
        (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (BPF_LD_W_ABS, 0, 0, OFFSET_NR),
    ]
    if machine == "x86_64":
        code += [(BPF_JGE_K, 0, "native", X32_SYSCALL_BIT),
                 (BPF_JEQ_K, "native", "enosys", 0xFFFFFFFF),
                 "native"]
    code += [(BPF_JEQ_K, "socket", 0, numbers["socket"]),
             (BPF_JEQ_K, "socket", 0, numbers["socketpair"]),
             (BPF_JEQ_K, "clone", 0, numbers["clone"]),
             (BPF_JEQ_K, "enosys", 0, numbers["clone3"])]
    code += [(BPF_JEQ_K, "eperm", 0, numbers[name]) for name in REFUSED]
    code += [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
             "socket", (BPF_LD_W_ABS, 0, 0, OFFSET_ARG0),
             (BPF_JEQ_K, "allow", 0, AF_UNIX),
             (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
             "clone", (BPF_LD_W_ABS, 0, 0, OFFSET_ARG0),
             (BPF_JSET_K, "eperm", 0, CLONE_REFUSED),
             "allow", (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
             "eperm", (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
             "enosys", (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS)]
    labels, position = {}, 0
    for item in code:
        if isinstance(item, str):
            labels[item] = position
        else:
            position += 1
    out, position = [], 0
    for item in code:
        if isinstance(item, str):
            continue
        position += 1  # a jump counts from the next instruction
        opcode, true, false, constant = item
        true = labels[true] - position if isinstance(true, str) else true
        false = labels[false] - position if isinstance(false, str) else false
        if not (0 <= true <= 255 and 0 <= false <= 255):
            raise ValueError(f"seccomp program: a jump of {true} or {false} does not fit in a byte")
        out.append(struct.pack("=HBBI", opcode, true, false, constant))
    return b"".join(out)


def install() -> None:
    """Filter the calling thread's system calls, and those of all it will start, for good.

    For a single-threaded caller (the freshly forked worker, just before ``exec``): the
    filter is installed with ``prctl(PR_SET_SECCOMP)``, on the calling thread only, after
    ``prctl(PR_SET_NO_NEW_PRIVS, 1)`` (which lets an unprivileged process install one).
    What it refuses is in the module's docstring and, in words, :data:`WORDS`. Raises
    OSError on another architecture or if the kernel refuses (see :func:`supported`)."""
    machine = os.uname().machine
    if machine not in ARCHES:
        raise OSError(ENOSYS, f"the seccomp filter is for {' and '.join(ARCHES)}, not {machine}")
    code = program(machine)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.addressof(buffer))
    libc = c_library()
    check(libc.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                     ctypes.c_ulong(0)))
    check(libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog)))
