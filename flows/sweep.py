"""The sweep flow: plan -> batches -> evaluate (workers) -> Parquet + MLflow -> leaderboard."""

from __future__ import annotations

import logging
import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal
from prefect.futures import PrefectFuture
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner

from imbench.config import SweepConfig
from imbench.flows.pool import WarmPool, default_workers, run_batches, stop_workers
from imbench.flows.runtime import PrefectApi
from imbench.flows.tracking import CHILD_RUNS_AT_ONCE, SafeTracker
from imbench.leaderboard import build_leaderboard
from imbench.methods import install, provenance_of
from imbench.metrics import PRIMARY_METRIC
from imbench.parts import PartJoiner
from imbench.plan import Unit, make_batches, runs_in_process, split_units
from imbench.progress import SweepProgress
from imbench.protocol import ProtocolSettings
from imbench.provenance import provenance
from imbench.report import analyse
from imbench.results import CONFIG, PROVENANCE, TRACKED, CellResult
from imbench.store import SweepStore, WriteFailed
from imbench.strategies import import_samplers
from imbench.sweep import (
    SweepPlan,
    fits_in_process,
    pending_work,
    plan_sweep,
    summarize,
    tracked_marker,
)
from imbench.tasks.evaluate import evaluate_batch_task, worker_init

log = logging.getLogger(__name__)


@flow(name="imbench-sweep", log_prints=False)
def sweep_flow(config: dict[str, Any], show_progress: bool = False) -> dict[str, Any]:
    """Run every pending cell of the sweep ``config`` and write its results."""
    started = time.perf_counter()
    _release_arrow_memory()
    cfg = SweepConfig.model_validate(config)
    install(cfg.methods())  # its declared entries and plugins, as the caller resolved them
    store = SweepStore(cfg.out, cfg.name)
    with store.lock():
        return _sweep(cfg, store, started, show_progress)


def _sweep(
    cfg: SweepConfig, store: SweepStore, started: float, show_progress: bool
) -> dict[str, Any]:
    store.prepare()
    store.write_json(CONFIG, cfg.model_dump(mode="json"))
    methods = provenance_of(cfg.strategies, cfg.classifiers, cfg.plugins)
    store.write_json(PROVENANCE, provenance(cfg.config_hash(), methods))

    # MLflow opens once the first batches are with the workers (``open_now`` below)
    tracker = SafeTracker.later(cfg)

    plan = plan_sweep(cfg)
    units, known = pending_work(plan, store.finished_ids())
    store.commit(known)
    try:
        if units:  # predictions.parquet is written as batches finish, not at the end
            store.stream_predictions(plan.ids, [u.key for u in units])
    except WriteFailed as exc:
        return {"error": str(exc), "results": str(store.dir)}
    try:
        return _run_and_finish(cfg, store, plan, units, known, started, show_progress, tracker)
    finally:
        store.abandon_predictions()  # a no-op once the sweep's end has closed it


def _run_and_finish(
    cfg: SweepConfig,
    store: SweepStore,
    plan: SweepPlan,
    units: list[Unit],
    known: list[CellResult],
    started: float,
    show_progress: bool,
    tracker: SafeTracker,
) -> dict[str, Any]:
    settings = ProtocolSettings.of(cfg)
    workers = cfg.workers or default_workers()
    n_todo = sum(len(u.cells) for u in units)
    first_result = None
    # one small unit: in this process, without a pool (a Dask cluster is the user's)
    in_process = not cfg.dask_address and runs_in_process(units, plan.sizes)
    if not in_process:  # few large units: a part per outer fold, joined as they come
        units = split_units(units, workers, settings.n_outer_folds, plan.sizes)
    batches = make_batches(units, workers, plan.sizes)
    joiner = PartJoiner()

    runner = FlowRunContext.get().task_runner  # type: ignore[union-attr]
    min_minority = cfg.protocol.min_minority
    submitted_at = time.time()
    interrupted = False
    if in_process:
        tracker.open_now()
    to_log = list(known)  # cells finished before: logged with the first new results
    with SweepProgress(cfg.name, n_todo, show=show_progress) as progress:
        try:
            for results in (
                [evaluate_batch_task(batches[0], settings, min_minority)]
                if in_process
                else run_batches(
                    batches,
                    submit=lambda b: evaluate_batch_task.submit(b, settings, min_minority),
                    runner=runner,
                    as_completed=_as_completed,
                    submit_to=lambda pool, b: pool.submit(
                        evaluate_batch_task,
                        {"units": b, "settings": settings, "min_minority": min_minority},
                    ),
                    n_workers=workers,
                    on_submitted=tracker.open_now,
                )
            ):
                results = joiner.add(results)
                if not results:  # parts of cells still waiting for their other parts
                    continue
                first_result = first_result or time.perf_counter() - started
                store.commit(results)
                tracker.log_results(to_log + results)
                to_log = []
                progress.advance(len(results))
                del results
        except (KeyboardInterrupt, TerminationSignal):  # Ctrl-C, SIGTERM: keep what is done
            interrupted = True
            stop_workers(runner)
        except WriteFailed as exc:  # disk full, read-only folder: stop, say so, keep the rest
            stop_workers(runner)
            return {"error": str(exc), "results": str(store.dir)}
    if interrupted:
        return {
            "interrupted": True,
            "kept": len(store.finished_ids() & set(plan.ids)),
            "cells": len(plan.cells),
            "results": str(store.dir),
        }

    tracker.log_results(to_log)
    cells, folds = store.consolidate(plan.ids)
    board = build_leaderboard(folds)
    store.write_leaderboard(board)
    stats = (
        analyse(store.dir, metric=PRIMARY_METRIC, draw=False, folds=folds)
        if not folds.empty
        else None
    )
    summary = summarize(cells, board)
    summary.update(
        computed=n_todo + len(known),
        reused=len(plan.cells) - n_todo - len(known),
        seconds=round(time.perf_counter() - started, 2),
        first_result_seconds=round(first_result or 0.0, 2),
        submitted_at=submitted_at,
        results=str(store.dir),
    )
    tracked = {k: v for k, v in summary.items() if k != "submitted_at"}
    tracked.update(stats.summary if stats else {})
    artifacts = [store.folder.leaderboard, store.folder.cells, store.folder.stats]
    tracker.finish(cells, folds, tracked, artifacts, at_once=CHILD_RUNS_AT_ONCE)
    marker = store.folder.tracked
    if tracker.behind or tracker.deferred:
        marker.unlink(missing_ok=True)
    else:  # MLflow holds every cell: a rerun with nothing to do can skip all of this
        store.write_json(TRACKED, tracked_marker(cfg, plan.ids))
    _leaderboard_artifact(cfg, folds, board, tracker)
    summary["tracking_uri"] = tracker.uri
    summary["tracking_behind"] = tracker.behind
    summary["tracking_error"] = tracker.error[:300]
    summary["tracking_deferred"] = tracker.deferred
    return summary


def _leaderboard_artifact(cfg: SweepConfig, folds: Any, board: Any, tracker: SafeTracker) -> None:
    """The leaderboard on the flow run's Artifacts tab, linked to the MLflow parent run."""
    from prefect.artifacts import create_markdown_artifact

    from imbench.leaderboard import board_view, to_markdown

    link = tracker.parent_run_link() or f"MLflow: `{tracker.uri}` (`imbench ui`)"
    parts = [f"# imbench sweep `{cfg.name}`", "", link, ""]
    if not folds.empty:
        view = board_view(folds, metric=PRIMARY_METRIC, board=board)
        for (clf, ir), group in view.groupby(["classifier", "imbalance_ratio"], sort=False):
            parts += [f"## {clf}, ratio {ir} (ranked by {PRIMARY_METRIC})", ""]
            parts.append(to_markdown(group.drop(columns=["classifier", "imbalance_ratio"])))
    try:
        create_markdown_artifact(
            "\n".join(parts),
            key=f"imbench-{cfg.name.lower().replace('_', '-').replace('.', '-')}",
            description=f"leaderboard of sweep {cfg.name}",
        )
    except Exception as exc:  # noqa: BLE001 - an artifact must not fail a finished sweep
        log.warning("Prefect artifact not created: %s", exc)


def _release_arrow_memory() -> None:
    """Let Arrow free what it no longer uses, unless the user chose a pool.

    Arrow's default pool (mimalloc) keeps freed pages: writing each batch's
    Parquet parts and consolidating them at the end left the flow process ~2x
    larger on a 10 000-cell sweep than the system allocator does.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def _as_completed(futures: list[PrefectFuture[Any]]) -> Iterator[PrefectFuture[Any]]:
    """Yield ``futures`` as they finish, emptying the list; nothing here holds a
    future once it has been yielded.

    ``prefect.futures.as_completed`` keeps every future it was given until the
    loop ends, and a finished future keeps its result (the unpickled state and
    its pickled bytes), so the flow process grew with every finished batch.
    """
    finished: queue.SimpleQueue[PrefectFuture[Any]] = queue.SimpleQueue()
    n = len(futures)
    while futures:
        futures.pop().add_done_callback(finished.put)
    for _ in range(n):
        while True:  # wake up twice a second so Ctrl-C / SIGTERM are handled at once
            try:
                yield finished.get(timeout=0.5)
                break
            except queue.Empty:
                continue


def _task_runner(
    cfg: SweepConfig, api_url: str | None, pool: WarmPool | None = None
) -> tuple[SweepConfig, Any]:
    """The Dask cluster's runner if the config names one (its workers get ``api_url``),
    else ``pool`` (started ahead) or a local process pool; the config comes back with
    its worker count filled in."""
    if pool is not None and not cfg.dask_address:
        return cfg, pool
    if cfg.dask_address:
        from imbench.flows.dask import dask_task_runner

        runner, threads = dask_task_runner(cfg.dask_address, api_url)
        return cfg.model_copy(update={"workers": cfg.workers or threads}), runner
    return cfg, ProcessPoolTaskRunner(
        max_workers=cfg.workers or default_workers(), initializer=worker_init
    )


def run_sweep(
    cfg: SweepConfig,
    *,
    show_progress: bool = False,
    api: PrefectApi | None = None,
    pool: WarmPool | None = None,
) -> dict[str, Any]:
    """Start what the flow needs (Prefect API, process pool) and run it.

    Callers may pass an ``api`` they started before importing Prefect, so the
    server boots while Prefect and MLflow are imported, and a ``pool`` whose workers
    started then too (``pool.warm_pool``); the flow shuts it down.
    """
    called_at = time.time()
    api = api or PrefectApi().start()
    try:
        # a Dask scheduler is reached while the server boots: one that is not there is
        # reported without waiting for a server it will not use, and before anything
        # (the MLflow store) is written to the results folder
        cfg, runner = _task_runner(cfg, api.url or os.environ.get("PREFECT_API_URL"), pool)
        if not api.owned:
            api.wait()  # the user's server: one that does not answer is said before writing
        if api.owned and fits_in_process(cfg):
            # the flow will fit here, without workers to hand batches to while MLflow
            # opens: the store, and imblearn's import, fit in the server's start-up
            SafeTracker.prepare_store(cfg)
            import_samplers()
        api.wait()
        flow = sweep_flow.with_options(task_runner=runner)
        # Prefect read its settings when imported, possibly before the URL existed
        updates: dict[Any, Any] = {PREFECT_API_URL: os.environ["PREFECT_API_URL"]}
        if api.owned:
            # heartbeats tell a lasting server that a run crashed; the temporary one
            # ends with this process, and joining the heartbeat thread (it sleeps in
            # 1 s steps) held every sweep's end up to a second
            updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
        with temporary_settings(updates=updates):
            summary = flow(cfg.model_dump(mode="json"), show_progress=show_progress)
        if summary.get("interrupted") or summary.get("error"):
            return summary
        # start-up: from this call until the first batch was handed to the task runner
        summary["startup_seconds"] = round(summary.pop("submitted_at") - called_at, 2)
        summary["wall_seconds"] = round(time.time() - called_at, 2)
        return summary
    finally:
        if pool is not None:
            pool.close()  # a no-op once the flow has shut it down
        api.stop()


@flow(name="imbench-sweep-from-parameters", log_prints=False)
def sweep_from_parameters(
    config_path: str | None = None,
    name: str | None = None,
    datasets: list[str] | None = None,
    strategies: list[str] | None = None,
    classifiers: list[str] | None = None,
    ratios: list[str] | None = None,
    seeds: list[int] | None = None,
    out: str | None = None,
    workers: int | None = None,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """The deployment entry point: a config file and/or an inline grid, typed.

    Runs the sweep flow as a subflow on a process pool; the Prefect API is the
    one the deployment runs against.
    """
    from imbench.config import load_config_dict, parse_ratio
    from imbench.guard import ServeRoots, check_parameters
    from imbench.resolve import build_config

    roots = ServeRoots.from_env()
    if roots is not None:  # served: the parameters come from whoever started the run
        check_parameters(
            roots,
            {"config_path": config_path, "datasets": datasets, "out": out,
             "tracking_uri": tracking_uri, "strategies": strategies,
             "classifiers": classifiers},
        )  # fmt: skip
        out = out or str(roots.results)
    overrides = {
        "name": name,
        "datasets": datasets,
        "strategies": strategies,
        "classifiers": classifiers,
        "seeds": seeds,
        "out": out,
        "workers": workers,
        "tracking_uri": tracking_uri,
        "ratios": [parse_ratio(str(r)) for r in ratios] if ratios else None,
    }
    cfg = build_config(load_config_dict(Path(config_path) if config_path else None), overrides)
    SafeTracker.prepare_store(cfg)
    cfg, runner = _task_runner(cfg, os.environ.get("PREFECT_API_URL"))
    return sweep_flow.with_options(task_runner=runner)(cfg.model_dump(mode="json"))
