"""Decision curves from a sweep's stored predictions (no model is touched).

Net benefit at a threshold probability pt (Vickers & Elkin 2006): acting on every
row whose probability is at least pt gains TP/n and costs FP/n weighted by the odds
pt / (1 - pt) at which a false alarm is worth a caught minority row:

    NB(pt) = TP/n - FP/n * pt / (1 - pt)

Compared with "treat all" (prevalence - (1 - prevalence) * pt / (1 - pt)) and
"treat none" (0). Each cell's probabilities are its outer-test probabilities
(for ``+calibrated`` cells mapped by the map chosen on the inner predictions, as
the sweep scored them); net benefit is averaged over a dataset's outer folds, then
over datasets. ``x+threshold`` has ``x``'s probabilities, so it is drawn once, as
``x`` (a decision curve already sweeps every threshold).

The formula is computed here rather than with ``dcurves``: that package needs
``lifelines`` and scores one population held in one DataFrame, while a sweep
averages thousands of (dataset, fold) populations.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from imbench.results import SweepFolder

THRESHOLDS = np.round(np.arange(0.02, 0.81, 0.02), 2)
COLUMNS = [
    "classifier",
    "imbalance_ratio",
    "strategy",
    "threshold",
    "net_benefit",
    "treat_all",
    "n_datasets",
]


def net_benefit(y: np.ndarray, proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """NB at each threshold probability for acting on rows with proba >= threshold."""
    y = np.asarray(y).astype(bool)
    proba = np.asarray(proba, dtype=np.float64)
    n = len(y)
    act = proba[None, :] >= thresholds[:, None]
    tp = (act & y[None, :]).sum(axis=1)
    fp = (act & ~y[None, :]).sum(axis=1)
    return tp / n - fp / n * thresholds / (1 - thresholds)


def treat_all(y: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    prevalence = float(np.mean(y))
    return prevalence - (1 - prevalence) * thresholds / (1 - thresholds)


def decision_curves(
    folder: SweepFolder, thresholds: np.ndarray = THRESHOLDS, folds: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per classifier x ratio x strategy: mean net benefit over datasets at each threshold
    probability, with treat-all; empty when the sweep stored no predictions. ``folds``:
    the sweep's folds if the caller read them already."""
    from imbench.config import parse_config
    from imbench.plan import unit_key
    from imbench.protocol import ProtocolSettings
    from imbench.stored import stored_fits
    from imbench.strategies import parse_strategy

    if not folder.predictions.exists() or not folder.has_results():
        return pd.DataFrame(columns=COLUMNS)
    settings = ProtocolSettings.of(parse_config(folder.read_config()))
    inner_kept = settings.protocol.predictions == "all"  # else no map can be re-fitted
    cells = folder.read_cells()
    fits = stored_fits(folder, cells, folds)
    rows: list[dict[str, Any]] = []
    done: set[tuple[Any, ...]] = set()
    for cell in cells[cells["status"] == "ok"].itertuples():
        # x+threshold has x's probabilities: one curve, named x, whichever cell ran
        spec = replace(parse_strategy(str(cell.strategy), strict=False), tune_threshold=False)
        key = unit_key(cell)
        if key not in fits or (key, spec.name) in done or (spec.calibrated and not inner_kept):
            continue
        done.add((key, spec.name))
        curves, alls = [], []
        for outcome in fits[key].outcomes:  # one unit's outcomes serve all its strategies
            proba, _ = outcome.variant(spec, settings)
            curves.append(net_benefit(outcome.y_test, proba, thresholds))
            alls.append(treat_all(outcome.y_test, thresholds))
        nb, ta = np.mean(curves, axis=0), np.mean(alls, axis=0)
        for t, b, a in zip(thresholds, nb, ta, strict=True):
            rows.append(
                {
                    "classifier": cell.classifier,
                    "imbalance_ratio": cell.imbalance_ratio,
                    "strategy": spec.name,
                    "dataset": cell.dataset,
                    "threshold": float(t),
                    "net_benefit": float(b),
                    "treat_all": float(a),
                }
            )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    per_dataset = (
        pd.DataFrame(rows)
        .groupby(["classifier", "imbalance_ratio", "strategy", "dataset", "threshold"])
        .mean()
        .reset_index()
    )  # over seeds
    curves = per_dataset.groupby(
        ["classifier", "imbalance_ratio", "strategy", "threshold"], as_index=False
    ).agg(
        net_benefit=("net_benefit", "mean"),
        treat_all=("treat_all", "mean"),
        n_datasets=("dataset", "nunique"),
    )
    return curves[COLUMNS]
