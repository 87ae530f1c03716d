"""Bar 5: running a finished sweep again fits nothing and takes seconds.

python benchmarks/rerun.py
"""

from __future__ import annotations

import os

from _common import config, sweep, table, write_page


def main() -> None:
    cfg = config(
        datasets=["ecoli1", "pima", "yeast1", "glass0"],
        ratios=["native", 10],
        strategies=["none", "threshold", "balanced", "smote", "smote+threshold", "rus"],
    )
    first = sweep(cfg)
    second = sweep(cfg)
    rows = []
    for label, s in (("first run", first), ("rerun", second)):
        work = s["wall_seconds"] - s["startup_seconds"]
        rows.append(
            (
                label,
                s["computed"],
                s["reused"],
                f"{s['wall_seconds']:.1f}",
                f"{s['startup_seconds']:.1f}",
                f"{work:.1f}",
            )
        )
        print(
            f"{label:<9}: {s['computed']:>3} cells computed, {s['reused']:>3} reused, "
            f"wall {s['wall_seconds']:.1f} s = start-up {s['startup_seconds']:.1f} s "
            f"+ {work:.1f} s of work"
        )
    ratios = ", ".join(f"{r:g}" if isinstance(r, float) else str(r) for r in cfg.ratios)
    workers = cfg.workers or f"{os.cpu_count()} (one a core)"
    grid = (
        f"{len(cfg.datasets)} datasets ({', '.join(cfg.datasets)}) x ratios {ratios} x "
        f"{len(cfg.strategies)} strategies ({', '.join(cfg.strategies)}) x "
        f"{', '.join(cfg.classifiers)}, {workers} workers"
    )
    body = [
        f"One sweep of {grid}, run twice into the same fresh results folder by "
        "`run_sweep` (imbench's real path: the local Prefect server, the process pool, "
        "Parquet, MLflow) called in this Python process, so interpreter start and imports "
        "are not counted, and the second call finds them done.",
        "",
        "## The sweep, then the same sweep again",
        "",
        "Seconds of wall time, N = 1 of each; start-up runs from the call until the cells "
        "are handed out (the server's start, the MLflow store, the plan, reading which "
        "cells are finished); work is the rest: the cells, then the end phase "
        "(consolidating the results, the leaderboard, the statistics, MLflow's record). "
        "Stopping the server comes after the wall time.",
        "",
        *table(
            ["run", "cells computed", "cells reused", "wall (s)", "start-up (s)", "work (s)"],
            rows,
        ),
    ]
    write_page(
        "rerun",
        "Rerun",
        body,
        argv=[],
        how_to_read=(
            "A rerun of a finished sweep should compute 0 cells and reuse all of them, and "
            "its wall time should be mostly start-up (starting the local Prefect server, "
            "planning, reading which cells are finished): the work column is then the end phase "
            "alone. The first row is the price of the sweep itself, for scale. A whole "
            "`imbench run` process adds interpreter start and imports on top: see "
            "[fixed costs](fixed_costs.md) for the rerun as a whole process."
        ),
    )


if __name__ == "__main__":
    main()
