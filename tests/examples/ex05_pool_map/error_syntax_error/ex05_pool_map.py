# expect: error — a syntax error (a missing colon): nothing is graded, and no hint of the exercise (they are about pools, not syntax) is shown
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None)
    with mp.Pool(processes) as pool:
        return pool.map(job, values)
