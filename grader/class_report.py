"""``grade report GRADES... [--html FILE] [--csv FILE]``: what a class got right and wrong.

Read from one grades folder of ``grade batch``, or several (the shards of one class,
merged): the distribution of total scores, each exercise's and each check's pass rate,
the most common causes of failure (the diagnoses the grader already makes, grouped in
:data:`CATEGORIES`, counted once per student and exercise), the slowest submissions and
the students who could not be graded. Text on the terminal; ``--html`` writes one
self-contained page (its charts inline SVG drawn by matplotlib, no script, nothing
fetched when it is viewed); ``--csv`` writes the merged gradebook.
"""

from __future__ import annotations

import argparse
import html
import io
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.cli import EXIT_PASSED, EXIT_USAGE
from grader.formats._common import shown_path
from grader.gradebook import GRADED, ClassInfo, GradebookError, StudentRecord, load, write_csv
from grader.progress import write_atomically
from grader.results import CheckResult, ExerciseResult, Status

# What a failure's causes (catalogue keys, most telling first) say, in a teacher's words:
# the first category one of its keys starts with. A failure with no known cause is
# counted by its status (UNEXPLAINED).
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("missing main guard", ("cause.main_guard", "call.missing_main_guard", "cause.missing_in_child_main_guard",
                            "call.start_while_importing", "cause.import_starts_processes", "ex02.")),
    ("deadlock", ("hang.cause.deadlock", "call.deadlock")),
    ("queue not drained before join (full pipe)", ("hang.cause.full_pipe",)),
    ("endless loop or far too much work", ("hang.cause.busy",)),
    ("lost updates (no lock, or not a shared one)", ("ex08.why.", "ex08.lost_updates")),
    ("processes run one after another", ("ex03.serialized", "ex04.no_overlap", "ex08.serialized",
                                         "ex04.lesson.one_after_another")),
    ("work not done in child processes", ("ex01.process_in_caller", "ex01.thread_", "ex03.job_in_children",
                                          "ex04.not_in_processes", "ex05.not_in_workers", "ex06.not_in_workers",
                                          "ex07.written_in_caller", "ex07.value_not_in_child")),
    ("wrong number of processes or workers", ("ex03.process_count", "ex05.worker_count", "ex06.apply_async_count",
                                              "ex07.writer_count", "ex07.one_child", "ex08.two_processes",
                                              "ex09.process_count", "ex01.ran_times")),
    ("result fetched too early (get before submitting all)", ("ex06.get_too_early",)),
    ("processes or pool not cleaned up", ("pool.not_cleaned_up", "call.leaked", "call.shm_leaked",
                                          "ex03.never_joined", "ex08.not_joined", "ex01.returned_early")),
    ("cannot be pickled (lambda, local function)", ("cause.pickle_",)),
    ("shared memory type or bounds", ("cause.int_value", "diff.truncated", "ex07.")),
    ("wrong chunks or reduce", ("ex10.",)),
    ("queue read too soon, or child crashed", ("cause.queue_empty",)),
    ("resource limit (memory, output, processes)", ("cause.memory_limit", "cause.output_limit", "cause.process_limit",
                                                    "cause.open_files", "call.session_memory", "call.cpu_limit")),
    ("function missing or misnamed", ("call.missing", "cause.missing_in_child", "cause.module_not_found")),
    ("wrong result", ("value.wrong", "diff.")),
    ("raised an exception", ("call.raised",)),
]
UNEXPLAINED = {Status.TIMEOUT: "timed out (no known cause)", Status.ERROR: "could not be graded (file, grader)",
               Status.FAILED: "other failure"}
NOT_GRADABLE = "not gradable (file missing, syntax error, grader fault)"
SLOWEST = 10


def category(check: CheckResult) -> str:
    for key in check.causes:
        for label, prefixes in CATEGORIES:
            if any(key.startswith(prefix) for prefix in prefixes):
                return label
    return UNEXPLAINED.get(check.status, UNEXPLAINED[Status.FAILED])


@dataclass
class Rate:
    passed: int = 0
    graded: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.graded if self.graded else 0.0


@dataclass
class ClassStats:
    info: ClassInfo
    students: int = 0
    scores: dict[str, int] = field(default_factory=dict)  # graded students' totals
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    exercises: dict[str, Rate] = field(default_factory=dict)
    checks: dict[tuple[str, str], Rate] = field(default_factory=dict)
    causes: Counter = field(default_factory=Counter)
    causes_by_exercise: dict[str, Counter] = field(default_factory=dict)
    slowest: list[tuple[str, float]] = field(default_factory=list)


def compute(info: ClassInfo, records: list[StudentRecord]) -> ClassStats:
    stats = ClassStats(info, students=len(records))
    stats.exercises = {column.id: Rate() for column in info.exercises}
    for record in records:
        if record.status != GRADED or record.report is None:
            stats.not_graded.append((record.student, record.reason))
            continue
        stats.scores[record.student] = record.report.score
        for exercise in record.report.exercises:
            rate = stats.exercises.setdefault(exercise.id, Rate())
            rate.graded += 1
            rate.passed += exercise.status is Status.PASSED
            for name, passed in exercise.passed().items():
                check = stats.checks.setdefault((exercise.id, name), Rate())
                check.graded += 1
                check.passed += passed
            found = _categories(exercise)
            stats.causes.update(found)
            stats.causes_by_exercise.setdefault(exercise.id, Counter()).update(found)
    graded = [(record.student, record.seconds) for record in records if record.status == GRADED]
    stats.slowest = sorted(graded, key=lambda item: -item[1])[:SLOWEST]
    return stats


def _categories(exercise: ExerciseResult) -> set[str]:
    """The causes of an exercise's failure, each once (a cause seen under three start
    methods, or by two checks, is one student's one mistake)."""
    if exercise.status is Status.PASSED:
        return set()
    if exercise.problem:
        return {NOT_GRADABLE}
    return {category(check) for check in exercise.checks if check.status is not Status.PASSED}


# --- text ----------------------------------------------------------------------------------

def render_text(stats: ClassStats) -> str:
    """The report for a terminal: students' names and reasons shown without their control
    characters (a folder named ``\\x1b[2J...`` names its student; it does not clear the screen)."""
    info = stats.info
    lines = [f"Shards missing (--partial): {', '.join(stats.info.missing_shards)}: their students are not in this report", ""] \
        if stats.info.missing_shards else []
    lines += [f"{stats.students} students: {len(stats.scores)} graded, {len(stats.not_graded)} not graded"]
    if stats.scores:
        scores = list(stats.scores.values())
        lines.append(f"Total score (of {info.max_score}): mean {statistics.mean(scores):.1f}, median "
                     f"{statistics.median(scores):g}, lowest {min(scores)}, highest {max(scores)}")
        lines += ["", "Scores:"] + [f"  {score:>3} | {'█' * count} {count}" for score, count in _histogram(stats)]
    lines += ["", "Pass rate per exercise (of the graded students):"]
    for column in info.exercises:
        rate = stats.exercises.get(column.id, Rate())
        shown = f"{rate.percent:5.1f}%" if rate.graded else "    –"
        lines.append(f"  {column.id:<12} {column.title[:56]:<56} {rate.passed:>4}/{rate.graded:<4} {shown}")
    lines += ["", "Pass rate per check, lowest first (of the students whose file for the exercise could be graded):"]
    for (exercise_id, name), rate in sorted(stats.checks.items(), key=lambda item: (item[1].percent, item[0])):
        lines.append(f"  {exercise_id:<12} {name:<50} {rate.passed:>4}/{rate.graded:<4} {rate.percent:5.1f}%")
    lines += ["", "Most common causes of failure (students × exercises):"]
    for label, count in stats.causes.most_common():
        places = sorted(((ex, c[label]) for ex, c in stats.causes_by_exercise.items() if c[label]),
                        key=lambda item: -item[1])
        where = ", ".join(f"{ex} {n}" for ex, n in places[:4]) + (f", … {len(places) - 4} more" if len(places) > 4
                                                                   else "")
        lines.append(f"  {count:>4}  {label}  ({where})")
    if stats.slowest:
        lines += ["", "Slowest submissions to grade:"] + [f"  {seconds:7.1f} s  {shown_path(student)}"
                                                          for student, seconds in stats.slowest]
    if stats.not_graded:
        lines += ["", "Not graded:"] + [f"  {shown_path(student)}: {shown_path(reason)}"
                                        for student, reason in stats.not_graded]
    return "\n".join(lines) + "\n"


def _histogram(stats: ClassStats) -> list[tuple[int, int]]:
    counts = Counter(stats.scores.values())
    return [(score, counts.get(score, 0)) for score in range(0, stats.info.max_score + 1)]


# --- HTML ----------------------------------------------------------------------------------

class MissingPlotting(Exception):
    """matplotlib is not installed (the grader's ``report`` extra)."""


def render_html(stats: ClassStats) -> str:
    """One self-contained page: inline SVG charts, inline CSS, no script, no link out."""
    try:
        import matplotlib

        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise MissingPlotting("the HTML report draws its charts with matplotlib: install the grader with its report "
                              "extra (pip install '.[report]' in the course folder), or matplotlib itself") from error
    plt.rcParams.update({"svg.fonttype": "path", "font.size": 10, "figure.dpi": 96, "svg.hashsalt": "grade"})
    info = stats.info
    charts = []
    histogram = _histogram(stats)
    charts.append(("Total scores", _bar_chart(plt, [str(score) for score, _ in histogram],
                                              [count for _, count in histogram], "students", f"total score (of "
                                              f"{info.max_score})", "#4c72b0")))
    charts.append(("Pass rate per exercise", _bar_chart(
        plt, [column.id.replace("exercise-", "ex ") for column in info.exercises],
        [stats.exercises.get(column.id, Rate()).percent for column in info.exercises], "% of graded students passed",
        "", "#55a868", limit=100)))
    causes = stats.causes.most_common(12)
    if causes:
        charts.append(("Most common causes of failure", _bar_chart(
            plt, [label for label, _ in causes][::-1], [count for _, count in causes][::-1], "students × exercises",
            "", "#c44e52", horizontal=True)))
    body = [f"<h1>Class report</h1><p>{stats.students} students: {len(stats.scores)} graded, "
            f"{len(stats.not_graded)} not graded.</p>"]
    if stats.info.missing_shards:
        body.append(f"<p><strong>Shards missing: {html.escape(', '.join(stats.info.missing_shards))}</strong>: their "
                    "students are not in this report.</p>")
    if stats.scores:
        scores = list(stats.scores.values())
        body.append(f"<p>Total score (of {info.max_score}): mean {statistics.mean(scores):.1f}, median "
                    f"{statistics.median(scores):g}, lowest {min(scores)}, highest {max(scores)}.</p>")
    for title, svg in charts:
        body.append(f'<section class="chart"><h2>{html.escape(title)}</h2>{svg}</section>')
    body.append(_table("Pass rate per check (lowest first)", ["exercise", "check", "passed", "rate"],
                       [[ex, name, f"{rate.passed}/{rate.graded}", f"{rate.percent:.1f}%"] for (ex, name), rate in
                        sorted(stats.checks.items(), key=lambda item: (item[1].percent, item[0]))]))
    body.append(_table("Causes of failure by exercise", ["cause", "students × exercises", "where"],
                       [[label, str(count), ", ".join(f"{ex} ({c[label]})" for ex, c in stats.causes_by_exercise.items()
                                                      if c[label])] for label, count in stats.causes.most_common()]))
    body.append(_table("Slowest submissions to grade", ["student", "seconds"],
                       [[student, f"{seconds:.1f}"] for student, seconds in stats.slowest]))
    body.append(_table("Not graded", ["student", "reason"], [list(row) for row in stats.not_graded]))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Class report</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


STYLE = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0 2em}td,th{border:1px solid #ccc;padding:.25em .6em;"
         "text-align:left}th{background:#f3f3f3}.chart svg{max-width:100%;height:auto}")


def _bar_chart(plt, labels: list[str], values: list[float], value_label: str, label_label: str, colour: str,
               limit: float | None = None, horizontal: bool = False) -> str:
    figure, axes = plt.subplots(figsize=(8, max(2.5, 0.35 * len(labels)) if horizontal else 3.2))
    counts = axes.xaxis if horizontal else axes.yaxis
    if limit is None:  # counts of students: whole numbers
        from matplotlib.ticker import MaxNLocator

        counts.set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        axes.barh(labels, values, color=colour)
        axes.set_xlabel(value_label)
    else:
        axes.bar(labels, values, color=colour)
        axes.set_ylabel(value_label)
        axes.set_xlabel(label_label)
        if limit is not None:
            axes.set_ylim(0, limit)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # without the XML declaration and doctype: inline in HTML


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>None.</p>"
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<h2>{html.escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- the command ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade report", description="What a class got right and wrong, from the grades folders of grade batch "
        "(several: the shards of one class, merged).")
    parser.add_argument("grades", type=Path, nargs="+", metavar="GRADES", help="a grades folder of grade batch")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the report as one self-contained page")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the merged gradebook (CSV)")
    parser.add_argument("--partial", action="store_true",
                        help="read the shards given even if some are missing (their students are then left out)")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        info, records = load(args.grades, partial=args.partial)
        stats = compute(info, records)
        if args.html is not None:
            write_atomically(args.html, render_html(stats).encode("utf-8"))
        if args.csv is not None:
            write_csv(args.grades[0], info, records, args.csv)
    except (GradebookError, MissingPlotting) as error:
        print(f"grade report: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render_text(stats))
    return EXIT_PASSED
