# expect: timeout — no main guard, and the Pool is used only after its workers have had time to crash: without holding the refused child, `map` would find the Pool with no worker (ZeroDivisionError) in some runs and hang in others; the verdict and its explanation must not depend on that
import multiprocessing as mp
import time


def square(x):
    return x * x


pool = mp.Pool(2)
time.sleep(0.5)
print(pool.map(square, range(10)))
pool.close()
pool.join()
