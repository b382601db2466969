"""Exercise 5 - Pool.map: let a process pool do the work.

English
-------
A ``multiprocessing.Pool`` keeps a set of worker processes; ``pool.map(f, xs)``
sends the items to the workers and returns ``f``'s results in input order.
Unlike a bare Process, the function's return value comes back to you.

``job(x)`` is given (it returns ``x * x``). Implement
``multicore(values, processes=None) -> list``:
map ``job`` over ``values`` with a Pool of ``processes`` workers (``None``
means one per CPU). Close and join the pool before returning (or use it as a
context manager: ``with mp.Pool(...) as pool:``). ``multicore([])`` is ``[]``.

The grader checks the values on random inputs, that the work ran in pool
workers and never in the caller, that ``processes=3`` started exactly 3
workers, and that no worker is still alive once ``multicore`` has returned.
It runs under fork, spawn and forkserver.

Run:  grade exercise-5     (or: grade pool-map)

中文说明
--------
``multiprocessing.Pool`` 维护一组工作进程；``pool.map(f, xs)`` 把数据分给这些
进程计算，并按输入顺序返回 ``f`` 的结果。与单独的 Process 不同，函数的返回值
可以直接拿到。

``job(x)`` 已给出（返回 ``x * x``）。请实现
``multicore(values, processes=None) -> list``：用一个
有 ``processes`` 个工作进程的 Pool（``None`` 表示每个 CPU 核一个）把 ``job``
映射到 ``values`` 上。返回之前要关闭并回收进程池（close 和 join），或者把它当作
上下文管理器使用：``with mp.Pool(...) as pool:``。``multicore([])`` 返回 ``[]``。

评分程序会检查：随机输入下结果正确；计算在池中的工作进程里完成，而不在调用者
进程里；``processes=3`` 时恰好启动 3 个工作进程；``multicore`` 返回后没有仍在
运行的工作进程。fork、spawn、forkserver 都会测试。

运行：grade exercise-5    （或：grade pool-map）
"""
import multiprocessing as mp


def job(x):
    """(given)"""
    return x * x


def multicore(values, processes=None):
    pool = mp.Pool()
    res = pool.map(job, values)
    return res


if __name__ == '__main__':
    print(multicore(range(10), processes=3))
