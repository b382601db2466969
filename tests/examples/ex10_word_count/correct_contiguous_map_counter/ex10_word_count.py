# expect: passed
"""Exercise 10 — word count as map (in a Pool) and reduce (in the caller)."""
from collections import Counter
from multiprocessing import Pool


def count_chunk(chunk):
    return Counter(word.lower() for line in chunk for word in line.split())


def count_words(lines, processes=2):
    lines = list(lines)
    if not lines:
        return {}
    n_chunks = min(len(lines), processes * 4)          # a few chunks per worker
    size = -(-len(lines) // n_chunks)                   # ceil division
    chunks = [lines[i:i + size] for i in range(0, len(lines), size)]
    with Pool(processes) as pool:
        partials = pool.map(count_chunk, chunks)
    total = Counter()
    for part in partials:
        total.update(part)
    return dict(total)
