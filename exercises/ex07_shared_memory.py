"""Exercise 7 - Value/Array: shared memory between processes.

English
-------
``multiprocessing.Value(typecode, x)`` and ``multiprocessing.Array(typecode,
n)`` live in shared memory, so a child's writes are seen by the parent. The
type code fixes the C type: ``'i'`` is a C int, ``'d'`` a C double, ...

Implement:

* ``add_in_child(start: float, delta: float) -> float``: a ``Value`` holding
  ``start``; a child process adds ``delta`` to it; return the value once the
  child has been joined. Mind the type code: the inputs are floats.
* ``squares(n: int, workers: int = 2) -> list[int]``: an ``Array('i', n)``;
  split the indexes ``0 .. n-1`` across ``workers`` child processes, each
  writing ``i * i`` into its own slots; return ``list(array)``. ``n`` is at
  most 10,000 and may be 0 or smaller than ``workers``.

The grader checks the values with random non-integer floats and random sizes
(one of them smaller than ``workers``), that the array was written by child
processes and not by the caller (by exactly ``workers`` of them when every
worker has slots to fill; a worker with no index writes nothing), and that no
child is left running. It runs under fork, spawn and forkserver.

Run:  grade exercise-7     (or: grade shared-memory)

中文说明
--------
``multiprocessing.Value(类型码, x)`` 和 ``multiprocessing.Array(类型码, n)``
位于共享内存中，子进程写入的数据父进程也能看到。类型码决定 C 语言中的类型：
``'i'`` 是 C 的 int，``'d'`` 是 C 的 double，等等。

请实现：

* ``add_in_child(start: float, delta: float) -> float``：用一个 ``Value`` 保存
  ``start``，由一个子进程把 ``delta`` 加上去；等子进程 join 之后返回这个值。
  注意类型码：输入是浮点数。
* ``squares(n: int, workers: int = 2) -> list[int]``：创建 ``Array('i', n)``，
  把下标 ``0 .. n-1`` 分配给 ``workers`` 个子进程，每个子进程在属于自己的位置
  写入 ``i * i``；返回 ``list(array)``。``n`` 不超过 10,000，可能为 0，也可能
  小于 ``workers``。

评分程序会用随机的非整数浮点数和随机大小（其中一个小于 ``workers``）检查结果，
检查数组确实由子进程而不是调用者写入（每个工作进程都分到下标时，恰好由
``workers`` 个子进程写入；没有分到下标的工作进程什么也不写），并检查返回时没有
残留的子进程。
fork、spawn、forkserver 都会测试。

运行：grade exercise-7    （或：grade shared-memory）
"""
import multiprocessing as mp


def add(v, delta):
    """Child: add delta to the shared value."""
    with v.get_lock():
        v.value += delta


def add_in_child(start, delta):
    v = mp.Value('i', start)
    p = mp.Process(target=add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def fill(array, indexes):
    """Child: write i * i at every index it was given."""
    for i in indexes:
        array[i] = i * i


def squares(n, workers=2):
    array = mp.Array('i', n)
    # TODO: the work should be split across `workers` child processes.
    for i in range(n):
        array[i] = i * i
    return list(array)


if __name__ == '__main__':
    print(add_in_child(3.14, 0.5))
    print(squares(10))
