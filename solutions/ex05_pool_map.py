"""Exercise 5 - Pool.map: reference solution.

The pool gets the requested number of workers; the ``with`` block shuts the
workers down (``Pool.__exit__`` calls ``terminate()``, which is safe here
because ``map`` has already returned every result).
"""
import multiprocessing as mp


def job(x):
    """(given)"""
    return x * x


def multicore(values, processes=None):
    with mp.Pool(processes=processes) as pool:
        return pool.map(job, values)   # [] for an empty input


if __name__ == '__main__':
    print(multicore(range(10), processes=3))
