"""Ending a process without the interpreter's teardown of its modules."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def flush_and_exit(code: int) -> NoReturn:
    """Flush stdout and stderr, then end at once with ``code``: the interpreter's
    teardown of the thousands of modules a sweep imports took over a second, in
    ``imbench`` (cli._exit) and in every pool worker (tasks.evaluate)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            pass
    os._exit(code)
