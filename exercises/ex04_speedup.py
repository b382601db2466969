"""Exercise 4 - speed-up: serial vs threads vs processes.

English
-------
``work(n) -> int`` is CPU-bound: ``sum(i * i for i in range(n))``;
``serial(tasks) -> list[int]`` runs it on every task in turn.
``threaded(tasks) -> list[int]`` (one ``threading.Thread`` per task, results
in task order) is done. Because of the GIL, threads do not speed up
pure-Python CPU work.

Implement ``multicore(tasks) -> list[int]``: run the tasks in separate
processes (``multiprocessing.Process`` + ``Queue``, or a ``Pool``) and return
the results in task order. The helper ``job(q, index, n)`` may help.

The grader checks that all three functions give ``serial``'s results, that
``threaded`` ran the work in the caller's process, and that ``multicore`` ran
it in at least ``min(len(tasks), 2)`` child processes (none of it in the
caller) that were running at the same time; no child may be left running.
It also prints the measured wall times and speed-up for your information
(not graded). It runs under fork, spawn and forkserver.

Run:  grade exercise-4     (or: grade speedup)

中文说明
--------
``work(n) -> int`` 是 CPU 密集型函数：``sum(i * i for i in range(n))``；
``serial(tasks) -> list[int]`` 依次对每个任务调用它。
``threaded(tasks) -> list[int]``（每个任务一个 ``threading.Thread``，按任务
顺序返回结果）已经写好。由于 GIL，线程并不能加速纯 Python 的计算。

请实现 ``multicore(tasks) -> list[int]``：让任务在不同的进程中运行
（``multiprocessing.Process`` + ``Queue``，或者 ``Pool``），并按任务顺序返回
结果。可以借助辅助函数 ``job(q, index, n)``。

评分程序会检查：三个函数的结果都与 ``serial`` 相同；``threaded`` 在调用者的
进程里完成计算；``multicore`` 至少在 ``min(len(tasks), 2)`` 个同时运行的子进程
中完成计算（调用者进程里不做任何计算）；返回时没有残留的子进程。它还会
显示实测的三种耗时和加速比，仅供参考，不计分。fork、spawn、forkserver
都会测试。

运行：grade exercise-4    （或：grade speedup）
"""
import multiprocessing as mp
import queue
import threading as td
import time


def work(n):
    """(given) CPU-bound work."""
    return sum(i * i for i in range(n))


def serial(tasks):
    """(given) Run every task in turn, in this thread."""
    return [work(n) for n in tasks]


def job(q, index, n):
    """Put (index, work(n)) on q; works with a thread queue or a process queue."""
    q.put((index, work(n)))


def threaded(tasks):
    q = queue.Queue()
    threads = [td.Thread(target=job, args=(q, index, n))
               for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [None] * len(tasks)
    for _ in tasks:
        index, res = q.get()
        results[index] = res
    return results


def multicore(tasks):
    q = mp.Queue()
    workers = [td.Thread(target=job, args=(q, index, n))
               for index, n in enumerate(tasks)]
    for w in workers:
        w.start()
    results = [None] * len(tasks)
    for _ in tasks:
        index, res = q.get()
        results[index] = res
    for w in workers:
        w.join()
    return results


if __name__ == '__main__':
    tasks = [3_000_000] * 2
    for f in (serial, threaded, multicore):
        st = time.perf_counter()
        f(tasks)
        print(f'{f.__name__:10s} {time.perf_counter() - st:.2f} s')
