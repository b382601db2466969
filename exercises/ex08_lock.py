"""Exercise 8 - Lock: stop two processes from losing each other's updates.

English
-------
``v.value += num`` on a shared ``Value`` is a read followed by a write. When
two processes do it at the same time, one can overwrite the other's update,
and the total comes out too small. A ``multiprocessing.Lock`` held around the
update lets only one process in at a time.

Fix ``job(v, num, lock, times)``: add ``num`` to ``v.value``, ``times`` times,
using the lock it receives. ``multicore(times=10_000) -> int`` is written: it
shares ``Value('i', 0)`` and one Lock between two processes running
``job(v, 1, lock, times)`` and ``job(v, 3, lock, times)``, starts both before
joining either, and returns ``v.value`` - which must be ``4 * times``.

The grader runs ``multicore`` several times with a large ``times`` and checks
the exact total every time, that both processes ran, both started before
either was joined, and no child is left running. It runs under fork, spawn
and forkserver.

Run:  grade exercise-8     (or: grade lock)

中文说明
--------
对共享的 ``Value`` 执行 ``v.value += num``，其实是先读、再写两步。两个进程同时
这样做时，一个进程的更新可能被另一个覆盖，最终总数偏小。在更新前后持有一把
``multiprocessing.Lock``，就能保证同一时刻只有一个进程在修改。

请修改 ``job(v, num, lock, times)``：把 ``num`` 加到 ``v.value`` 上，共加
``times`` 次，并使用传进来的锁。``multicore(times=10_000) -> int`` 已写好：它让
两个进程共享 ``Value('i', 0)`` 和同一把锁，分别运行 ``job(v, 1, lock, times)``
和 ``job(v, 3, lock, times)``，两个都启动之后才 join，最后返回 ``v.value``，
它必须等于 ``4 * times``。

评分程序会用较大的 ``times`` 多次运行 ``multicore``，每次都检查总数是否完全
正确、两个进程都运行了、两者都在任何 join 之前启动、返回时没有残留的子进程。
fork、spawn、forkserver 都会测试。

运行：grade exercise-8    （或：grade lock）
"""
import multiprocessing as mp


def job(v, num, lock, times):
    for _ in range(times):
        v.value += num  # v.value reads / writes the shared memory


def multicore(times=10_000):
    lock = mp.Lock()
    v = mp.Value('i', 0)
    p1 = mp.Process(target=job, args=(v, 1, lock, times))
    p2 = mp.Process(target=job, args=(v, 3, lock, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value


if __name__ == '__main__':
    print(multicore(), 'expected', 4 * 10_000)
