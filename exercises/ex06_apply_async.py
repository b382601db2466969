"""Exercise 6 - apply_async: submit first, collect later.

English
-------
``pool.apply_async(f, (x,))`` hands ONE call to a pool worker and returns at
once with an ``AsyncResult``; ``.get()`` waits for that call's value. Note the
comma: the arguments are a tuple.

``job(x)`` is given (it returns ``x * x``) and so is ``one(x) -> int``
(runs ``job(x)`` with ``apply_async`` and returns ``.get()``). Fix
``many(values) -> list[int]``:
it must submit EVERY value with ``apply_async`` first, and only then collect
the results with ``.get()``, in submission order. Calling ``.get()`` right
after each submission makes the pool run the tasks one at a time.

The grader checks the values on random inputs, one ``apply_async`` per value,
that all submissions happened before the first ``.get()``, and that no pool
worker is left running. It runs under fork, spawn and forkserver.

Run:  grade exercise-6     (or: grade apply-async)

中文说明
--------
``pool.apply_async(f, (x,))`` 把一次函数调用交给池中的某个工作进程，并立即返回
一个 ``AsyncResult``；调用它的 ``.get()`` 才会等待并取得结果。注意那个逗号：
参数必须是元组。

``job(x)`` 已给出（返回 ``x * x``），``one(x) -> int`` 也已写好（用
``apply_async`` 运行 ``job(x)`` 并返回 ``.get()``）。请修改
``many(values) -> list[int]``：先用
``apply_async`` 把所有值全部提交，然后再按提交顺序逐个 ``.get()`` 取回结果。
如果每提交一个就马上 ``.get()``，进程池只能一个接一个地执行任务。

评分程序会检查：随机输入下结果正确；每个值恰好调用一次 ``apply_async``；所有
提交都发生在第一次 ``.get()`` 之前；返回时没有残留的工作进程。
fork、spawn、forkserver 都会测试。

运行：grade exercise-6    （或：grade apply-async）
"""
import multiprocessing as mp


def job(x):
    """(given)"""
    return x * x


def one(x):
    with mp.Pool() as pool:
        res = pool.apply_async(job, (x,))
        return res.get()


def many(values):
    with mp.Pool() as pool:
        return [pool.apply_async(job, (v,)).get() for v in values]


if __name__ == '__main__':
    print(one(2))
    print(many(range(10)))
