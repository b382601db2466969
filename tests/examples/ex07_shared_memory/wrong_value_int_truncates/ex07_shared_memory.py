# expect: failed — Value('i', ...) holds a C int: the float start and the sum are truncated with int(), so 2.75 + 0.5 gives 2 instead of 3.25 (use 'd')
import multiprocessing as mp


def _add(v, delta):
    v.value = int(v.value + delta)      # 'i' will not take a float


def add_in_child(start, delta):
    v = mp.Value('i', int(start))
    p = mp.Process(target=_add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def _fill(arr, lo, hi):
    for i in range(lo, hi):
        arr[i] = i * i


def squares(n, workers=2):
    arr = mp.Array('i', n)
    step = -(-n // workers) if n else 0
    procs = [mp.Process(target=_fill, args=(arr, w * step, min(n, (w + 1) * step))) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return list(arr)
