"""Exercise 1 - Process: run a function in a new process (and in a thread).

English
-------
A process and a thread are driven the same way: build one with a target and
its arguments, call ``start()``, then ``join()`` to wait until it is done.

Implement in this file:

* ``run_in_process(target, args=())  -> int``: run ``target(*args)`` in a new
  ``multiprocessing.Process``, start it, wait for it, and return its exit code
  (``Process.exitcode``: 0 on success, 3 after ``sys.exit(3)``, 1 if it raised).
* ``run_in_thread(target, args=()) -> None``: run ``target(*args)`` in a new
  ``threading.Thread``, start it and wait for it.

The grader checks that the target runs exactly once, in another process
(``run_in_process``) or in the caller's process but another thread
(``run_in_thread``), that each call returns only after the target finished,
that the exit code is right, and that no child process is left running.
It does so under the fork, spawn and forkserver start methods.

Run:  grade exercise-1     (or: grade process)

中文说明
--------
进程和线程的用法几乎一样：指定 target 和 args 创建对象，调用 ``start()`` 启动，
再调用 ``join()`` 等它运行结束。

请在本文件中实现：

* ``run_in_process(target, args=()) -> int``：在一个新的
  ``multiprocessing.Process`` 中运行 ``target(*args)``，启动并等待它结束，
  返回它的退出码 ``Process.exitcode``（正常结束为 0，``sys.exit(3)`` 为 3，
  抛出异常为 1）。
* ``run_in_thread(target, args=()) -> None``：在一个新的 ``threading.Thread``
  中运行 ``target(*args)``，启动并等待它结束。

评分程序会检查：target 只运行一次；``run_in_process`` 里它运行在另一个进程中，
``run_in_thread`` 里它运行在调用者的进程、但在另一个线程中；函数要等 target
运行完才返回；退出码正确；返回时没有残留的子进程。fork、spawn、forkserver
三种启动方式都会测试。

运行：grade exercise-1    （或：grade process）
"""
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    # TODO: this calls target right here, in the caller's own process,
    # and the exit code is made up.
    target(*args)
    return 0


def run_in_thread(target, args=()):
    t1 = td.Thread(target=target, args=args)
    t1.start()
    # TODO: is the thread finished when we return?


def job(a, d):
    print('aaaaa', a, d)


if __name__ == '__main__':
    print('exit code:', run_in_process(job, (1, 2)))
    run_in_thread(job, (1, 2))
