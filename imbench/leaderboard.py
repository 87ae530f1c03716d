"""Per strategy x classifier x ratio: metric means/stds over datasets and mean rank."""

from __future__ import annotations

import pandas as pd

from imbench.errors import ConfigError
from imbench.intervals import fold_interval
from imbench.results import CALIBRATION_LINE, LOWER_IS_BETTER, METRICS, PRIMARY_METRIC

GROUP = ["strategy", "classifier", "imbalance_ratio"]
# threshold_fold_sd: how much the chosen threshold moves across outer folds (stability)
REPORTED = [*METRICS, "threshold", *CALIBRATION_LINE, "threshold_fold_sd"]


def per_dataset(folds: pd.DataFrame) -> pd.DataFrame:
    """Fold scores averaged per dataset (over folds and seeds): the unit of comparison;
    with the spread of the chosen threshold over those folds. Columns a sweep made
    before they existed (the calibration line) are NaN."""
    keys = [*GROUP, "dataset"]
    means = [c for c in (*METRICS, "threshold", *CALIBRATION_LINE) if c in folds]
    table = folds.groupby(keys, as_index=False)[means].mean()
    spread = folds.groupby(keys)["threshold"].std(ddof=1).rename("threshold_fold_sd")
    table = table.merge(spread.reset_index(), on=keys, how="left")
    for column in CALIBRATION_LINE:
        if column not in table:
            table[column] = float("nan")
    return table


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


BOARD_COLUMNS = ["roc_auc", "mcc", "f1", "brier", "ece", "cal_slope", "threshold_fold_sd"]


def ratio_key(label: str) -> float:
    """Sort key for ratio labels: native first, then the target ratios ascending."""
    return -1.0 if label == "native" else float(label)


def board_view(
    folds: pd.DataFrame,
    *,
    metric: str = PRIMARY_METRIC,
    classifier: str | None = None,
    ratio: str | None = None,
    per_dataset_rows: bool = False,
    board: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The leaderboard as shown: filtered, native first then ratios ascending, ranked
    by ``metric`` within each classifier x ratio. With ``per_dataset_rows`` one row per
    dataset x strategy instead of means over datasets. ``board``: the leaderboard of
    ``folds`` if the caller built it already (the flow's end phase). A filter that
    matches nothing raises ConfigError saying what exists."""
    if metric not in METRICS:
        raise ConfigError(f"metric: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    for value, column, flag in ((classifier, "classifier", "-c"), (ratio, "imbalance_ratio", "-r")):
        if value is not None and value not in set(folds[column]):
            known = sorted(set(folds[column]), key=ratio_key if flag == "-r" else str)
            raise ConfigError(f"{flag} {value}: not in this sweep; it has {', '.join(known)}")
    if classifier:
        folds = folds[folds["classifier"] == classifier]
    if ratio:
        folds = folds[folds["imbalance_ratio"] == ratio]
    columns = [metric, *(c for c in BOARD_COLUMNS if c != metric)]
    if per_dataset_rows:
        table = per_dataset(folds)
        table["rank"] = table.groupby(["classifier", "imbalance_ratio", "dataset"])[metric].rank(
            ascending=metric in LOWER_IS_BETTER, method="average"
        )
        if {"n_test", "n_train"} <= set(folds.columns):  # a 95 % interval over the folds
            keys = ["classifier", "imbalance_ratio", "dataset", "strategy"]
            table = table.merge(fold_interval(folds, metric), on=keys, how="left")
            columns = [metric, f"{metric}_lo", f"{metric}_hi", *columns[1:]]
        table = table[["classifier", "imbalance_ratio", "dataset", "strategy", "rank", *columns]]
        order = ["classifier", "_r", "dataset", "rank"]
    else:
        if (
            board is None
            or board.empty
            or classifier
            or ratio
            or board["rank_metric"].iloc[0] != metric
        ):
            board = build_leaderboard(folds, metric=metric)
        keep = {"mean_rank": "rank", f"{metric}_std": f"{metric}_sd", "n_datasets": "n_datasets"}
        keep.update({f"{c}_mean": c for c in columns})
        table = board[["classifier", "imbalance_ratio", "strategy", *keep]].rename(columns=keep)
        table = table[
            [
                "classifier",
                "imbalance_ratio",
                "strategy",
                "rank",
                metric,
                f"{metric}_sd",
                *columns[1:],
                "n_datasets",
            ]
        ]
        order = ["classifier", "_r", "rank"]
    table = table.assign(_r=table["imbalance_ratio"].map(ratio_key)).sort_values(order)
    return table.drop(columns="_r").reset_index(drop=True)


def cell_text(column: str, value: object) -> str:
    """How a leaderboard cell prints: 3 decimals, ranks 2, missing as '-'."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.2f}" if column == "rank" else f"{value:.3f}"
    return str(value)


def to_markdown(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append(
            "| " + " | ".join(cell_text(c, v) for c, v in zip(cols, row, strict=True)) + " |"
        )
    return "\n".join(lines) + "\n"
