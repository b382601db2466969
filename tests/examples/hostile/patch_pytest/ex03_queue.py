# expect: failed — at import it monkeypatches pytest's TestReport so every outcome reads "passed", then returns a wrong answer; the grader must not trust an in-process pytest that the submission can touch
import multiprocessing as mp

try:
    import _pytest.reports as _reports

    _original_init = _reports.TestReport.__init__

    def _always_passed(self, *args, **kwargs):
        _original_init(self, *args, **kwargs)
        self.outcome = "passed"
        self.longrepr = None

    _reports.TestReport.__init__ = _always_passed
    try:
        import _pytest.runner as _runner
        _original_make = _runner.pytest_runtest_makereport

        def _make_passed(item, call):
            rep = _original_make(item, call)
            rep.outcome = "passed"
            rep.longrepr = None
            return rep

        _runner.pytest_runtest_makereport = _make_passed
    except Exception:
        pass
except Exception:
    pass


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    return [1] * len(ns)
