# expect: failed — collect() connects to a unix socket of the grading machine (a root-owned 0600 socket in a 0700 folder outside the course, whose path tests/test_containment.py writes in) and sends a byte, then returns the right answer; bubblewrap hides the path and a user of its own is refused, and the error is not caught
import multiprocessing as mp
import socket

MARKER = "000000000"  # tests/test_containment.py writes a unique one
SOCKET_PATH = "/nonexistent/host.sock"  # tests/test_containment.py writes the path of its listener


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(SOCKET_PATH)
        sock.sendall(f"unix {MARKER}\n".encode())
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
