# expect: failed — collect() forks in an endless loop (each child sleeps 30 s, then exits); the grader's process limit must make fork fail (or its time limit stop it) and every child must be killed
import multiprocessing as mp
import os
import time


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
