# expect: failed — print(results) sits outside the main guard: importing the module prints "[]" (and every spawn/forkserver worker prints "[]" too)
import multiprocessing as mp


def square(x):
    return x * x


results = []
if __name__ == '__main__':
    with mp.Pool() as pool:
        results = pool.map(square, range(10))
print(results)
