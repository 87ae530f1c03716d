"""A new question to a finished sweep: `imbench rescore` against running it again.

    python benchmarks/rescore.py [--datasets ecoli1,pima,...]

Whole processes, start to exit, one warm PREFECT_HOME: a sweep thresholded for F1
(`imbench run`), then the same sweep asked "a missed minority row costs 25, a false
alarm 1" two ways: `imbench rescore --objective cost --fn-cost 25` on the stored
predictions, and `imbench run` with that objective (every model fitted again).
Prints both wall times, their ratio, the fits each made, the size of the stored
predictions, and the largest difference between the two answers on any fold of any
cell (they must agree).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _common import table, timed_process, write_page

DATASETS = "ecoli1,pima,yeast1,glass0,vehicle1,wisconsin"
STRATEGIES = ["none", "threshold", "balanced+threshold", "smote+threshold",
              "smote+calibrated", "rus+threshold"]  # fmt: skip
CONFIG = """
name = "{name}"
datasets = {datasets}
strategies = {strategies}
classifiers = ["lr"]
ratios = ["native", 10]
workers = 2
[protocol]
threshold_objective = "{objective}"
fp_cost = 1.0
fn_cost = 25.0
"""
KEY = ["dataset", "imbalance_ratio", "strategy", "classifier", "seed", "fold"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default=DATASETS)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="imbench-rescore-"))
    env = {**os.environ, "PREFECT_HOME": str(root / "prefect"), "OMP_NUM_THREADS": "1"}
    imbench = [sys.executable, "-m", "imbench.cli"]
    datasets = args.datasets.split(",")
    for name, objective in (("f1", "f1"), ("cost-full", "cost"), ("warmup", "f1")):
        (root / f"{name}.toml").write_text(
            CONFIG.format(
                name=name, datasets=datasets, strategies=STRATEGIES, objective=objective
            ).replace("'", '"')  # fmt: skip
        )
    warm = [*imbench, "run", "-d", "ecoli1", "-s", "none", "-c", "lr", "-q"]
    timed_process([*warm, "--out", str(root / "warmup")], env)  # a warm PREFECT_HOME
    out = ["--out", str(root / "res")]
    t_run = timed_process([*imbench, "run", str(root / "f1.toml"), *out, "-q"], env)
    t_rescore = timed_process(
        [*imbench, "rescore", "f1", "--name", "cost-rescored", "--objective", "cost",
         "--fp-cost", "1", "--fn-cost", "25", *out],
        env,
    )  # fmt: skip
    t_full = timed_process([*imbench, "run", str(root / "cost-full.toml"), *out, "-q"], env)

    res = root / "res"
    rescored = pd.read_parquet(res / "cost-rescored" / "folds.parquet")
    full = pd.read_parquet(res / "cost-full" / "folds.parquet")
    both = rescored.merge(full, on=KEY, suffixes=("", "_full"))
    metrics = ["pr_auc", "roc_auc", "mcc", "f1", "brier", "expected_cost", "threshold"]
    worst = max(
        float(np.nanmax(np.abs(both[m].to_numpy(float) - both[f"{m}_full"].to_numpy(float))))
        for m in metrics
    )
    fits = {n: int(pd.read_parquet(res / n / "cells.parquet")["n_fits"].sum())
            for n in ("f1", "cost-rescored", "cost-full")}  # fmt: skip
    size = (res / "f1" / "predictions.parquet").stat().st_size
    folds_size = (res / "f1" / "folds.parquet").stat().st_size
    cells = len(pd.read_parquet(res / "f1" / "cells.parquet"))
    print(f"grid: {len(datasets)} KEEL sets x native, 10 x {len(STRATEGIES)} strategies x lr "
          f"= {cells} cells, 2 workers; whole processes, {os.cpu_count()} cores")  # fmt: skip
    print(f"imbench run (F1 thresholds):           {t_run:6.1f} s, {fits['f1']} fits")
    print(
        f"imbench rescore (cost 25:1):           {t_rescore:6.1f} s, {fits['cost-rescored']} fits"
    )
    print(f"imbench run again with cost 25:1:      {t_full:6.1f} s, {fits['cost-full']} fits")
    print(f"rescore / full run: {t_rescore / t_full:.2f} of the wall time")
    print(
        f"rows compared: {len(both)} folds of {both['strategy'].nunique()} strategies; "
        f"max |rescored - full run| over {', '.join(metrics)}: {worst:.2e}"
    )
    print(f"predictions.parquet: {size / 1024:.0f} KiB (folds.parquet {folds_size / 1024:.0f} KiB)")
    body = [
        f"A grid of {len(datasets)} KEEL sets ({', '.join(datasets)}) x ratios native, 10 x "
        f"{len(STRATEGIES)} strategies ({', '.join(STRATEGIES)}) x lr = {cells} cells, 2 "
        "workers. Whole processes, start to exit (interpreter, imports, the local Prefect "
        "server, the pool, MLflow), one PREFECT_HOME warmed by a 1-cell run first, "
        "OMP_NUM_THREADS=1.",
        "",
        "## A new question: rescore, or run again",
        "",
        "Seconds of wall time of one process each (N = 1); fits summed over the sweep's cells.",
        "",
        *table(
            ["command", "wall (s)", "fits"],
            [
                ("`imbench run` (F1 thresholds)", f"{t_run:.1f}", fits["f1"]),
                ("`imbench rescore` (cost 25:1)", f"{t_rescore:.1f}", fits["cost-rescored"]),
                ("`imbench run` again with cost 25:1", f"{t_full:.1f}", fits["cost-full"]),
            ],
        ),
        "",
        f"Rescore / full run: {t_rescore / t_full:.2f} of the wall time.",
        "",
        "## Rescored against the full run",
        "",
        *table(
            ["folds compared", "strategies", "metrics", "max abs(rescored - full run)"],
            [(len(both), both["strategy"].nunique(), ", ".join(metrics), f"{worst:.2e}")],
        ),
        "",
        "## What rescoring reads",
        "",
        *table(
            ["file (the F1 sweep's)", "size (KiB)"],
            [
                ("predictions.parquet", f"{size / 1024:.0f}"),
                ("folds.parquet", f"{folds_size / 1024:.0f}"),
            ],
        ),
    ]
    write_page(
        "rescore",
        "Rescore vs rerun",
        body,
        argv=["--datasets", args.datasets],
        how_to_read=(
            "`imbench rescore` answers a new threshold question (here: a missed minority "
            "row costs 25, a false alarm 1) from the stored out-of-fold predictions, so it "
            "should fit nothing and take a fraction of the full run, and its answer should "
            "equal the full run's on every fold of every cell (a largest difference of 0, "
            "or at floating-point rounding level). The first row is the F1 sweep it "
            "rescored, for scale. predictions.parquet is what storing the predictions costs "
            "on disk. One process each: compare the wall times within this page only."
        ),
    )


if __name__ == "__main__":
    main()
