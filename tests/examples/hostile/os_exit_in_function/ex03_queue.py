# expect: failed — collect() calls os._exit(0), killing the grading process with status 0 before any result is returned
import multiprocessing as mp
import os


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    os._exit(0)
