"""Bar 4: parallel efficiency from 1 to 2 workers, and memory over many tiny cells.

    python benchmarks/scaling.py efficiency [rf] # same grid on 1 and 2 workers
    python benchmarks/scaling.py bare [rf]       # the same cells in a bare joblib loop
    python benchmarks/scaling.py memory          # 1 000 and 10 000 tiny cells, peak RSS
                                                 # while cells run, and with the end phase

Efficiency is measured on the sweep's work (wall time minus the fixed start-up,
which the overhead benchmark reports separately): T1 / (2 x T2).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

from imbench.strategies import STRATEGIES

from _common import config, sweep, table, write_page


def default_grid() -> dict:
    """The embedded default sweep's grid (a few minutes of work)."""
    from imbench.config import default_config_dict

    raw = default_config_dict()
    return {k: raw[k] for k in ("datasets", "ratios", "strategies", "classifiers", "seeds")}


def rf_grid() -> dict:
    """Heavier cells: random forests on the default datasets."""
    grid = default_grid()
    grid.update(
        ratios=["native"],
        classifiers=["rf"],
        strategies=["none", "threshold", "balanced", "smote", "rus", "smoteenn"],
    )
    return grid


def _own_cpu() -> float:
    """CPU seconds this (the flow's) process has used: the share of the 2 cores
    that Prefect, Parquet and MLflow take from the workers."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def efficiency(grid_name: str = "default") -> None:
    grid = rf_grid() if grid_name == "rf" else default_grid()
    print(f"grid: {grid_name}", flush=True)
    work = {}
    rows = []
    for workers in (1, 2):
        cpu = _own_cpu()
        s = sweep(config(workers=workers, **grid))
        work[workers] = s["wall_seconds"] - s["startup_seconds"]
        flow_cpu = _own_cpu() - cpu
        rows.append(
            (
                workers,
                s["computed"],
                f"{s['wall_seconds']:.1f}",
                f"{s['startup_seconds']:.1f}",
                f"{work[workers]:.1f}",
                f"{flow_cpu:.1f}",
            )
        )
        print(
            f"{workers} worker(s): {s['computed']} cells, wall {s['wall_seconds']:.1f} s, "
            f"start-up {s['startup_seconds']:.1f} s, work {work[workers]:.1f} s; "
            f"flow process CPU {flow_cpu:.1f} s",
            flush=True,
        )
    print(f"parallel efficiency 1->2 workers: {work[1] / (2 * work[2]):.1%}")
    _page(
        f"efficiency, {grid_name} grid",
        ["efficiency", grid_name],
        [
            f"The {_describe(grid_name, grid)}, run by imbench's sweep (the local Prefect "
            "server, the process pool, Parquet, MLflow) from this Python process, on 1 "
            "worker and then on 2, each into a fresh results folder.",
            "",
            "Seconds, N = 1 sweep each. Work is wall time minus start-up (until the first "
            "batch is handed out); flow process CPU is user + system seconds of this process "
            "(the flow, the Prefect client, Parquet and MLflow), not of its workers.",
            "",
            *table(
                ["workers", "cells", "wall (s)", "start-up (s)", "work (s)", "flow CPU (s)"],
                rows,
            ),
            "",
            f"Parallel efficiency 1 -> 2 workers, T1 / (2 x T2) on the work: "
            f"**{work[1] / (2 * work[2]):.1%}**.",
        ],
    )


def bare_efficiency(grid_name: str = "default") -> None:
    """The same cells through a bare joblib loop on 1 and 2 processes: the machine's ceiling."""
    from joblib import Parallel, delayed

    from imbench.engine import evaluate_batch
    from imbench.plan import make_batches
    from imbench.protocol import ProtocolSettings
    from imbench.sweep import pending_work, plan_sweep

    grid = rf_grid() if grid_name == "rf" else default_grid()
    cfg = config(**grid)
    plan = plan_sweep(cfg)
    units, _ = pending_work(plan, set())
    seconds = {}
    for workers in (1, 2):
        batches = make_batches(units, workers, plan.sizes)
        start = time.perf_counter()
        Parallel(n_jobs=workers)(
            delayed(evaluate_batch)(
                b, ProtocolSettings.of(cfg), min_minority=cfg.protocol.min_minority
            )
            for b in batches
        )
        seconds[workers] = time.perf_counter() - start
        print(f"bare joblib, {workers} process(es): {seconds[workers]:.1f} s", flush=True)
    print(f"bare joblib efficiency 1->2 ({grid_name}): {seconds[1] / (2 * seconds[2]):.1%}")
    _page(
        f"bare joblib loop, {grid_name} grid",
        ["bare", grid_name],
        [
            f"The cells of the {_describe(grid_name, grid)}, evaluated by a bare joblib loop "
            "over `imbench.engine.evaluate_batch` on 1 process and then on 2 (batched as "
            "the sweep batches them; nothing written): the machine's ceiling for the "
            "sweep's efficiency.",
            "",
            "Seconds of wall time of the loop, N = 1 each.",
            "",
            *table(["processes", "wall (s)"], [(w, f"{seconds[w]:.1f}") for w in (1, 2)]),
            "",
            f"Bare joblib efficiency 1 -> 2, T1 / (2 x T2): "
            f"**{seconds[1] / (2 * seconds[2]):.1%}**.",
        ],
    )


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS so far (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024


def tiny(n_cells: int) -> None:
    """Run one sweep of about n_cells tiny cells and print peak RSS (this process, children)."""
    names = list(STRATEGIES)
    strategies = names + [f"{s}+threshold" for s in names]
    seeds = list(range(-(-n_cells // len(strategies))))
    # the flow process's high-water mark when the cells are done, before the end
    # phase reads the whole sweep's results back (that part grows with the results)
    from imbench.store import SweepStore

    consolidate = SweepStore.consolidate
    at_end_of_cells = {}

    def measured(store, plan_ids):
        at_end_of_cells["mb"] = _peak_mb()
        return consolidate(store, plan_ids)

    SweepStore.consolidate = measured
    s = sweep(
        config(
            datasets=["synthetic:n=150,minority=0.2,features=4,informative=2"],
            strategies=strategies,
            classifiers=["lr"],
            ratios=["native"],
            seeds=seeds,
            workers=2,
            protocol={"outer_folds": 2, "inner_folds": 2, "min_minority": 5},
            out=tempfile.mkdtemp(prefix="imbench-tiny-"),
        )
    )
    own = _peak_mb()
    kids = _peak_mb(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "cells": s["cells"],
                "ok": s["ok"],
                "wall": s["wall_seconds"],
                "flow_peak_mb": round(own, 1),
                "flow_peak_cells_mb": round(at_end_of_cells["mb"], 1),
                "child_peak_mb": round(kids, 1),
            }
        )
    )


def memory() -> None:
    rows = []
    for n in (1_000, 10_000):
        out = (
            subprocess.run(
                [sys.executable, __file__, "tiny", str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = json.loads(out)
        rows.append(
            (
                r["cells"],
                r["ok"],
                f"{r['wall']:.0f}",
                f"{r['flow_peak_cells_mb']:.0f}",
                f"{r['flow_peak_mb']:.0f}",
                f"{r['child_peak_mb']:.0f}",
            )
        )
        print(
            f"{r['cells']:>6} cells ({r['ok']} ok) in {r['wall']:.0f} s: peak RSS flow process "
            f"{r['flow_peak_cells_mb']:.0f} MB while cells run, {r['flow_peak_mb']:.0f} MB "
            f"with the end phase; largest child {r['child_peak_mb']:.0f} MB",
            flush=True,
        )
    _page(
        "memory",
        ["memory"],
        [
            "Sweeps of about 1 000 and 10 000 tiny cells (a 150-row synthetic set, every "
            "strategy and its `+threshold` variant, lr, 2 outer x 2 inner folds, as many "
            "seeds as it takes), 2 workers, each in its own Python process "
            "(`scaling.py tiny N`) so each peak is its own.",
            "",
            "Peak resident set size in MB (ru_maxrss), N = 1 sweep each; seconds of the "
            "sweep's wall time. The flow process's peak is taken twice: when the cells are "
            "done (before the end phase reads the whole sweep's results back) and at the "
            "end; the child's is the largest of that process's children (the pool workers, "
            "the Prefect server).",
            "",
            *table(
                [
                    "cells",
                    "ok",
                    "wall (s)",
                    "flow peak while cells run (MB)",
                    "flow peak with the end phase (MB)",
                    "largest child (MB)",
                ],
                rows,
            ),
        ],
    )


def _describe(grid_name: str, grid: dict) -> str:
    """The grid, in words, for the page."""
    ratios = ", ".join(f"{r:g}" if isinstance(r, float) else str(r) for r in grid["ratios"])
    return (
        f"{grid_name} grid ({len(grid['datasets'])} datasets x ratios {ratios} x "
        f"{len(grid['strategies'])} strategies x {', '.join(grid['classifiers'])} x "
        f"{len(grid['seeds'])} seed(s))"
    )


def _page(section: str, argv: list[str], body: list[str]) -> None:
    write_page(
        "scaling",
        "Scaling and memory",
        body,
        argv=argv,
        section=section,
        how_to_read=(
            "Parallel efficiency is T1 / (2 x T2) on the sweep's work (its fixed start-up "
            "is on the [overhead](overhead.md) and [fixed costs](fixed_costs.md) pages): "
            "100 % means 2 workers halve the time. The bare joblib loop on the same cells "
            "is the ceiling the machine allows; the sweep's efficiency should come close "
            "to it, and the flow process's CPU is the share of the 2 cores the plumbing "
            "takes from the workers. The memory rows should not grow with the number of "
            "cells while cells run (the flow holds no finished result); the end phase reads "
            "the whole sweep back, so that peak grows with the results. Each section is "
            "one run: compare figures within a section."
        ),
    )


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "efficiency"
    if what == "efficiency":
        efficiency(sys.argv[2] if len(sys.argv) > 2 else "default")
    elif what == "memory":
        memory()
    elif what == "bare":
        bare_efficiency(sys.argv[2] if len(sys.argv) > 2 else "default")
    else:
        tiny(int(sys.argv[2]))
