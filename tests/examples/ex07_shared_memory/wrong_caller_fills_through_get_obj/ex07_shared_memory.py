# expect: failed — the caller fills the Array itself, through get_obj(), while worker processes that never touch it run
import time
from multiprocessing import Array, Process, Value


def add_delta(shared, delta):
    with shared.get_lock():
        shared.value += delta


def add_in_child(start: float, delta: float) -> float:
    shared = Value('d', start)
    child = Process(target=add_delta, args=(shared, delta))
    child.start()
    child.join()
    return shared.value


def idle():
    time.sleep(0.05)


def squares(n: int, workers: int = 2) -> list:
    arr = Array('i', n)
    children = [Process(target=idle) for _ in range(workers)]
    for child in children:
        child.start()
    raw = arr.get_obj()
    for i in range(n):
        raw[i] = i * i
    for child in children:
        child.join()
    return arr[:]
