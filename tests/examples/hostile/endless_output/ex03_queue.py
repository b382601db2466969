# expect: failed — collect() prints lines forever and never returns; the grader must cap the captured output and stop it (or, without an output cap, stop it at its time limit)
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    i = 0
    while True:
        print("still collecting...", i)
        i += 1
