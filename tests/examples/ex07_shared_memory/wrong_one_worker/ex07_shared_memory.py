# expect: failed — squares() ignores `workers` and lets a single child process write every slot
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


def _fill_all(arr):
    for i in range(len(arr)):
        arr[i] = i * i


def squares(n, workers=2):
    arr = mp.Array('i', n)
    p = mp.Process(target=_fill_all, args=(arr,))
    p.start()
    p.join()
    return list(arr)
