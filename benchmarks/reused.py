"""A new machine's first run over committed results: what `imbench run` costs when
MLflow has none of the sweep's cells, and what the `imbench sync` it leaves costs.

    python benchmarks/reused.py

A clone of the repository holds the reference's Parquet results but no MLflow store.
Running the reference's config there computes nothing; before the sweep left a large
back-fill to `imbench sync`, it logged every reused cell before exiting (the sync's
work, in the run). Each step is one whole process with a fresh PREFECT_HOME.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from _common import ROOT, measured_process, table, write_page

SWEEP = "reference"
CONFIG = ROOT / "benchmarks" / f"{SWEEP}.toml"


def cell_runs(db: Path) -> int:
    """The store's cell runs (children of a sweep's run), as MLflow's UI would list them."""
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        query = "select count(*) from tags where key = 'imbench.role' and value = 'cell'"
        return int(con.execute(query).fetchone()[0])


def main() -> None:
    import pandas as pd

    work = Path(tempfile.mkdtemp(prefix="imbench-reused-"))
    try:
        out = work / "results"
        shutil.copytree(ROOT / "results" / SWEEP, out / SWEEP)  # what a clone holds
        n_cells = len(pd.read_parquet(out / SWEEP / "cells.parquet"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
        db = out / "mlflow.db"
        steps = [
            ("imbench run (the clone's first)", ["run", str(CONFIG), "-q"]),
            ("imbench sync (the back-fill it left)", ["sync", SWEEP]),
            ("imbench run again (after the sync)", ["run", str(CONFIG), "-q"]),
        ]
        rows = []
        for i, (label, args) in enumerate(steps):
            env["PREFECT_HOME"] = str(work / f"prefect-home-{i}")  # a new machine's, each
            wall, cpu = measured_process(["imbench", *args, "--out", str(out)], env)
            runs = cell_runs(db)
            rows.append((label, f"{wall:.1f}", f"{cpu:.1f}", runs))
            print(f"{label:<38}: {wall:6.1f} s wall, {cpu:6.1f} s CPU; MLflow cell runs {runs}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = [
        f"The committed sweep `{SWEEP}` ({n_cells} cells) copied into an empty folder with no "
        f"MLflow store, as a clone holds it; then `imbench run benchmarks/{SWEEP}.toml`, "
        f"`imbench sync {SWEEP}` and the run again, each one whole process (start to exit) "
        "with a fresh PREFECT_HOME. N = 1 of each.",
        "",
        *table(["step", "wall (s)", "CPU (s)", "MLflow cell runs after it"], rows),
    ]
    write_page(
        "reused",
        "A new machine's first run over committed results",
        body,
        argv=[],
        how_to_read=(
            "The first run computes nothing: every cell is in the committed Parquet files. "
            "It logs none of them to MLflow (more than 500 to back-fill) and says "
            "`imbench sync` adds them; the sync's row is what the first run itself spent "
            "before a sweep left that back-fill to it. The last row is the run once MLflow "
            "holds every cell: it answers from the sweep's files. CPU counts the process "
            "and the processes it waited for (its Prefect server, its pool)."
        ),
    )


if __name__ == "__main__":
    main()
