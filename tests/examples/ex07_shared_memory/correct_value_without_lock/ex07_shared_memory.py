# expect: passed
# A Value without a lock (one writer needs none) and an Array written through its raw
# ctypes object: the runtime counts neither kind of write, the kernel sees both.
from multiprocessing import Array, Process, Value


def add_delta(shared, delta):
    shared.value += delta


def add_in_child(start: float, delta: float) -> float:
    shared = Value('d', start, lock=False)
    child = Process(target=add_delta, args=(shared, delta))
    child.start()
    child.join()
    return shared.value


def fill(raw, first, last):
    for i in range(first, last):
        raw[i] = i * i


def squares(n: int, workers: int = 2) -> list:
    arr = Array('i', n)
    bounds = [n * w // workers for w in range(workers + 1)]
    children = [Process(target=fill, args=(arr.get_obj(), bounds[w], bounds[w + 1])) for w in range(workers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return arr[:]
