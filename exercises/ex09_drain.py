"""Exercise 9 - draining queues: read before you join.

English
-------
A child that puts data on a ``multiprocessing.Queue`` sends it through a pipe.
The pipe holds only about 64 KiB; a child with more to send cannot exit until
someone reads it. So a parent that ``join()``s the child before reading the
queue waits for the child, while the child waits for the parent: deadlock.
(The multiprocessing docs call this "joining processes that use queues".)

``produce(q, index, size)`` is given: it puts ``(index, [index] * size)`` on
``q``. Fix ``gather(sizes) -> list[list[int]]``: one process per size, one
shared Queue, results returned in the order of ``sizes``. It must finish for
payloads far larger than the pipe buffer (sizes of 1,000,000).

The grader checks the values with large sizes; a hang is reported as a
timeout and every process it left is cleaned up. No child may be left
running after ``gather`` returns. It runs under fork, spawn and forkserver.

Run:  grade exercise-9     (or: grade drain)

中文说明
--------
子进程往 ``multiprocessing.Queue`` 放入的数据要经过一个管道传输。管道只能容纳
大约 64 KiB；数据更多时，子进程必须等有人读走数据才能退出。于是，如果父进程先
``join()`` 子进程、后读队列，父进程在等子进程，子进程在等父进程：死锁。
（官方文档称之为 “joining processes that use queues”。）

``produce(q, index, size)`` 已给出：它把 ``(index, [index] * size)`` 放入
``q``。请修改 ``gather(sizes) -> list[list[int]]``：每个 size 一个进程，共用一个
Queue，按 ``sizes`` 的顺序返回结果。数据远大于管道缓冲区时（size 为 1,000,000）
也必须能正常结束。

评分程序会用很大的 size 检查结果；卡住会被报告为超时，并清理掉残留的进程。
``gather`` 返回后不能有仍在运行的子进程。fork、spawn、forkserver 都会测试。

运行：grade exercise-9    （或：grade drain）
"""
import multiprocessing as mp


def produce(q, index, size):
    """(given) Put (index, [index] * size) on q."""
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    processes = [mp.Process(target=produce, args=(q, index, size))
                 for index, size in enumerate(sizes)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    results = [None] * len(sizes)
    for _ in sizes:
        index, data = q.get()
        results[index] = data
    return results


if __name__ == '__main__':
    print([len(r) for r in gather([10, 20])])
