# expect: failed — chunks of n // workers indexes, one process per chunk start in range(0, n, size): n % workers left over makes one process too many, and when n < workers the size is 0, so range() raises ValueError before any process starts
import multiprocessing as mp


def add(v, delta):
    with v.get_lock():
        v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def fill(array, lo, hi):
    for i in range(lo, hi):
        array[i] = i * i


def squares(n, workers=2):
    array = mp.Array('i', n)
    size = n // workers
    processes = [mp.Process(target=fill, args=(array, lo, min(lo + size, n))) for lo in range(0, n, size)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return list(array)
