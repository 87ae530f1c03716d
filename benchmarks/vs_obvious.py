"""imbench vs the obvious sklearn composition on the same grid, as the user waits.

The obvious composition: cross_validate(GridSearchCV(imblearn Pipeline)) for a
strategy, and cross_validate(TunedThresholdClassifierCV(GridSearchCV(...))) for
its +threshold variant, each run separately with n_jobs=2, on the same outer
folds. Both sides are timed as whole processes, start to exit: this script run
with ``--obvious-only`` (interpreter, imports, fits), and ``imbench run`` with a
fresh PREFECT_HOME and imbench cache (a new machine) and with warm ones. Prints wall times, the
speed-ups, fit counts and per-strategy PR-AUC (the two must agree).

    python benchmarks/vs_obvious.py [--datasets ecoli1,pima,...] [--strategies ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

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

from _common import timed_process

# the grid of issue 18: 16 KEEL sets x 6 strategies x lr, native imbalance, 2 workers
DATASETS = (
    "ecoli1,pima,yeast1,glass0,vehicle1,wisconsin,haberman,new_thyroid1,ecoli2,"
    "glass1,yeast3,vehicle0,segment0,page-blocks0,ecoli3,glass6"
)
STRATEGIES = "none,balanced,threshold,balanced+threshold,smote,rus"


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


def run_obvious(datasets: list[str], strategies: list[str], out: Path) -> None:
    """The obvious composition, in this process: scores and fits to ``out`` (JSON)."""
    settings = ProtocolSettings()
    rows, fits = [], 0
    for d in datasets:
        for s in strategies:
            score, n = obvious(d, s, settings)
            fits += n
            rows.append({"dataset": load_dataset(d).name, "strategy": s, "obvious": score})
    out.write_text(json.dumps({"rows": rows, "fits": fits}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default=DATASETS)
    parser.add_argument("--strategies", default=STRATEGIES)
    parser.add_argument("--obvious-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    datasets, strategies = args.datasets.split(","), args.strategies.split(",")
    if args.obvious_only:
        run_obvious(datasets, strategies, args.obvious_only)
        return

    root = Path(tempfile.mkdtemp(prefix="imbench-vs-obvious-"))
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    scores = root / "obvious.json"
    obvious_cmd = [sys.executable, __file__, "--obvious-only", str(scores),
                   "--datasets", args.datasets, "--strategies", args.strategies]  # fmt: skip
    t_obvious = timed_process(obvious_cmd, env)
    run = [sys.executable, "-m", "imbench.cli", "run", "-d", args.datasets,
           "-s", args.strategies, "-c", "lr", "-r", "native", "--workers", "2", "-q"]  # fmt: skip
    # a new machine: a fresh PREFECT_HOME and a fresh imbench cache (no MLflow template)
    new = {"PREFECT_HOME": str(root / "prefect-fresh"), "IMBENCH_CACHE_DIR": str(root / "cache")}
    fresh = {**env, **new}
    t_fresh = timed_process([*run, "--out", str(root / "fresh")], fresh)
    warm = fresh  # warmed by the run above
    t_warm = timed_process([*run, "--out", str(root / "warm")], warm)

    sweep_dir = next((root / "fresh").glob("*/folds.parquet")).parent
    folds = pd.read_parquet(sweep_dir / "folds.parquet")
    cells = pd.read_parquet(sweep_dir / "cells.parquet")
    ours = folds.groupby(["dataset", "strategy"])["pr_auc"].mean().rename("imbench")
    result = json.loads(scores.read_text())
    both = pd.DataFrame(result["rows"]).join(ours, on=["dataset", "strategy"])
    per_strategy = both.groupby("strategy")[["obvious", "imbench"]].mean()
    per_strategy["diff"] = (per_strategy["imbench"] - per_strategy["obvious"]).abs()

    print(
        f"grid: {len(datasets)} datasets x {len(strategies)} strategies x lr, native, "
        f"2 workers; whole processes, start to exit, {os.cpu_count()} cores"
    )
    print(per_strategy.round(4).to_string())
    print(f"max |PR-AUC diff| per strategy: {per_strategy['diff'].max():.4f}")
    print(f"obvious composition (n_jobs=2):        {t_obvious:6.1f} s, {result['fits']} fits")
    print(
        f"imbench run, new machine:              {t_fresh:6.1f} s, "
        f"{int(cells['n_fits'].sum())} fits"
    )
    print(f"imbench run, warm (home and cache):    {t_warm:6.1f} s")
    print(
        f"speed-up, whole processes: {t_obvious / t_fresh:.2f}x (new machine: fresh "
        f"PREFECT_HOME and imbench cache), "
        f"{t_obvious / t_warm:.2f}x (warm)"
    )


if __name__ == "__main__":
    main()
