# expect: passed
"""Exercise 8 — a Lock makes the two processes' updates add up."""
import multiprocessing


def job(v, num, lock, times):
    with lock:                      # one process does all its adds, then the other
        for _ in range(times):
            v.value += num


def multicore(times=10_000):
    ctx = multiprocessing.get_context()
    v = ctx.Value('i', 0)
    lock = ctx.Lock()
    p1 = ctx.Process(target=job, args=(v, 1, lock, times))
    p2 = ctx.Process(target=job, args=(v, 3, lock, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value
