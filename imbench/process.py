"""Ending a process without the interpreter's teardown of its modules."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def flush_and_exit(code: int) -> NoReturn:
    """Flush stdout and stderr, then end at once with ``code``: the interpreter's
    teardown of the thousands of modules a sweep imports took over a second, in
    ``imbench`` (exit_process) and in every pool worker (tasks.evaluate)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            pass
    os._exit(code)


EXIT_GRACE_S = 15.0  # exit hooks take well under a second when nothing is stuck


def exit_process(code: int) -> NoReturn:
    """End the process as a normal exit does -- non-daemon threads joined, executors'
    exit hooks and atexit handlers run, logs and streams flushed -- but without the
    interpreter's teardown of its thousands of modules, which the user would wait for
    after every sweep (benchmarks/fixed_costs.py counts it)."""
    import logging
    import threading

    from imbench.compat import run_exit_hooks

    # Nothing is left to save by now. A hook that never returns must not hold the
    # process: a pool worker SIGKILLed while writing to a multiprocessing queue leaves
    # the queue's lock held, and joining this process's feeder thread of that queue
    # (multiprocessing's exit hook) then waits forever.
    watchdog = threading.Timer(EXIT_GRACE_S, flush_and_exit, args=(code,))
    watchdog.daemon = True
    watchdog.start()
    if not run_exit_hooks():
        logging.shutdown()
        sys.exit(code)
    logging.shutdown()
    flush_and_exit(code)
