# expect: passed
import ctypes
from multiprocessing import Array, Process, Value


def add_delta(shared, delta):
    shared.value = shared.value + delta      # only one writer: no lock needed


def add_in_child(start: float, delta: float) -> float:
    shared = Value(ctypes.c_double, start)
    child = Process(target=add_delta, args=(shared, delta))
    child.start()
    child.join()
    return shared.value


def write_every(arr, first, step):
    for i in range(first, len(arr), step):   # strided: first, first+step, ...
        arr[i] = i * i


def squares(n: int, workers: int = 2) -> list:
    arr = Array('i', n)
    children = [Process(target=write_every, args=(arr, w, workers)) for w in range(workers)]
    for c in children:
        c.start()
    for c in children:
        c.join()
    return arr[:]
