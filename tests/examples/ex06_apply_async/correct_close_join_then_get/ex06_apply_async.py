# expect: passed
"""Exercise 6 — apply_async: submit everything first, then collect."""
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    pool = mp.Pool(processes=1)
    try:
        return pool.apply_async(job, args=(x,)).get()
    finally:
        pool.close()
        pool.join()


def many(values):
    pool = mp.Pool()
    try:
        pending = [pool.apply_async(job, (v,)) for v in values]   # all submitted
        pool.close()
        pool.join()              # every task has finished; get() returns at once
        return [r.get() for r in pending]
    finally:
        pool.terminate()         # no-op after a clean join; cleans up on error
