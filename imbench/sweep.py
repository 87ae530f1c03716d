"""The sweep's steps as plain functions: plan, find pending work, summarise.

Orchestrators (the Prefect flow, the joblib baseline in benchmarks/) call
these; nothing here knows how work is distributed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from imbench.config import SweepConfig, resolve_tracking_uri
from imbench.datasets import load_dataset, resolve_dataset
from imbench.errors import CannotRun
from imbench.hashing import stable_hash
from imbench.history import primary_slice_best
from imbench.metrics import PRIMARY_METRIC
from imbench.plan import Cell, Unit, group_units, make_plan, runs_in_process
from imbench.results import CellResult
from imbench.store import SweepStore
from imbench.strategies import parse_strategy

UNAVAILABLE = "unavailable"


@dataclass
class SweepPlan:
    cells: list[Cell]
    unavailable: dict[str, str] = field(default_factory=dict)  # dataset key -> reason
    sizes: dict[str, float] = field(default_factory=dict)  # dataset key -> rows x features

    @property
    def ids(self) -> list[str]:
        return [c.cell_id for c in self.cells]


def plan_sweep(cfg: SweepConfig) -> SweepPlan:
    """Load each dataset once (fingerprints go into cell ids) and list every cell."""
    fingerprints, names, unavailable, sizes = {}, {}, {}, {}
    categorical = set()
    for key in cfg.datasets:
        try:
            ds = load_dataset(key)
            fingerprints[key], names[key] = ds.fingerprint, ds.name
            if ds.categorical:
                categorical.add(key)
            sizes[key] = float(ds.X.shape[0] * max(ds.X.shape[1], 1) ** 0.5)
        except CannotRun as exc:
            fingerprints[key], names[key] = UNAVAILABLE, resolve_dataset(key).name
            unavailable[key] = str(exc)
    cells = make_plan(cfg, fingerprints, names, frozenset(categorical))
    return SweepPlan(cells, unavailable, sizes)


def pending_work(plan: SweepPlan, finished: set[str]) -> tuple[list[Unit], list[CellResult]]:
    """Units still to compute, and results known without computing (unloadable data)."""
    todo = [c for c in plan.cells if c.cell_id not in finished]
    known = [
        CellResult(c, "skipped", reason=plan.unavailable[c.dataset_key])
        for c in todo
        if c.dataset_key in plan.unavailable
    ]
    runnable = [c for c in todo if c.dataset_key not in plan.unavailable]
    return group_units(runnable), known


def one_unit_grid(cfg: SweepConfig) -> bool:
    """Whether the sweep's grid is one unit: one dataset, ratio, base strategy,
    classifier and seed."""
    bases = {parse_strategy(s, strict=False).base.name for s in cfg.strategies}
    grid = (len(cfg.datasets), len(cfg.ratios), len(bases), len(cfg.classifiers), len(cfg.seeds))
    return grid == (1, 1, 1, 1, 1)


def fits_in_process(cfg: SweepConfig) -> bool:
    """Whether the flow will fit the sweep's pending work itself: one small unit, no
    Dask cluster (the rule the flow applies, ``plan.runs_in_process``).

    Only a grid of one unit is planned to find out: planning is the flow's own first
    step, and planning a large grid twice cost seconds (a sweep resumed down to its
    last unit is then not recognised; it only misses an early import).
    """
    if cfg.dask_address or not one_unit_grid(cfg):
        return False
    plan = plan_sweep(cfg)
    units, _ = pending_work(plan, SweepStore(cfg.out, cfg.name).finished_ids())
    return runs_in_process(units, plan.sizes)


def results_frames(results: list[CellResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = pd.DataFrame([r.cell_row() for r in results])
    folds = pd.DataFrame([row for r in results for row in r.fold_rows()])
    return cells, folds


def summarize(cells: pd.DataFrame, leaderboard: pd.DataFrame) -> dict[str, Any]:
    counts = cells["status"].value_counts().to_dict() if not cells.empty else {}
    summary: dict[str, Any] = {
        "cells": int(len(cells)),
        "ok": int(counts.get("ok", 0)),
        "skipped": int(counts.get("skipped", 0)),
        "failed": int(counts.get("failed", 0)),
    }
    best = primary_slice_best(leaderboard)
    if best is not None:  # within one classifier x ratio: ranks of groups do not compare
        summary["best_strategy"] = str(best["strategy"])
        summary["best_slice"] = f"{best['classifier']}, {best['imbalance_ratio']}"
        summary[f"best_{PRIMARY_METRIC}"] = float(best[f"{PRIMARY_METRIC}_mean"])
    return summary


def tracked_marker(cfg: SweepConfig, ids: list[str]) -> dict[str, Any]:
    return {
        "tracking_uri": resolve_tracking_uri(cfg.tracking_uri, Path(cfg.out)),
        "cells": stable_hash(sorted(ids)),
    }


def finished_summary(cfg: SweepConfig) -> dict[str, Any] | None:
    """The summary of a sweep with nothing left to do, read from its files; None when
    anything is left: a cell to compute, files to consolidate, MLflow to back-fill.

    A finished sweep needs no Prefect server, no process pool and no MLflow client.
    """
    store = SweepStore(cfg.out, cfg.name)
    folder = store.folder
    marker = folder.read_tracked()
    if marker is None or not (folder.has_results() and folder.leaderboard.exists()):
        return None
    plan = plan_sweep(cfg)
    if marker != tracked_marker(cfg, plan.ids):
        return None
    cells = folder.read_cells()
    if set(cells["cell_id"]) != set(plan.ids) or not set(plan.ids) <= store.finished_ids():
        return None
    summary = summarize(cells, folder.read_leaderboard())
    summary.update(
        computed=0,
        reused=len(plan.cells),
        results=str(store.dir),
        tracking_uri=marker["tracking_uri"],
        tracking_behind=False,
    )
    return summary
