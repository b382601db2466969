"""Exercise 2 - main guard: reference solution.

Children started with spawn or forkserver import this file again (as
``__mp_main__``). Everything that starts processes therefore lives in a
function called only under ``if __name__ == "__main__":``, so importing the
module has no side effects, while ``square`` stays at top level where a child
can find it by name.
"""
import multiprocessing as mp


def square(x):
    return x * x


def main():
    with mp.Pool() as pool:
        print(pool.map(square, range(10)))


if __name__ == "__main__":
    main()
