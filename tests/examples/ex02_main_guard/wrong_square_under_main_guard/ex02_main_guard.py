# expect: timeout — square() is defined inside the main guard: importing the module finds no square, and a spawn or forkserver pool worker, which imports the script as __mp_main__, cannot find it either (not a pickling problem)
import multiprocessing as mp

if __name__ == "__main__":
    def square(x):
        return x * x

    with mp.Pool(processes=1) as pool:  # one worker: its deaths, one after the other, print whole tracebacks
        print(pool.map(square, range(10)))
