# expect: failed — no `if __name__ == '__main__':` guard: importing the module starts a Pool and prints, and under spawn/forkserver every worker re-imports the module and tries to start a Pool of its own (RuntimeError; the run crashes or hangs)
import multiprocessing as mp


def square(x):
    return x * x


pool = mp.Pool()
res = pool.map(square, range(10))
print(res)
pool.close()
pool.join()
