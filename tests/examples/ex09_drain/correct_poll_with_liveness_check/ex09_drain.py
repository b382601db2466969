# expect: passed
import multiprocessing
import queue


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    ctx = multiprocessing.get_context()
    q = ctx.Queue()
    procs = []
    for index, size in enumerate(sizes):
        p = ctx.Process(target=produce, args=(q, index, size))
        p.start()
        procs.append(p)
    received = {}
    try:
        while len(received) < len(sizes):
            try:
                index, payload = q.get(timeout=0.2)
            except queue.Empty:
                # nothing yet: only give up if every producer died without sending
                if not any(p.is_alive() for p in procs) and q.empty():
                    raise RuntimeError("a producer exited without sending its result")
                continue
            received[index] = payload
    finally:
        for p in procs:
            if len(received) < len(sizes) and p.is_alive():
                p.terminate()
            p.join()
    return [received[i] for i in range(len(sizes))]
