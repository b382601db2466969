# expect: timeout — collect() spins forever (while True: pass) and never returns; the grader must stop it at its time limit
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    while True:
        pass
