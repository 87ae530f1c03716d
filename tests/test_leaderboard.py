"""Leaderboard: per-dataset means first, ranks per dataset, direction-aware."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbench.leaderboard import build_leaderboard
from imbench.metrics import METRICS


def _folds(rows):
    out = []
    for dataset, strategy, pr, brier in rows:
        for fold in range(2):
            row = {m: 0.5 for m in METRICS}
            row.update(
                dataset=dataset,
                strategy=strategy,
                classifier="lr",
                imbalance_ratio="native",
                seed=0,
                fold=fold,
                pr_auc=pr + 0.01 * fold,
                brier=brier,
                threshold=0.5,
            )
            out.append(row)
    return pd.DataFrame(out)


def test_ranks_and_means_over_datasets():
    folds = _folds(
        [("a", "x", 0.9, 0.3), ("a", "y", 0.5, 0.1), ("b", "x", 0.8, 0.3), ("b", "y", 0.85, 0.1)]
    )
    board = build_leaderboard(folds).set_index("strategy")
    assert board.loc["x", "mean_rank"] == pytest.approx(1.5)
    assert board.loc["y", "mean_rank"] == pytest.approx(1.5)
    assert board.loc["x", "pr_auc_mean"] == pytest.approx((0.905 + 0.805) / 2)
    assert board.loc["x", "n_datasets"] == 2
    assert board.loc["x", "pr_auc_std"] == pytest.approx(pd.Series([0.905, 0.805]).std())


def test_lower_is_better_metrics_rank_the_other_way():
    folds = _folds([("a", "x", 0.9, 0.3), ("a", "y", 0.5, 0.1)])
    by_brier = build_leaderboard(folds, metric="brier").set_index("strategy")
    assert by_brier.loc["y", "mean_rank"] == 1 and by_brier.loc["x", "mean_rank"] == 2
    by_pr = build_leaderboard(folds).set_index("strategy")
    assert by_pr.loc["x", "mean_rank"] == 1


def test_best_strategy_is_taken_within_one_classifier_and_ratio():
    from imbench.history import primary_slice_best

    board = pd.DataFrame(
        [
            # rf at IR 10 has the lowest mean rank overall, but groups do not compare
            ("cost", "rf", "10", 1.0, 0.30, 7),
            ("balanced", "lr", "10", 1.2, 0.40, 7),
            ("none", "lr", "native", 1.8, 0.70, 35),
            ("threshold", "lr", "native", 1.5, 0.70, 35),
            ("smote", "lr", "native", 2.7, 0.69, 33),
        ],
        columns=["strategy", "classifier", "imbalance_ratio", "mean_rank", "pr_auc_mean",
                 "n_datasets"],
    )  # fmt: skip
    best = primary_slice_best(board)
    assert (best["strategy"], best["classifier"], best["imbalance_ratio"]) == (
        "threshold",
        "lr",
        "native",
    )
    assert primary_slice_best(board.iloc[:0]) is None


def test_threshold_stability_is_zero_without_tuning_and_the_fold_spread_with_it():
    from imbench.leaderboard import per_dataset

    rows = []
    for fold, t in enumerate([0.2, 0.4, 0.6]):
        for strategy, threshold in (("none", 0.5), ("threshold", t)):
            rows.append({"strategy": strategy, "classifier": "lr", "imbalance_ratio": "native",
                         "dataset": "d", "fold": fold, "threshold": threshold,
                         **{m: 0.5 for m in METRICS}})  # fmt: skip
    table = per_dataset(pd.DataFrame(rows)).set_index("strategy")
    assert table.loc["none", "threshold_fold_sd"] == 0.0
    assert table.loc["threshold", "threshold_fold_sd"] == pytest.approx(0.2)
    assert np.isnan(table.loc["none", "cal_slope"])  # folds made before the column existed


def test_a_board_built_already_gives_the_same_view():
    from imbench.leaderboard import board_view

    rows = [
        {"strategy": s, "classifier": "lr", "imbalance_ratio": r, "dataset": d, "fold": f,
         "threshold": 0.5, **{m: (hash((s, r, d, f, m)) % 100) / 100 for m in METRICS}}
        for s in ("none", "smote") for r in ("native", "10") for d in "ab" for f in range(3)
    ]  # fmt: skip
    folds = pd.DataFrame(rows)
    board = build_leaderboard(folds)
    pd.testing.assert_frame_equal(board_view(folds, board=board), board_view(folds))
    other = board_view(folds, metric="mcc", board=board)  # ranked by another metric: rebuilt
    pd.testing.assert_frame_equal(other, board_view(folds, metric="mcc"))
