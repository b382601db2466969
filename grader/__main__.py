"""``grade`` and ``python -m grader``: the entry point. It checks for Linux before it
imports anything that needs Linux, so another system gets one line, not a traceback."""

from __future__ import annotations

import os
import sys

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command killed by SIGPIPE
OTHER_SYSTEMS = ("grade: error: grade needs Linux (it isolates submissions with Linux features); on {system}, "
                 "open the course in its dev container (.devcontainer/: VS Code or a GitHub codespace) or in WSL 2")


def main(argv: list[str] | None = None) -> int:
    if not sys.platform.startswith("linux"):
        print(OTHER_SYSTEMS.format(system=sys.platform), file=sys.stderr)
        return EXIT_USAGE
    try:
        from grader.cli import main as grade

        return grade(argv)
    except KeyboardInterrupt:  # Ctrl-C before a command could take it over
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (grade list | head): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
