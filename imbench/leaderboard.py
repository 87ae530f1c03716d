"""Per strategy x classifier x ratio: metric means/stds over datasets and mean rank."""

from __future__ import annotations

import pandas as pd

from imbench.metrics import LOWER_IS_BETTER, METRICS, PRIMARY_METRIC

GROUP = ["strategy", "classifier", "imbalance_ratio"]
REPORTED = [*METRICS, "threshold"]


def per_dataset(folds: pd.DataFrame) -> pd.DataFrame:
    """Fold scores averaged per dataset (over folds and seeds): the unit of comparison."""
    return folds.groupby([*GROUP, "dataset"], as_index=False)[REPORTED].mean()


def build_leaderboard(folds: pd.DataFrame, *, metric: str = PRIMARY_METRIC) -> pd.DataFrame:
    if folds.empty:
        return pd.DataFrame(columns=[*GROUP, "mean_rank", "n_datasets"])
    scores = per_dataset(folds)
    scores["rank"] = scores.groupby(["classifier", "imbalance_ratio", "dataset"])[metric].rank(
        ascending=metric in LOWER_IS_BETTER, method="average"
    )
    agg: dict[str, tuple[str, str]] = {}
    for m in REPORTED:
        agg[f"{m}_mean"] = (m, "mean")
        agg[f"{m}_std"] = (m, "std")
    agg["mean_rank"] = ("rank", "mean")
    agg["n_datasets"] = ("dataset", "nunique")
    board = scores.groupby(GROUP, as_index=False).agg(**agg)
    board.insert(len(GROUP), "rank_metric", metric)
    return board.sort_values(["classifier", "imbalance_ratio", "mean_rank"]).reset_index(drop=True)
