"""Not a forgery, a plain wrong answer (exercise-10, word-count): ``count_words`` cuts
``lines`` into ``processes`` chunks of ``len(lines) // processes`` lines and drops the
lines left over after the equal chunks.

Everything else is right: a real Pool of ``processes`` workers maps ``count_chunk``
over the chunks (each task returns a Counter), the partial counts are merged, the pool
is closed by its ``with`` block. But when ``len(lines)`` does not divide evenly by
``processes``, the last ``len(lines) % processes`` lines are never counted.

Why a correct grader must not pass it: the counts are wrong for most inputs. The grader
only notices when its random text happens to have a remainder of non-empty lines: with
``processes=2`` and an even number of lines (half of all draws), and ``processes=3``
and a multiple of 3 lines (or only empty lines left over), it passes. The inputs must
always leave a remainder of non-empty lines (as exercise-7's ``n`` never divides
evenly by ``workers``).
"""

import collections
import multiprocessing as mp


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = collections.Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    lines = list(lines)
    if not lines:
        return {}
    size = len(lines) // processes
    chunks = [lines[i * size:(i + 1) * size] for i in range(processes)]  # the remainder is dropped
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, chunks)
    total = collections.Counter()
    for counts in partial_counts:
        total.update(counts)
    return dict(total)


if __name__ == '__main__':
    print(count_words(['the cat sat on the mat', 'The dog sat too', 'a cat and a dog'], processes=2))
