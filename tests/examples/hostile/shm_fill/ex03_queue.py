# expect: failed — collect() leaves things in /dev/shm: a SharedMemory segment and a named semaphore, closed but never unlinked (and taken off the resource tracker's list), then 300 MiB in plain files, then returns the right answer; nothing of it may be left on the machine once grading is over, and the leaked segment must fail the check
import _multiprocessing
import multiprocessing as mp
import os
from multiprocessing import resource_tracker, shared_memory

MARKER = "000000000"  # tests/test_containment.py writes a unique one
# Every name below carries the marker, and the pid: a session's own (three sessions, one per start method).
FILES, FILE_BYTES = 100, 3 * 1024**2  # 300 MiB, each file under the sandbox's 4 MiB limit per file
SEMAPHORE = 1


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _leave_in_shm():
    segment = shared_memory.SharedMemory(create=True, name=f"{MARKER}_seg_{os.getpid()}", size=1024**2)
    segment.buf[:4] = b"left"
    resource_tracker.unregister(segment._name, "shared_memory")  # nobody cleans up after us
    segment.close()  # unmapped: no process has it mapped at its exit
    # /dev/shm/sem.<MARKER>_sem_<pid>, never unlinked (unlink=False)
    semaphore = _multiprocessing.SemLock(SEMAPHORE, 1, 1, f"/{MARKER}_sem_{os.getpid()}", False)
    del semaphore
    chunk = b"\xa5" * FILE_BYTES
    for index in range(FILES):  # a full /dev/shm (ENOSPC) raises: the attack is not silently dropped
        with open(f"/dev/shm/{MARKER}_fill_{os.getpid()}_{index}", "wb") as file:
            file.write(chunk)


def collect(ns):
    if ns:
        _leave_in_shm()
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    return results
