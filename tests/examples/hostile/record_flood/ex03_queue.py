# expect: failed — every child process, before it puts its result, sends the grader ~3.8 MiB of well-formed trace records on the sandbox's trace socket (just under what one process may send), so that together they send more than a session keeps; the grader must stop the session ("too many records"), not keep them all nor pass it
import multiprocessing as mp
import os
import socket
import time

FLOOD_BYTES = 3_800 * 1024  # per process: under the grader's 4 MiB per process, over 8 MiB for four of them
DATAGRAM_BYTES = 60_000


def _flood():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.connect(os.path.join(os.environ["GRADE_SANDBOX_DIR"], "trace.sock"))
    pid, sent = os.getpid(), 0
    while sent < FLOOD_BYTES:
        line = f'{{"ev":"thread_start","pid":{pid},"t":{time.monotonic()!r},"target":"{"x" * 400}"}}\n'.encode()
        datagram = line * (DATAGRAM_BYTES // len(line))
        sock.send(datagram)  # an error (a refused socket) raises: the attack is not silently dropped
        sent += len(datagram)
    sock.close()


def job(q, index, n):
    _flood()
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    return results
