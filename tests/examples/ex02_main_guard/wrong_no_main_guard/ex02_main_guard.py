# expect: timeout — no `if __name__ == '__main__':` guard: the Pool runs while the module is being imported, so importing it deadlocks even under fork (the pool's task thread waits for the half-imported module), and under spawn/forkserver every worker re-imports the module, is refused a Pool of its own (RuntimeError), which stops the script at once
import multiprocessing as mp


def square(x):
    return x * x


pool = mp.Pool(1)  # one worker: the tracebacks of the workers that die are printed one after the other, never interleaved
res = pool.map(square, range(10))
print(res)
pool.close()
pool.join()
