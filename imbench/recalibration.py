"""Calibration methods side by side, from a sweep's stored predictions: for every
base strategy, the outer-test Brier score and ECE of its scores as they are and
after each calibration map imbench knows (``sigmoid``, ``isotonic``, ``prior``).

Each map is fitted on the fold's inner out-of-fold scores only (``prior`` fits
nothing: it moves the logit from the prevalence the strategy's classifier trained
on to the training rows'), as ``+calibrated`` cells are; the outer test rows only
score it. Nothing is refitted. Fold scores are averaged per dataset, then over
datasets, so N is the number of datasets.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from imbench.calibration import CalibrationMethod, expected_calibration_error
from imbench.results import SweepFolder

__all__ = ["METHODS", "calibration_methods", "wide"]

METHODS = ("none", "sigmoid", "isotonic", "prior")
COLUMNS = ["classifier", "imbalance_ratio", "strategy", "method", "brier", "ece", "n_datasets"]


def calibration_methods(folder: SweepFolder, folds: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per classifier x ratio x base strategy x method (``COLUMNS``); empty
    without stored predictions."""
    from imbench.config import parse_config
    from imbench.protocol import ProtocolSettings, trained_prevalence
    from imbench.stored import stored_fits
    from imbench.strategies import STRATEGIES

    if not folder.predictions.exists() or not folder.has_results():
        return pd.DataFrame(columns=COLUMNS)
    settings = ProtocolSettings.of(parse_config(folder.read_config()))
    if settings.protocol.predictions != "all":  # no inner scores: no map can be fitted
        return pd.DataFrame(columns=COLUMNS)
    cost_ratio = settings.cost_ratio
    rows: list[dict[str, Any]] = []
    for (dataset, ratio, base, clf, _seed), fit in stored_fits(folder, folds=folds).items():
        strategy = STRATEGIES.get(base)
        for o in fit.outcomes:
            prevalence = (
                None if strategy is None else trained_prevalence(strategy, o.y_train, cost_ratio)
            )
            for method in METHODS:
                proba = o.proba
                if method != "none":
                    proba = o.calibration(cast(CalibrationMethod, method), prevalence)(proba)
                rows.append(
                    {
                        "classifier": clf,
                        "imbalance_ratio": ratio,
                        "strategy": base,
                        "method": method,
                        "dataset_key": dataset,
                        "brier": float(np.mean((proba - o.y_test) ** 2)),
                        "ece": expected_calibration_error(o.y_test, proba),
                    }
                )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    keys = ["classifier", "imbalance_ratio", "strategy", "method"]
    per_dataset = pd.DataFrame(rows).groupby([*keys, "dataset_key"], sort=False).mean()
    out = per_dataset.groupby(keys, sort=False).agg(
        brier=("brier", "mean"), ece=("ece", "mean"), n_datasets=("brier", "size")
    )
    return out.reset_index()[COLUMNS]


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per classifier x ratio x strategy: Brier and ECE under each method,
    and the method with the lowest Brier."""
    if table.empty:
        return table
    keys = ["classifier", "imbalance_ratio", "strategy"]
    out = table.pivot_table(
        index=[*keys, "n_datasets"], columns="method", values=["brier", "ece"], sort=False
    )
    out.columns = [f"{metric}_{method}" for metric, method in out.columns]
    out = out.reset_index()
    brier = [f"brier_{m}" for m in METHODS if f"brier_{m}" in out]
    out["lowest_brier"] = out[brier].idxmin(axis=1).str.removeprefix("brier_")
    order = [*keys, *brier, *[f"ece_{m}" for m in METHODS if f"ece_{m}" in out]]
    return out[[*order, "lowest_brier", "n_datasets"]]
