# expect: passed
"""Exercise 5 — Pool.map; here with imap inside a with-block."""
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    with mp.Pool(processes=processes) as pool:
        # list() drains the iterator while the pool is still open
        return list(pool.imap(job, values, chunksize=4))
