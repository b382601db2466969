# expect: failed — run as a script, the module replaces the files the worker captures its output in ($GRADE_SANDBOX_DIR/calls/<i>.stdout, .stderr) with symlinks to secret.txt next to the session folder and to /proc/self/cwd/solutions/ex02_main_guard.py, then exits with status 1; the grader shows the whole file (its size taken from the link's target) as the script's output
import glob
import os
import sys

import multiprocessing as mp


def square(x):
    return x * x


if __name__ == "__main__":
    folder = os.environ["GRADE_SANDBOX_DIR"]
    targets = {"stdout": os.path.join(os.path.dirname(folder), "secret.txt"),
               "stderr": "/proc/self/cwd/solutions/ex02_main_guard.py"}
    for stream, target in targets.items():
        for path in glob.glob(os.path.join(folder, "calls", f"*.{stream}")):
            os.unlink(path)
            os.symlink(target, path)
    sys.exit(1)
