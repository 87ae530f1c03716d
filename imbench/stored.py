"""A finished sweep's fits as it stored them: fold outcomes rebuilt from
``predictions.parquet`` without refitting anything.

``rescore`` re-chooses thresholds and calibration maps on them; ``decision`` draws
decision curves from them. The predictions are sorted once and each fold is a
slice.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imbench.plan import unit_key
from imbench.protocol import FoldOutcome
from imbench.results import UNIT_COLUMNS, SweepFolder

__all__ = ["StoredFit", "stored_fits", "unit_codes"]


@dataclass
class StoredFit:
    """One unit's fits as its sweep stored them: the fold outcomes rebuilt from
    predictions.parquet and the facts its folds repeat (chosen params, inner score, fit
    time, sizes), and the size of the ratio variant it ran on."""

    outcomes: list[FoldOutcome]
    n_rows: int
    n_minority: int
    actual_ir: float


def stored_fits(
    folder: SweepFolder,
    cells: pd.DataFrame | None = None,
    folds: pd.DataFrame | None = None,
    only: set[tuple[Any, ...]] | None = None,
) -> dict[tuple[Any, ...], StoredFit]:
    """Every unit with ok cells and stored predictions (or those of ``only``), by
    ``plan.unit_key``; pass ``cells`` or ``folds`` if they are read already. Empty
    without predictions. The predictions are sorted once and each fold is a slice:
    a reference-sized sweep has ~13 million rows in ~19 000 unit folds."""
    cells = folder.read_cells() if cells is None else cells
    ran = cells[cells["status"] == "ok"]
    if ran.empty or not folder.predictions.exists():
        return {}
    spans, units = _prediction_spans(folder.read_predictions())
    folds = folder.read_folds() if folds is None else folds
    folds = folds.sort_values(["cell_id", "fold"], kind="stable").reset_index(drop=True)
    rows = folds.groupby("cell_id", sort=False).indices
    cols = {
        c: folds[c].to_numpy()
        for c in ("fold", "params", "inner_pr_auc", "fit_seconds", "n_train", "n_train_minority")
    }
    fits: dict[tuple[Any, ...], StoredFit] = {}
    for cell in ran.itertuples():
        key = unit_key(cell)
        if key in fits or (only is not None and key not in only):
            continue
        if key not in units or cell.cell_id not in rows:
            continue
        outcomes = [_outcome(spans, units[key], cols, i) for i in rows[cell.cell_id]]
        fits[key] = StoredFit(
            outcomes, int(cell.n_rows), int(cell.n_minority), float(cell.actual_ir)
        )
    return fits


@dataclass
class _Spans:
    """Predictions sorted by unit, fold, inner, row; (unit, fold, inner) -> a slice."""

    row: np.ndarray
    y: np.ndarray
    score: np.ndarray
    at: dict[tuple[int, int, bool], tuple[int, int]]


def unit_codes(preds: pd.DataFrame) -> tuple[np.ndarray, dict[tuple[Any, ...], int]]:
    """Each prediction row's unit as one integer code, and ``plan.unit_key`` -> code."""
    codes, uniques = [], []
    for column in UNIT_COLUMNS:
        c, u = pd.factorize(preds[column], sort=False)
        codes.append(c.astype(np.int64))
        uniques.append(u)
    dims = [len(u) for u in uniques]
    unit = np.ravel_multi_index(codes, dims)
    keys = {}
    for code in np.unique(unit):
        parts = np.unravel_index(int(code), dims)
        values = [u[i] for u, i in zip(uniques, parts, strict=True)]
        key = (*(str(v) for v in values[:-1]), int(values[-1]))
        keys[key] = int(code)
    return unit, keys


def _prediction_spans(preds: pd.DataFrame) -> tuple[_Spans, dict[tuple[Any, ...], int]]:
    unit, keys = unit_codes(preds)
    fold = preds["fold"].to_numpy(np.int64)
    inner = preds["inner"].to_numpy(bool)
    row = preds["row"].to_numpy(np.int64)
    order = np.lexsort((row, inner, fold, unit))
    unit, fold, inner = unit[order], fold[order], inner[order]
    edges = np.flatnonzero((np.diff(unit) != 0) | (np.diff(fold) != 0) | (np.diff(inner) != 0))
    starts = np.r_[0, edges + 1]
    ends = np.r_[edges + 1, len(unit)]
    at = {
        (int(unit[a]), int(fold[a]), bool(inner[a])): (int(a), int(b))
        for a, b in zip(starts, ends, strict=True)
    }
    spans = _Spans(
        row[order],
        preds["y"].to_numpy(np.int64)[order],
        preds["score"].to_numpy(np.float64)[order],
        at,
    )
    return spans, keys


def _outcome(spans: _Spans, unit: int, cols: dict[str, np.ndarray], i: int) -> FoldOutcome:
    fold = int(cols["fold"][i])
    ta, tb = spans.at.get((unit, fold, False), (0, 0))
    ia, ib = spans.at.get((unit, fold, True), (0, 0))
    return FoldOutcome(
        fold=fold,
        test_index=spans.row[ta:tb],
        y_test=spans.y[ta:tb],
        proba=spans.score[ta:tb],
        params=ast.literal_eval(str(cols["params"][i])),
        inner_pr_auc=float(cols["inner_pr_auc"][i]),
        y_train=spans.y[ia:ib],
        oof=spans.score[ia:ib],
        fit_seconds=float(cols["fit_seconds"][i]),
        n_train=int(cols["n_train"][i]),
        n_train_minority=int(cols["n_train_minority"][i]),
        n_fits=0,
    )
