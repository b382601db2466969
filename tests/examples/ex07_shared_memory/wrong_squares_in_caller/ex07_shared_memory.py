# expect: failed — squares() fills the Array in the caller's process; no worker process writes anything
import multiprocessing as mp


def _add(v, delta):
    with v.get_lock():
        v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=_add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def squares(n, workers=2):
    arr = mp.Array('i', n)
    for i in range(n):
        arr[i] = i * i
    return list(arr)
