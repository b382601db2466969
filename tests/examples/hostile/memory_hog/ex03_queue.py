# expect: failed — collect() allocates 64 MiB bytearrays until allocation fails (MemoryError, or the process is killed); the grader's memory limit must stop it without harming the machine
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))
