"""Fixed costs as the user waits for them: whole `imbench` processes, start to exit.

    python benchmarks/fixed_costs.py [--repeats 3]

Prints the median wall time (and min-max), and the median CPU time of the process
and all it waited for (its Prefect server, pool workers), of:
  - a 1-cell lr sweep into a fresh results folder, warm PREFECT_HOME;
  - the same, with MLflow making the new store itself (imbench's cache unusable:
    its migrations run, as they did before the template);
  - another 1-cell sweep into that folder (its MLflow store exists);
  - the same finished sweep run again (nothing to compute);
  - the 1-cell sweep with a fresh, empty PREFECT_HOME (its database is a copy of the
    one imbench ships, see flows/prefect_db.py);
  - the same, with Prefect migrating the new database itself (the copy switched off
    by IMBENCH_PREFECT_DB_TEMPLATE=off, as before it existed);
  - the 1-cell sweep on "a new machine": a fresh PREFECT_HOME and a fresh imbench
    cache (IMBENCH_CACHE_DIR, where the migrated MLflow store template lives);
  - the 1-cell sweep against a Prefect server that is already running (PREFECT_API_URL
    set, as with `prefect server start`): the imbench process alone, so the gap to
    the warm row is what starting and stopping imbench's own server costs the user;
  - `python -c "import imbench.flows.sweep"` and `import imbench.store`;
each as a subprocess, so interpreter start, imports, the local Prefect server,
the process pool and MLflow are all counted. Compare figures within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from imbench.flows.runtime import PrefectApi

from _common import measured_process, table, write_page

ONE_CELL = ["-d", "ecoli1", "-s", "none", "-c", "lr", "-r", "native", "-q"]


def _imbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "imbench.cli", *args]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    root = Path(tempfile.mkdtemp(prefix="imbench-fixed-"))
    warm = {"PREFECT_HOME": str(root / "prefect-warm"), "IMBENCH_CACHE_DIR": str(root / "cache")}
    env = {**os.environ, **warm}
    measured_process(_imbench("run", *ONE_CELL, "--out", str(root / "warmup")), env)  # warm both
    # a server that runs throughout, as `prefect server start` would (idle: ~3 % of a core)
    os.environ["PREFECT_HOME"] = str(root / "prefect-running")
    running_api = PrefectApi().start()
    running_api.wait()
    running = {**env, "PREFECT_API_URL": str(running_api.url)}
    blocked = root / "no-cache"  # a file where the cache would be: no template can be made
    blocked.write_text("")
    rows: dict[str, list[tuple[float, float]]] = {
        "1-cell lr sweep (warm PREFECT_HOME)": [],
        "1-cell lr sweep, MLflow makes its store": [],
        "new 1-cell sweep, existing results folder": [],
        "rerun of the finished 1-cell sweep": [],
        "1-cell lr sweep (fresh PREFECT_HOME)": [],
        "same, Prefect migrates the new home": [],
        "1-cell lr sweep (new machine)": [],
        "1-cell lr sweep, Prefect server running": [],
        "import imbench.flows.sweep": [],
        "import imbench.store": [],
    }
    for i in range(repeats):
        out = str(root / f"run{i}")
        rows["1-cell lr sweep (warm PREFECT_HOME)"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", out), env)
        )
        no_template = {**env, "IMBENCH_CACHE_DIR": str(blocked)}
        rows["1-cell lr sweep, MLflow makes its store"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", f"{out}-own"), no_template)
        )
        rows["new 1-cell sweep, existing results folder"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", out, "--name", f"again{i}"), env)
        )
        rows["rerun of the finished 1-cell sweep"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", out), env)
        )
        fresh = {**env, "PREFECT_HOME": str(root / f"prefect-fresh{i}")}
        rows["1-cell lr sweep (fresh PREFECT_HOME)"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", str(root / f"fresh{i}")), fresh)
        )
        migrated = {**env, "PREFECT_HOME": str(root / f"prefect-own{i}"),
                    "IMBENCH_PREFECT_DB_TEMPLATE": "off"}  # fmt: skip
        rows["same, Prefect migrates the new home"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", str(root / f"own{i}")), migrated)
        )
        new = {**fresh, "PREFECT_HOME": str(root / f"prefect-new{i}"),
               "IMBENCH_CACHE_DIR": str(root / f"cache-new{i}")}  # fmt: skip
        rows["1-cell lr sweep (new machine)"].append(
            measured_process(_imbench("run", *ONE_CELL, "--out", str(root / f"new{i}")), new)
        )
        alone = _imbench("run", *ONE_CELL, "--out", str(root / f"running{i}"))
        rows["1-cell lr sweep, Prefect server running"].append(measured_process(alone, running))
        for module in ("imbench.flows.sweep", "imbench.store"):
            rows[f"import {module}"].append(
                measured_process([sys.executable, "-c", f"import {module}"], env)
            )
    running_api.stop()
    print(
        f"whole processes, median of {repeats} (min-max) wall, and median CPU "
        f"(user + system, with the server and workers), {os.cpu_count()} cores:"
    )
    for label, pairs in rows.items():
        walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
        print(
            f"  {label:<40} {statistics.median(walls):6.2f} s "
            f"({min(walls):.2f}-{max(walls):.2f})   CPU {statistics.median(cpus):6.2f} s"
        )

    def wall(label: str) -> float:
        return statistics.median(w for w, _ in rows[label])

    base = wall("1-cell lr sweep (warm PREFECT_HOME)")
    fresh_home = wall("1-cell lr sweep (fresh PREFECT_HOME)")
    new_machine = wall("1-cell lr sweep (new machine)")
    own_home = wall("same, Prefect migrates the new home")
    print(f"  a fresh PREFECT_HOME adds {fresh_home - base:+.2f} s to the 1-cell sweep")
    print(f"  (Prefect migrating it instead adds {own_home - base:+.2f} s)")
    print(f"  a new machine (fresh PREFECT_HOME and cache) adds {new_machine - base:+.2f} s")
    alone = wall("1-cell lr sweep, Prefect server running")
    print(f"  imbench's own server (start and stop) adds {base - alone:+.2f} s to the 1-cell sweep")
    figures = []
    for label, pairs in rows.items():
        walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
        figures.append(
            (label, f"{statistics.median(walls):.2f}", f"{min(walls):.2f}", f"{max(walls):.2f}",
             f"{statistics.median(cpus):.2f}")
        )  # fmt: skip
    write_page(
        "fixed_costs",
        "Fixed costs: whole processes",
        [
            f"Each row is a whole process, start to exit, as the user waits for it; N = {repeats} "
            f"per row, {os.cpu_count()} cores. CPU is user + system of the process and all it "
            "waited for (its Prefect server, the pool workers).",
            "",
            *table(["process", "median wall (s)", "min (s)", "max (s)", "median CPU (s)"], figures),
            "",
            "## Differences (medians, seconds)",
            "",
            *table(
                ["against the warm 1-cell sweep", "seconds"],
                [
                    ("a fresh PREFECT_HOME", f"{fresh_home - base:+.2f}"),
                    ("Prefect migrating a fresh home itself", f"{own_home - base:+.2f}"),
                    ("a new machine (fresh PREFECT_HOME and cache)", f"{new_machine - base:+.2f}"),
                    ("imbench's own server, started and stopped", f"{base - alone:+.2f}"),
                ],
            ),
        ],
        argv=["--repeats", str(repeats)],
        how_to_read=(
            "The bars: a 1-cell sweep in about 6 s and a finished sweep answered in under 3 s, "
            "whole processes. Compare rows within this page only: the machine's load moves "
            "every row together."
        ),
    )


if __name__ == "__main__":
    main()
