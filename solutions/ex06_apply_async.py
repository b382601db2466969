"""Exercise 6 - apply_async: reference solution.

``many`` queues every task before waiting on any result, so the pool's
workers can run them in parallel; the results are then read in submission
order.
"""
import multiprocessing as mp


def job(x):
    """(given)"""
    return x * x


def one(x):
    with mp.Pool() as pool:
        res = pool.apply_async(job, (x,))   # note the tuple: (x,)
        return res.get()


def many(values):
    with mp.Pool() as pool:
        pending = [pool.apply_async(job, (v,)) for v in values]   # submit all
        return [res.get() for res in pending]                    # then collect


if __name__ == '__main__':
    print(one(2))
    print(many(range(10)))
