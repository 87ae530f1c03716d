"""Batches on a local process pool that survives a dying worker.

When the kernel's OOM killer (or anyone) kills a pool worker, Python's
``ProcessPoolExecutor`` breaks: every batch still running or queued fails with
``BrokenProcessPool``. One bad cell must not end a long sweep, so:

1. batches lost that way are retried once, one unit per task, on a fresh pool;
2. units lost again run one at a time on a one-worker pool (Prefect hands tasks
   to a pool from a thread, so only one task in flight tells which one died).
   Losing a shared pool says nothing of a unit (another may have killed it), so
   a unit fails only when its worker dies twice while it runs alone; it is then
   recorded ``failed`` with the signal ("worker died: SIGKILL, out of memory?")
   and the others go on.

Finished batches are yielded (and committed by the flow) as they come, so
nothing finished is recomputed or lost. Dask reschedules tasks of a lost
worker itself; a task it gives up on (``KilledWorker``) fails its cells.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from prefect.futures import PrefectFuture
from prefect.task_runners import ProcessPoolTaskRunner

from imbench.compat import (
    fork_workers_from,
    pool_processes,
    runner_max_workers,
    runner_started,
    spawn_workers,
)
from imbench.engine import mark_parts
from imbench.flows.runtime import WORKER_IMPORTS
from imbench.plan import Unit
from imbench.results import CellResult
from imbench.tasks.evaluate import worker_init

Submit = Callable[[list[Unit]], PrefectFuture[Any]]
AsCompleted = Callable[[list[PrefectFuture[Any]]], Iterator[PrefectFuture[Any]]]


class WarmPool(ProcessPoolTaskRunner):
    """The flow's local pool, started before the flow is: its workers import
    scikit-learn, imblearn and Prefect while this process imports Prefect and MLflow
    and the Prefect server boots, so the first batch does not wait for them. On two
    cores those imports otherwise ran after the flow had started, one after the other
    with the fits.

    The flow enters the pool it is given (``duplicate`` is the pool itself, entering
    it again keeps it) and shuts it down when it ends; ``close`` shuts down a pool the
    flow never took (a sweep that failed or was interrupted before it started).
    """

    _warmed = False
    _spawning: threading.Thread | None = None

    def warm(self, n_workers: int) -> WarmPool:
        self.__enter__()
        self._warmed = True
        # one interpreter imports what a batch needs, and each worker is forked from
        # it; starting a worker waits for that interpreter's imports, which this
        # process need not do, so a thread starts them
        forked = fork_workers_from(self, WORKER_IMPORTS)
        if forked:
            self._spawning = threading.Thread(
                target=spawn_workers, args=(self, n_workers), name="imbench-pool-start", daemon=True
            )
            self._spawning.start()
        else:
            spawn_workers(self, n_workers)
        return self

    def duplicate(self) -> WarmPool:
        return self if self._warmed else super().duplicate()

    def __enter__(self) -> WarmPool:
        if self._warmed and runner_started(self):  # started by warm(): the flow takes it as is
            return self
        super().__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._warmed = False
        if self._spawning is not None:
            self._spawning.join()
            self._spawning = None
        super().__exit__(*exc)

    def close(self) -> None:
        if runner_started(self):
            self.__exit__(None, None, None)

    def __reduce__(self) -> tuple[Any, ...]:
        # The flow holds this pool, and Prefect pickles the flow into each task's
        # context: there it is what the flow's runner otherwise is, a plain pool not
        # yet started (a started one holds a queue only spawning may hand over)
        return (ProcessPoolTaskRunner, (runner_max_workers(self),))


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def warm_pool(n_workers: int) -> WarmPool:
    """A started local pool of ``n_workers``, its workers importing what a batch needs."""
    return WarmPool(max_workers=n_workers, initializer=worker_init).warm(n_workers)


def worker_processes(runner: Any) -> dict[int, Any]:
    """The pool's worker processes (pid -> Process), if the runner has a local pool."""
    return pool_processes(runner)


class ProcessWatch:
    """Remembers a pool's worker processes while it runs. Prefect hands tasks to the
    pool from a thread, so workers appear (and a broken pool forgets them) at any
    time; their exit codes are what says which signal killed one."""

    def __init__(self, runner: Any, every_s: float = 0.05) -> None:
        self.runner, self.every_s = runner, every_s
        self.seen: dict[int, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="imbench-pool-watch", daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.seen.update(worker_processes(self.runner))
            self._stop.wait(self.every_s)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.seen.update(worker_processes(self.runner))


EXIT_CODE_WAIT_S = 2.0  # how long a broken pool's exit codes are waited for


def death_cause(processes: dict[int, Any], known: str = "worker died") -> str:
    """Why the pool broke, from its workers' exit codes: the one not ended by the
    pool's own SIGTERM; ``known`` (what an earlier loss of the same units showed)
    when no exit code says."""
    deadline = time.monotonic() + EXIT_CODE_WAIT_S
    codes: list[int] = []
    while time.monotonic() < deadline:
        codes = [p.exitcode for p in processes.values() if p.exitcode not in (None, 0)]
        if codes:
            break
        time.sleep(0.05)
    killers = [c for c in codes if c != -signal.SIGTERM] or codes
    if not killers:
        return known
    code = killers[0]
    if code < 0:
        name = signal.Signals(-code).name
        return f"worker died: {name}" + (", out of memory?" if name == "SIGKILL" else "")
    return f"worker exited with code {code}"


def stop_workers(runner: Any) -> None:
    """End the pool's workers now (an interrupted sweep does not wait for them)."""
    for process in worker_processes(runner).values():
        if process.exitcode is None:
            process.terminate()


def _failed(unit: Unit, reason: str) -> list[CellResult]:
    return mark_parts(unit, [CellResult(cell, "failed", reason=reason) for cell in unit.cells])


def _round(
    batches: list[list[Unit]],
    submit: Submit,
    runner: Any,
    as_completed: AsCompleted,
    lost: list[Unit],
    on_submitted: Callable[[], None] | None = None,
) -> Iterator[list[CellResult]]:
    """Submit ``batches``; yield finished results; collect units of batches a dying
    worker took down into ``lost``."""
    futures = [submit(batch) for batch in batches]
    if on_submitted is not None:
        on_submitted()
    owner = {id(f): batch for f, batch in zip(futures, batches, strict=True)}
    for future in as_completed(futures):
        batch = owner.pop(id(future))
        try:
            results = future.result()
        except BrokenProcessPool:
            lost.extend(batch)
            continue
        except Exception as exc:
            if type(exc).__name__ != "KilledWorker":  # distributed gave up on the task
                raise
            yield [r for unit in batch for r in _failed(unit, f"worker died: {exc}")]
            continue
        yield results


def run_batches(
    batches: list[list[Unit]],
    *,
    submit: Submit,
    runner: Any,
    as_completed: AsCompleted,
    submit_to: Callable[[Any, list[Unit]], PrefectFuture[Any]],
    n_workers: int,
    on_submitted: Callable[[], None] | None = None,
) -> Iterator[list[CellResult]]:
    """Yield every batch's results; survive workers that die (see the module doc).

    ``submit`` sends a batch to the flow's own task runner ``runner``;
    ``submit_to(fresh_runner, batch)`` sends one to a fresh pool. ``on_submitted``
    is called once every batch has been handed to the runner.
    """
    lost: list[Unit] = []
    with ProcessWatch(runner) as watch:
        yield from _round(batches, submit, runner, as_completed, lost, on_submitted)
    if not lost:
        return
    cause = death_cause(watch.seen)
    again: list[Unit] = []
    with ProcessPoolTaskRunner(max_workers=n_workers, initializer=worker_init) as fresh:
        with ProcessWatch(fresh) as watch:
            singles = [[u] for u in lost]
            yield from _round(singles, lambda b: submit_to(fresh, b), fresh, as_completed, again)
        if again:
            cause = death_cause(watch.seen, cause)
    queue = list(again)
    died_alone: set[int] = set()
    while queue:  # one at a time on one worker: a unit whose worker dies is known for sure
        with ProcessPoolTaskRunner(max_workers=1, initializer=worker_init) as solo:
            with ProcessWatch(solo) as watch:
                while queue:
                    unit = queue.pop(0)
                    try:
                        yield submit_to(solo, [unit]).result()
                    except BrokenProcessPool:
                        cause = death_cause(watch.seen, cause)
                        if id(unit) in died_alone:
                            yield _failed(unit, f"{cause} (twice, running alone)")
                        else:  # its earlier losses may have been another unit's doing
                            died_alone.add(id(unit))
                            queue.append(unit)
                        break  # the pool is broken: a fresh one for the rest
