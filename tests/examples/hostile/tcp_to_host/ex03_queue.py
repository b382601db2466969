# expect: failed — collect() connects over TCP to a listener on the grading machine (127.0.0.1, a port tests/test_containment.py writes in) and sends a line, then returns the right answer; no socket but AF_UNIX may be opened (the seccomp filter: "Address family not supported"; Landlock refuses the connect too), and the error is not caught
import multiprocessing as mp
import socket

MARKER = "000000000"  # tests/test_containment.py writes a unique one
PORT = 9  # tests/test_containment.py writes the port of its listener


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as sock:
        sock.sendall(f"tcp {MARKER}\n".encode())
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
