"""Bar 2: imbench vs the obvious sklearn composition on the same grid.

The obvious composition: cross_validate(GridSearchCV(imblearn Pipeline)) for a
strategy, and cross_validate(TunedThresholdClassifierCV(GridSearchCV(...))) for
its +threshold variant, each run separately with n_jobs=2, on the same outer
folds. Prints wall times, the speed-up, fit counts and per-strategy PR-AUC.

    python benchmarks/vs_obvious.py [--datasets ecoli1,pima,yeast1,glass0]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
)

from imbench.classifiers import get_classifier
from imbench.datasets import load_dataset
from imbench.engine import split_seed_for
from imbench.plan import Unit
from imbench.protocol import ProtocolSettings, outer_splits
from imbench.strategies import build_pipeline, parse_strategy

from _common import config, stopwatch, sweep

STRATEGIES = [
    "none",
    "threshold",
    "balanced",
    "balanced+threshold",
    "smote",
    "smote+threshold",
    "rus",
    "rus+threshold",
]


def obvious(dataset: str, strategy: str, settings: ProtocolSettings) -> tuple[float, int]:
    """Mean outer PR-AUC and the number of pipeline fits, the obvious way."""
    ds = load_dataset(dataset)
    spec = parse_strategy(strategy)
    lr = get_classifier("lr")
    pipe = build_pipeline(spec.base, lr, params={}, seed=0, cost_ratio=settings.cost_ratio)
    grid = {f"clf__{k}": [g[k] for g in lr.grid] for k in lr.grid[0]}
    inner = StratifiedKFold(settings.inner_folds, shuffle=True, random_state=0)
    model = GridSearchCV(pipe, grid, scoring="average_precision", cv=inner)
    if spec.tune_threshold:
        model = TunedThresholdClassifierCV(model, scoring="f1", cv=inner)
    unit = Unit(ds.key, "native", spec.base.name, "lr", 0, ())
    folds = outer_splits(ds.y, settings, split_seed_for(unit))  # the same outer folds
    scores = cross_validate(model, ds.X, ds.y, cv=folds, scoring="average_precision", n_jobs=2)
    g, k, K = len(lr.grid), settings.inner_folds, len(folds)
    per_fold = (k * g + 1) * (k + 1) if spec.tune_threshold else k * g + 1
    return float(np.mean(scores["test_score"])), K * per_fold


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--datasets",
        default="page-blocks0,segment0,yeast1,vehicle1,vehicle0,pima,wisconsin,ecoli1,glass0,yeast3",
    )
    args = parser.parse_args()
    datasets = args.datasets.split(",")
    settings = ProtocolSettings()

    rows, obvious_fits = [], 0
    with stopwatch() as t_obvious:
        for d in datasets:
            for s in STRATEGIES:
                score, fits = obvious(d, s, settings)
                obvious_fits += fits
                rows.append({"dataset": load_dataset(d).name, "strategy": s, "obvious": score})
    cfg = config(
        datasets=datasets, strategies=STRATEGIES, classifiers=["lr"], ratios=["native"], workers=2
    )
    with stopwatch() as t_imbench:
        summary = sweep(cfg)
    folds = pd.read_parquet(cfg.out / cfg.name / "folds.parquet")
    cells = pd.read_parquet(cfg.out / cfg.name / "cells.parquet")
    ours = folds.groupby(["dataset", "strategy"])["pr_auc"].mean().rename("imbench")
    both = pd.DataFrame(rows).join(ours, on=["dataset", "strategy"])
    per_strategy = both.groupby("strategy")[["obvious", "imbench"]].mean()
    per_strategy["diff"] = (per_strategy["imbench"] - per_strategy["obvious"]).abs()

    print(f"grid: {len(datasets)} datasets x {len(STRATEGIES)} strategies x lr, native, 2 workers")
    print(per_strategy.round(4).to_string())
    print(f"max |PR-AUC diff| per strategy: {per_strategy['diff'].max():.4f}")
    print(f"obvious composition (n_jobs=2): {t_obvious['seconds']:.1f} s, {obvious_fits} fits")
    print(
        f"imbench sweep (2 workers):      {t_imbench['seconds']:.1f} s wall "
        f"(start-up {summary['startup_seconds']:.1f} s), {int(cells['n_fits'].sum())} fits"
    )
    print(f"speed-up: {t_obvious['seconds'] / t_imbench['seconds']:.2f}x wall")


if __name__ == "__main__":
    main()
