# expect: passed — without a size asked for, a pool of one worker per value (`Pool(processes or len(values))`): more workers than CPUs, still correct, and graded in time under spawn, alone or under --stress
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    with mp.Pool(processes or len(values)) as pool:
        return pool.map(job, values)
