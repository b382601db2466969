# expect: failed — collect() opens an AF_NETLINK (route) socket and asks the kernel for its network links, then returns the right answer; no socket but AF_UNIX may be opened (the seccomp filter: "Address family not supported"), and the error is not caught
import multiprocessing as mp
import socket
import struct

NETLINK_ROUTE = 0
RTM_GETLINK, NLM_F_REQUEST, NLM_F_DUMP = 18, 0x1, 0x300


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        body = struct.pack("=Bxxxiii", socket.AF_UNSPEC, 0, 0, 0)  # struct ifinfomsg
        sock.send(struct.pack("=IHHII", 16 + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        sock.recv(65536)
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
