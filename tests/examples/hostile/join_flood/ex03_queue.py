# expect: passed — collect() is honest, but once every child has started it sends ~1 MB of well-formed "join" records (about its real children) on the sandbox's trace socket before joining them for real; the records can only explain, never pass: the grader must answer in time whatever verdict it reaches
import multiprocessing as mp
import os
import socket
import time

FLOOD_BYTES = 1_000_000
DATAGRAM_BYTES = 60_000


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _fake_joins(children):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.connect(os.path.join(os.environ["GRADE_SANDBOX_DIR"], "trace.sock"))
    pid, sent, index = os.getpid(), 0, 0
    while sent < FLOOD_BYTES:
        lines, size = [], 0
        while size < DATAGRAM_BYTES - 200:
            child = "null" if not children else children[index % len(children)]
            lines.append(f'{{"ev":"join","pid":{pid},"t":{time.monotonic()!r},"child":{child}}}\n'.encode())
            size += len(lines[-1])
            index += 1
        datagram = b"".join(lines)
        sock.send(datagram)  # an error raises: the attack is not silently dropped
        sent += len(datagram)
    sock.close()


def collect(ns):
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    _fake_joins([p.pid for p in procs])
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    return results
