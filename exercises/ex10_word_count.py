"""Exercise 10 - map/reduce: count words with a process pool.

English
-------
Capstone. Map: split the input into chunks and let a ``multiprocessing.Pool``
count the words of each chunk in its workers. Reduce: merge the partial
counts into one result.

Implement ``count_words(lines: list[str], processes: int = 2) -> dict[str, int]``:
words are the pieces of ``str.split()``, lower-cased, so the result equals
``dict(collections.Counter(w.lower() for l in lines for w in l.split()))``.
Split ``lines`` into several chunks (at least ``processes`` of them when there
are enough lines), count each chunk in a Pool of ``processes`` workers with a
top-level function, and merge the partial counts. Return a plain ``dict``;
``count_words([])`` is ``{}``.

The grader checks the values on random text, that at least 2 chunks were
counted in pool workers when ``processes >= 2`` and there are at least 2
lines, and that the pool is cleaned up (no worker left running). It runs
under fork, spawn and forkserver.

Run:  grade exercise-10     (or: grade word-count)

中文说明
--------
综合练习。Map：把输入切成若干块，交给 ``multiprocessing.Pool`` 的工作进程分别
统计每块的词频。Reduce：把各块的部分结果合并成一个总结果。

请实现 ``count_words(lines: list[str], processes: int = 2) -> dict[str, int]``：
单词是 ``str.split()`` 切出的片段并转成小写，所以结果应等于
``dict(collections.Counter(w.lower() for l in lines for w in l.split()))``。
把 ``lines`` 切成多块（行数足够时至少 ``processes`` 块），用一个顶层函数在有
``processes`` 个工作进程的 Pool 中统计每块，再合并部分结果，返回普通的 ``dict``；
``count_words([])`` 返回 ``{}``。

评分程序会用随机文本检查结果；当 ``processes >= 2`` 且至少有 2 行时，检查至少
有 2 块是在池中的工作进程里统计的；并检查进程池已被清理（没有残留的工作进程）。
fork、spawn、forkserver 都会测试。

运行：grade exercise-10    （或：grade word-count）
"""
import multiprocessing as mp
from collections import Counter


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    chunks = [list(lines)]   # TODO: one chunk keeps all but one worker idle
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, chunks)
    total = Counter()
    for counts in partial_counts:   # reduce step
        total.update(counts)
    return dict(total)


if __name__ == '__main__':
    text = ['the cat sat on the mat', 'The dog sat too', 'a cat and a dog']
    print(count_words(text, processes=2))
