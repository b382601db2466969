"""Exercise 3 - Queue: get results back from several processes.

English
-------
A function run by a Process cannot return a value to the parent, so each
child puts its result on a shared ``multiprocessing.Queue``.

``job(q, index, n)`` is given: it puts
``(index, sum(i + i**2 + i**3 for i in range(n)))`` on ``q``. Implement
``collect(ns) -> list[int]``: start one Process per element of ``ns``, each
running ``job(q, index, n)`` with ONE shared Queue, and return the results in
the order of ``ns`` (children may finish in any order). ``collect([])`` is ``[]``.

The processes should run at the same time: start all of them before you join
any. The grader checks the values (random inputs), that exactly ``len(ns)``
processes were started, all before the first ``join()``, that the results
came from the children, and that no child is left running. It runs under
fork, spawn and forkserver.

Run:  grade exercise-3     (or: grade queue)

中文说明
--------
Process 运行的函数无法把返回值交给父进程，所以每个子进程把结果放进一个共享的
``multiprocessing.Queue``。

``job(q, index, n)`` 已给出：它把
``(index, sum(i + i**2 + i**3 for i in range(n)))`` 放入 ``q``。请实现
``collect(ns) -> list[int]``：为 ``ns`` 的每个元素启动一个进程，运行
``job(q, index, n)``，所有进程共用同一个 Queue；按 ``ns`` 的顺序返回结果
（子进程完成的先后顺序不确定）。``collect([])`` 返回 ``[]``。

这些进程应当同时运行：先把它们全部启动，再去 join。评分程序会检查：结果正确
（输入随机）；恰好启动了 ``len(ns)`` 个进程，且都在第一次 ``join()`` 之前启动；
结果确实来自子进程；返回时没有残留的子进程。fork、spawn、forkserver 都会测试。

运行：grade exercise-3    （或：grade queue）
"""
import multiprocessing as mp


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    for index, n in enumerate(ns):
        p = mp.Process(target=job, args=(q, index, n))
        p.start()
        p.join()
    results = [None] * len(ns)
    for _ in ns:
        index, res = q.get()
        results[index] = res
    return results


if __name__ == '__main__':
    print(collect([10, 10]))
