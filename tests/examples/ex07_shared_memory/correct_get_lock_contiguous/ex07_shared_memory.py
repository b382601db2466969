# expect: passed
"""Exercise 7 — shared memory with Value and Array."""
import multiprocessing as mp


def _add(value, delta):
    with value.get_lock():           # += is a read then a write
        value.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)         # 'd': C double, holds any float
    p = mp.Process(target=_add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def _fill(arr, lo, hi):
    arr[lo:hi] = [i * i for i in range(lo, hi)]


def squares(n, workers=2):
    arr = mp.Array('i', n)
    size, extra = divmod(n, workers)
    processes = []
    lo = 0
    for w in range(workers):                   # contiguous blocks
        hi = lo + size + (1 if w < extra else 0)
        processes.append(mp.Process(target=_fill, args=(arr, lo, hi)))
        lo = hi
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return list(arr)
