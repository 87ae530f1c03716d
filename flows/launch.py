"""From a raw config to a finished sweep, as ``imbench run`` does it.

A sweep with work to do needs a Prefect API: imbench's own server boots while the
config is resolved and the datasets are checked, so the user waits for one start-up,
not two. A bad config or dataset stops that server again (and removes a
PREFECT_HOME it created) before anything is computed or written; a sweep whose
files say it may be finished starts none.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imbench.config import SweepConfig
from imbench.results import SweepFolder

__all__ = ["Launched", "launch"]


@dataclass
class Launched:
    """The resolved config and the sweep's summary (``interrupted``, ``error`` or the
    counts and paths of a finished sweep)."""

    cfg: SweepConfig
    summary: dict[str, Any]


def launch(
    raw: dict[str, Any],
    overrides: dict[str, Any],
    *,
    show_progress: bool = False,
    on_plan: Callable[[str], None] | None = None,
    checked: SweepConfig | None = None,
) -> Launched:
    """Resolve ``raw`` with ``overrides``, check its datasets, and run what is left.
    ``checked``: that config already built and its datasets checked (``run
    --against`` checks them before it seeds the sweep's folder), not done again.

    ``on_plan`` receives the fit budget's line before anything is computed. Ctrl-C
    and SIGTERM end the sweep cleanly: the summary says ``interrupted`` and how many
    cells are kept.
    """
    from imbench.flows.runtime import PrefectApi

    api = None if _may_be_finished(raw, overrides) else PrefectApi().start()
    try:
        from imbench.datasets import check_datasets
        from imbench.plan import fit_budget
        from imbench.resolve import build_config

        if checked is None:
            cfg = build_config(raw, overrides)
            check_datasets(cfg.datasets, min_minority=cfg.protocol.min_minority)
        else:
            cfg = checked
        if api is not None:  # after the checks: its Prefect import makes a PREFECT_HOME
            _prefork(cfg)
        if on_plan is not None:
            on_plan(fit_budget(cfg).describe())
    except BaseException:
        if api is not None:
            api.discard()
        raise
    _sigterm_as_interrupt()
    try:
        return Launched(cfg, _run(cfg, api, show_progress))
    except KeyboardInterrupt:
        return Launched(cfg, {"interrupted": True, "kept": _kept(cfg), "cells": None})


def _prefork(cfg: SweepConfig) -> None:
    """Start the fork server the local pool's workers will come from, so that it
    imports what they need while this process checks the data and imports Prefect.
    Not for a Dask cluster, nor for a one-unit grid (the flow may fit that itself)."""
    from imbench.compat import start_fork_server
    from imbench.flows.runtime import WORKER_IMPORTS
    from imbench.sweep import one_unit_grid

    if not cfg.dask_address and not one_unit_grid(cfg):
        start_fork_server(WORKER_IMPORTS)


def _run(cfg: SweepConfig, api: Any, show_progress: bool) -> dict[str, Any]:
    from imbench.flows.runtime import PrefectApi
    from imbench.sweep import finished_summary

    started = time.perf_counter()
    summary = finished_summary(cfg)  # nothing to do: no server, no pool, no MLflow
    if summary is not None:
        if api is not None:
            api.stop()
        summary["seconds"] = round(time.perf_counter() - started, 2)
        return summary
    api = api or PrefectApi().start()
    pool = None
    try:
        from imbench.flows.pool import default_workers, warm_pool  # imports Prefect
        from imbench.sweep import fits_in_process

        if not cfg.dask_address and not fits_in_process(cfg):
            # the workers start now: they import beside this process and the server
            pool = warm_pool(cfg.workers or default_workers())
        from imbench.flows.sweep import run_sweep
    except BaseException:
        if pool is not None:
            pool.close()
        api.discard()  # e.g. Prefect refused its settings: nothing is left behind
        raise
    return run_sweep(cfg, show_progress=show_progress, api=api, pool=pool)


def _kept(cfg: SweepConfig) -> int:
    """Cells of this sweep finished before an interrupt (0 when none was)."""
    from imbench.store import SweepStore
    from imbench.sweep import plan_sweep

    try:
        return len(SweepStore(cfg.out, cfg.name).finished_ids() & set(plan_sweep(cfg).ids))
    except Exception:  # noqa: BLE001 - a count for the message only
        return 0


def _may_be_finished(raw: dict[str, Any], overrides: dict[str, Any]) -> bool:
    """Whether the sweep's folder says it may have nothing left to do (its MLflow
    marker exists), read from the unvalidated config: cheap, and wrong only in
    costing a server start or a wait."""
    fields = SweepConfig.model_fields
    try:
        out = overrides.get("out") or raw.get("out") or fields["out"].default
        name = overrides.get("name") or raw.get("name") or fields["name"].default
        return SweepFolder.of(out, str(name)).tracked.exists()
    except (TypeError, ValueError, OSError):
        return True


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a scheduler, `kill`) stops a sweep as Ctrl-C does: cleanly. (During
    the flow Prefect's own SIGTERM handler raises TerminationSignal; the flow treats
    it the same.) Ctrl-C works even where the shell started imbench with SIGINT
    ignored (a background job of a script)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # workers stopped mid-task leave semaphores to multiprocessing's resource tracker,
    # which warns about them on the console; it takes its -W flags from ours
    sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")
