"""``grade report``: a class's statistics from a grades folder, as text and as one
self-contained HTML page, which a real headless browser loads offline and draws."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch import class_info
from grader.class_report import NOT_GRADABLE, category, compute, render_html, render_text
from grader.gradebook import GRADED, NOT_GRADED, StudentRecord, save_class, save_record
from grader.manifest import load_course
from grader.results import CheckResult, Report, Status

from conftest import ROOT

FIXTURE = Path(__file__).parent / "formats" / "report.json"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def report() -> Report:
    return Report.from_json(json.loads(FIXTURE.read_text(encoding="utf-8")))


@pytest.fixture
def grades(tmp_path: Path) -> Path:
    """A class of five: three with the fixture's report (one with exercise-3 fixed), one
    perfect on exercise-1 only, one not graded."""
    folder = tmp_path / "grades"
    info = class_info(load_course(ROOT), (1, 1))
    save_class(folder, info)
    fixed = report()
    ex3 = next(e for e in fixed.exercises if e.id == "exercise-3")
    ex3.checks = [CheckResult(c.name, c.start_method, Status.PASSED) for c in ex3.checks]
    for student, graded, seconds in (("ann", report(), 12.0), ("ben", report(), 30.5), ("cy", fixed, 8.0)):
        save_record(folder, StudentRecord(student, student, "d", info.course, GRADED, report=graded, seconds=seconds))
    only_one = report()
    only_one.exercises = [e for e in only_one.exercises if e.id == "exercise-1"]
    save_record(folder, StudentRecord("dee", "dee", "d", info.course, GRADED, report=only_one, seconds=3.0))
    save_record(folder, StudentRecord("eve", "eve.zip", "", info.course, NOT_GRADED, "a zip bomb"))
    return folder


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "report", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_the_text_report_counts_what_the_class_did(grades: Path) -> None:
    done = run_report(str(grades))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "5 students: 4 graded, 1 not graded" in text
    assert re.search(r"exercise-1 .* 4/4 +100\.0%", text)
    assert re.search(r"exercise-3 .* 1/3 +33\.3%", text)
    assert re.search(r"exercise-9 .* 0/3 +0\.0%", text)
    assert "eve: a zip bomb" in text
    assert text.index("30.5 s  ben") < text.index("12.0 s  ann")  # slowest first
    causes = text[text.index("Most common causes"):]
    assert re.search(r"3  queue not drained before join \(full pipe\)", causes)  # exercise-9, three students
    assert re.search(rf"3  {re.escape(NOT_GRADABLE)}", causes)  # exercise-5's syntax error


def test_failures_are_counted_by_their_first_known_cause() -> None:
    failed = CheckResult("t", "fork", Status.FAILED, causes=["ex08.why.no_lock", "ex08.lost_updates"])
    assert category(failed) == "lost updates (no lock, or not a shared one)"
    assert category(CheckResult("t", "fork", Status.TIMEOUT)) == "timed out (no known cause)"
    assert category(CheckResult("t", "fork", Status.FAILED, causes=["unknown.key", "call.start_while_importing"])) \
        == "missing main guard"


def test_the_html_page_holds_everything_it_shows(grades: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert run_report(str(grades), "--html", str(page)).returncode == 0
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|<script""", html)
    assert "eve" in html and "a zip bomb" in html


def test_a_student_name_is_text_in_the_page(tmp_path: Path) -> None:
    from grader.gradebook import ClassInfo

    stats = compute(ClassInfo("c", []), [StudentRecord("<script>alert(1)</script>", "x", "", "c", NOT_GRADED,
                                                       "<b>bad</b>")])
    html = render_html(stats)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_student_name_is_shown_without_control_characters() -> None:
    """A name or a reason with terminal escapes, a carriage return, a bell or a
    right-to-left override (which shows a name backwards): the text report shows them
    replaced, as every other view of a name does."""
    from grader.gradebook import ClassInfo

    stats = compute(ClassInfo("c", []), [
        StudentRecord("\x1b[2Jevil\r", "x", "", "c", NOT_GRADED, "the zip \x1b]0;owned\x07 is odd"),
        StudentRecord("\x1b[31mslow\x9b\u202egnp.exe", "y", "d", "c", GRADED, report=report(), seconds=5.0)])
    shown = render_text(stats)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown), shown
    assert "evil" in shown and "owned" in shown and "slow" in shown


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("GRADE_REQUIRE_CHROMIUM"),
                    reason="chromium is not installed")
def test_a_headless_browser_draws_the_page_offline(grades: Path, tmp_path: Path) -> None:
    """Debian's chromium loads the page from a file, with no network, and renders the
    charts: its DOM holds the SVGs, and its screenshot is not blank."""
    assert shutil.which("chromium"), "chromium is required here (GRADE_REQUIRE_CHROMIUM)"
    page = tmp_path / "report.html"
    assert run_report(str(grades), "--html", str(page)).returncode == 0
    profile = tmp_path / "profile"
    common = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",  # no way out
              "--window-size=1000,1400"]
    dom = subprocess.run(["chromium", *common, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.stdout.count("<svg") >= 3, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", *common, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 900
    colours = {tuple(pixel) for pixel in pixels[::8, ::8, :3].reshape(-1, 3).round(2)}
    assert len(colours) > 20  # text and bars, not a blank page
    red = (pixels[:, :, 0] > 0.7) & (pixels[:, :, 1] < 0.4) & (pixels[:, :, 2] < 0.4)
    assert red.sum() > 500  # the causes chart's bars were drawn
