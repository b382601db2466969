"""Forgery (exercise-10, word-count): no Pool, no process at all; the pool task records
are written by hand.

``count_words`` counts every word in the caller. It then sends, through the tracing
runtime's ``emit`` (``sys.modules["_grade_runtime"]``), one ``task`` record per
"chunk" (two of them, or one per worker) claiming that a pool task counted it and
returned a mapping (``results=["mapping"]``), dated inside the caller's lifetime.

Why a correct grader must not pass it: the exercise is map/reduce with a Pool; here no
worker exists, and the "chunks counted in pool workers" evidence is records the
caller wrote about itself. A ``task`` record is only evidence when it comes from a pool
worker the kernel saw the caller's pool create.
"""

import collections
import multiprocessing as mp
import sys
import time


def count_chunk(lines):
    counts = collections.Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    lines = list(lines)
    if not lines:
        return {}
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        for _ in range(max(2, processes)):
            t0 = time.monotonic()
            runtime.emit("task", func=f"{__name__}.count_chunk", items=1, t0=t0, t=time.monotonic(),
                         results=["mapping"])
    return dict(count_chunk(lines))


if __name__ == '__main__':
    print(count_words(['the cat sat on the mat', 'The dog sat too'], processes=2))
