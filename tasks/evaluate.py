"""The one compute task: evaluate a batch of units in a worker."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from imbench.compat import at_child_end, blocks_before_collections, run_exit_hooks
from imbench.engine import evaluate_batch
from imbench.plan import Unit
from imbench.protocol import ProtocolSettings
from imbench.results import CellResult

_watching = False


def _die_with_parent() -> None:
    """In a spawned worker, exit when the process that spawned it is gone.

    A process pool's workers otherwise outlive a flow killed with ``kill -9``:
    they block forever on a queue nobody feeds. Only processes started by
    multiprocessing watch (pool workers, Dask nanny workers); a process the user
    started, e.g. ``dask worker``, does not.
    """
    global _watching
    spawner = multiprocessing.parent_process()
    if _watching or spawner is None:
        return
    _watching = True
    # the process that started this one: for a worker forked by a fork server, the
    # flow that asked for it, not the server (which outlives the flow while any of
    # its workers lives, so the workers must be the ones to notice)
    parent, spawner_pid = os.getppid(), spawner.pid

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent or not _alive(spawner_pid):  # the spawner died
                os._exit(0)

    threading.Thread(target=watch, name="imbench-parent-watch", daemon=True).start()


def _alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (a zombie, killed and not yet reaped, does not)."""
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc: os.kill said it exists
        return True


def worker_init() -> None:
    """Each pool worker at start: Ctrl-C is the flow's to handle (it stops the workers
    itself, without a traceback from each), and the worker exits if the flow dies."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _exit_without_teardown()
    # the first task's context holds a storage block: without this, finding its
    # class imported every Prefect collection (prefect-dask: dask, distributed)
    blocks_before_collections()


def _exit_without_teardown() -> None:
    """A pool worker, once told to stop, runs its exit hooks (Prefect's drains of its
    last events and logs) and ends without the interpreter's teardown of the modules
    it imported (scikit-learn, imblearn, Prefect), which took over a second: the
    pool's shutdown, and so the sweep's end, waits for it. A worker forked from the
    fork server would otherwise skip the hooks (it leaves by ``os._exit``)."""
    at_child_end(_end_worker)


def _end_worker() -> None:
    from imbench.process import flush_and_exit

    run_exit_hooks()  # non-daemon threads joined, atexit hooks run
    flush_and_exit(0)


@task(name="evaluate-batch", cache_policy=NO_CACHE, persist_result=False, retries=0)
def evaluate_batch_task(
    units: list[Unit], settings: ProtocolSettings, min_minority: int
) -> list[CellResult]:
    """No retries: a fit that fails is a result (``failed``), not an I/O hiccup."""
    _die_with_parent()
    return evaluate_batch(units, settings, min_minority=min_minority)
