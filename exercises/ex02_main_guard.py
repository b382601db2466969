"""Exercise 2 - main guard: make this script safe for every start method.

English
-------
This file is a script. Run as ``python ex02_main_guard.py`` it maps the
top-level function ``square(x)`` (returns ``x * x``) over ``range(10)`` with a
``multiprocessing.Pool`` and prints, on one line:

    [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]

It works with the ``fork`` start method, but under ``spawn`` (macOS, Windows)
and ``forkserver`` (Linux from Python 3.14) every child re-imports this file,
runs the Pool code again and crashes (or hangs). Keep ``square`` at top level,
and make the Pool code run only when the file is executed as a script.

The grader runs the script under fork, spawn and forkserver and checks the
printed line and exit status 0; it also imports the module and checks that
importing prints nothing and starts no process.

Run:  grade exercise-2     (or: grade main-guard)

中文说明
--------
本文件是一个脚本。用 ``python ex02_main_guard.py`` 运行时，它用
``multiprocessing.Pool`` 把顶层函数 ``square(x)``（返回 ``x * x``）映射到
``range(10)`` 上，
并在一行中打印 ``[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]``。

在 ``fork`` 启动方式下它能正常运行；但在 ``spawn``（macOS、Windows）和
``forkserver``（Python 3.14 起 Linux 的默认方式）下，每个子进程都会重新导入
这个文件，再次执行创建进程池的代码，于是崩溃或卡住。请保留顶层的 ``square``，
并让进程池的代码只在本文件作为脚本直接运行时才执行。

评分程序会在 fork、spawn、forkserver 下分别运行脚本，检查输出和退出码 0；
还会导入本模块，检查导入时不打印任何内容、不启动任何进程。

运行：grade exercise-2    （或：grade main-guard）
"""
import multiprocessing as mp


def square(x):
    return x * x


pool = mp.Pool()
res = pool.map(square, range(10))
print(res)
pool.close()
pool.join()
