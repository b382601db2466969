# expect: passed
# A context of its own start method: spawn starts a resource tracker of its own under every
# session method, which is multiprocessing's, not one of the workers processes=N counts.
"""Exercise 5 — Pool.map; here with imap inside a with-block."""
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    with mp.get_context("spawn").Pool(processes=processes) as pool:
        # list() drains the iterator while the pool is still open
        return list(pool.imap(job, values, chunksize=4))
