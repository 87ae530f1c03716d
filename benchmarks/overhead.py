"""Bar 3: what Prefect + MLflow + Parquet add over a bare joblib loop.

Both run the same core evaluator (imbench.engine.evaluate_batch) on the same
batches of the same cells with 2 processes; the bare loop writes nothing.

    python benchmarks/overhead.py [benchmarks/overhead.toml]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from joblib import Parallel, delayed

from imbench.config import load_config_dict
from imbench.engine import evaluate_batch
from imbench.plan import make_batches
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.sweep import pending_work, plan_sweep

from _common import ROOT, sweep, table, write_page


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("overhead.toml"))
    raw = load_config_dict(path)
    raw["out"] = tempfile.mkdtemp(prefix="imbench-overhead-")
    cfg = build_config(raw)
    workers = cfg.workers or 2

    started = time.perf_counter()
    plan = plan_sweep(cfg)
    units, _ = pending_work(plan, set())
    batches = make_batches(units, workers, plan.sizes)
    settings = ProtocolSettings.of(cfg)
    results = Parallel(n_jobs=workers)(
        delayed(evaluate_batch)(b, settings, min_minority=cfg.protocol.min_minority)
        for b in batches
    )
    bare = time.perf_counter() - started
    n_cells = sum(len(r) for r in results)
    print(f"bare joblib loop: {n_cells} cells in {bare:.1f} s", flush=True)

    s = sweep(cfg)
    work = s["wall_seconds"] - s["startup_seconds"]
    print(
        f"imbench sweep:    {s['cells']} cells in {s['wall_seconds']:.1f} s "
        f"(start-up {s['startup_seconds']:.1f} s before the first batch, work {work:.1f} s)"
    )
    print(f"overhead, all in:        {s['wall_seconds'] / bare - 1:+.1%}")
    print(f"overhead, after start-up: {work / bare - 1:+.1%}")
    grid = (
        f"{len(cfg.datasets)} datasets x {len(cfg.ratios)} ratios x "
        f"{len(cfg.strategies)} strategies x {', '.join(cfg.classifiers)} x "
        f"{len(cfg.seeds)} seed(s)"
    )
    shown = path.resolve()
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    body = [
        f"The config `{shown}` ({grid}), {workers} processes, evaluated twice in one Python "
        "process: first by a bare joblib loop over `imbench.engine.evaluate_batch` (planning "
        "and batching included, nothing written), then by imbench's sweep (the local Prefect "
        "server, the process pool, Parquet, MLflow) into a fresh results folder. Interpreter "
        "start and imports are in neither figure.",
        "",
        "## Bare loop and sweep",
        "",
        "Seconds of wall time, N = 1 of each.",
        "",
        *table(
            ["path", "cells", "wall (s)", "start-up (s)", "work (s)"],
            [
                ("bare joblib loop", n_cells, f"{bare:.1f}", "", ""),
                (
                    "imbench sweep",
                    s["cells"],
                    f"{s['wall_seconds']:.1f}",
                    f"{s['startup_seconds']:.1f}",
                    f"{work:.1f}",
                ),
            ],
        ),
        "",
        "## Overhead",
        "",
        "The sweep's time over the bare loop's, minus 1 (N = 1).",
        "",
        *table(
            ["overhead", "relative to the bare loop"],
            [
                ("all in (sweep wall time)", f"{s['wall_seconds'] / bare - 1:+.1%}"),
                ("after start-up (sweep work)", f"{work / bare - 1:+.1%}"),
            ],
        ),
    ]
    write_page(
        "overhead",
        "Overhead",
        body,
        argv=[str(shown)],
        how_to_read=(
            "The overhead after start-up is what Prefect, MLflow and Parquet cost while cells "
            "run: the bar is that it stays small. The all-in figure adds the sweep's fixed "
            "start-up (the local Prefect server, the MLflow store), which does not grow with "
            "the grid, so it shrinks as the grid grows. One run each, so the figures carry "
            "the machine's noise: compare them within this page only."
        ),
    )


if __name__ == "__main__":
    main()
