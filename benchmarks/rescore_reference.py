"""Issue 16's bar on the reference grid: rescore it for a cost objective, 0 fits,
<= 60 s on 2 cores, equal to a fresh run of the same cells with that objective.

    python benchmarks/rescore_reference.py [--out DIR] [--check 3]

1. `imbench run benchmarks/reference.toml --name reference-p` (whole process; skipped
   when DIR already holds it finished, as a rerun reuses every cell): the reference
   grid with stored predictions (the committed results/reference predates them);
2. `imbench rescore reference-p --objective cost --fp-cost 1 --fn-cost 25` (timed);
3. a fresh `imbench run` of the reference grid restricted to the first --check
   datasets with that objective (every model fitted again), whose cells are compared
   with the rescored ones, fold by fold, by cell id.
Prints wall times, fits, the size of predictions.parquet and the largest difference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from _common import table, timed_process, write_page

HERE = Path(__file__).parent
METRICS = ["pr_auc", "roc_auc", "mcc", "f1", "brier", "ece", "expected_cost", "threshold"]
COST_TOML = "fp_cost = 1.0\nfn_cost = 25.0"
COST = ["--objective", "cost", "--fp-cost", "1", "--fn-cost", "25"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("/tmp/imbench-reference-p"))
    parser.add_argument("--check", type=int, default=3, help="datasets run fresh to compare")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(out / "prefect"), "OMP_NUM_THREADS": "1"}
    imbench = [sys.executable, "-m", "imbench.cli"]
    res = ["--out", str(out / "res")]
    config = HERE / "reference.toml"
    found = out / "res" / "reference-p"  # what the run will find there (recorded, not timed)
    before = "absent"
    if found.exists():
        before = "finished" if (found / "cells.parquet").exists() else "part-done or started"

    t_run = timed_process([*imbench, "run", str(config), "--name", "reference-p", *res, "-q"],
                          env)  # fmt: skip
    t_rescore = timed_process(
        [*imbench, "rescore", "reference-p", "--name", "reference-cost25", *COST, *res], env
    )
    source = out / "res" / "reference-p"
    rescored_dir = out / "res" / "reference-cost25"
    datasets = list(pd.read_parquet(source / "cells.parquet")["dataset_key"].unique())
    check = datasets[: args.check]
    raw = tomllib.loads(config.read_text())
    fresh_cfg = out / "fresh.toml"
    text = config.read_text()
    for old, new in (
        ('name = "reference"', 'name = "reference-cost25-fresh"'),
        (f"datasets = {_toml_list(raw['datasets'])}", f"datasets = {_toml_list(check)}"),
        ('threshold_objective = "f1"', f'threshold_objective = "cost"\n{COST_TOML}'),
    ):
        if old not in text:
            raise SystemExit(f"{config} no longer has {old!r}; update this script")
        text = text.replace(old, new)
    fresh_cfg.write_text(text)
    t_fresh = timed_process([*imbench, "run", str(fresh_cfg), *res, "-q"], env)
    fresh_dir = out / "res" / "reference-cost25-fresh"

    rescored = pd.read_parquet(rescored_dir / "folds.parquet")
    fresh = pd.read_parquet(fresh_dir / "folds.parquet")
    both = rescored.merge(fresh, on=["cell_id", "fold"], suffixes=("", "_fresh"))
    worst = max(
        float(np.nanmax(np.abs(both[m].to_numpy(float) - both[f"{m}_fresh"].to_numpy(float))))
        for m in METRICS
    )
    fits = {d.name: int(pd.read_parquet(d / "cells.parquet")["n_fits"].sum())
            for d in (source, rescored_dir, fresh_dir)}  # fmt: skip
    cells = pd.read_parquet(rescored_dir / "cells.parquet")
    size = (source / "predictions.parquet").stat().st_size
    folds_size = (source / "folds.parquet").stat().st_size
    print(f"reference grid: {len(datasets)} datasets, {len(cells)} cells; {os.cpu_count()} cores; "
          "whole processes")  # fmt: skip
    print(f"imbench run reference-p:            {t_run:8.1f} s, {fits['reference-p']} fits "
          "(a rerun of a finished sweep if it was there)")  # fmt: skip
    print(f"imbench rescore (cost 25:1):        {t_rescore:8.1f} s, "
          f"{fits['reference-cost25']} fits")  # fmt: skip
    print(f"fresh run, {len(check)} datasets, cost 25:1: {t_fresh:6.1f} s, "
          f"{fits['reference-cost25-fresh']} fits")  # fmt: skip
    print(
        f"compared by cell id: {both['cell_id'].nunique()} cells, {len(both)} folds "
        f"({', '.join(check)}); max |rescored - fresh| over {', '.join(METRICS)}: {worst:.2e}"
    )
    print(f"predictions.parquet: {size / 2**20:.1f} MiB (folds.parquet {folds_size / 2**20:.1f} "
          "MiB)")  # fmt: skip
    was = {
        "absent": "was not there: the run computed the whole grid",
        "finished": "was there, finished: the run is a rerun of a finished sweep (no cell "
        "computed)",
        "part-done or started": "was there, not finished: the run computed what was missing",
    }[before]
    body = [
        f"The reference grid (`benchmarks/reference.toml`: {len(datasets)} datasets, "
        f"{len(cells)} cells), {os.cpu_count()} cores, whole processes start to exit, one "
        f"PREFECT_HOME under `--out`, OMP_NUM_THREADS=1. Before this run, reference-p "
        f"{was}.",
        "",
        "## Run, rescore, fresh run",
        "",
        "Seconds of wall time of one process each (N = 1); fits summed over each sweep's "
        "cells as stored (a reused cell keeps the fits it was computed with).",
        "",
        *table(
            ["command", "wall (s)", "fits"],
            [
                ("`imbench run` reference-p (F1)", f"{t_run:.1f}", fits["reference-p"]),
                ("`imbench rescore` (cost 25:1)", f"{t_rescore:.1f}", fits["reference-cost25"]),
                (
                    f"fresh `imbench run`, {len(check)} datasets, cost 25:1",
                    f"{t_fresh:.1f}",
                    fits["reference-cost25-fresh"],
                ),
            ],
        ),
        "",
        "## Rescored against the fresh run",
        "",
        *table(
            ["datasets", "cells", "folds", "metrics", "max abs(rescored - fresh)"],
            [
                (
                    ", ".join(check),
                    both["cell_id"].nunique(),
                    len(both),
                    ", ".join(METRICS),
                    f"{worst:.2e}",
                )
            ],
        ),
        "",
        "## What rescoring reads",
        "",
        *table(
            ["file (reference-p's)", "size (MiB)"],
            [
                ("predictions.parquet", f"{size / 2**20:.1f}"),
                ("folds.parquet", f"{folds_size / 2**20:.1f}"),
            ],
        ),
    ]
    write_page(
        "rescore_reference",
        "Rescore on the reference grid",
        body,
        argv=["--out", str(args.out), "--check", str(args.check)],
        how_to_read=(
            "The bar: rescoring the whole reference grid for a cost objective (a missed "
            "minority row costs 25, a false alarm 1) fits nothing and takes at most 60 s on "
            "2 cores, and its answer equals a fresh run of the same cells with that "
            "objective (the largest difference 0, or at floating-point rounding level). The "
            "first row is the run that made the stored predictions, or a rerun of it when "
            "`--out` already held it (see above): it is not the bar. The fresh run covers "
            "only the first `--check` datasets, so its wall time is not the full grid's."
        ),
    )


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


if __name__ == "__main__":
    main()
