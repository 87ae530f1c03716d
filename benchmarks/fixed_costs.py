"""Fixed costs as the user waits for them: whole `imbench` processes, start to exit.

    python benchmarks/fixed_costs.py [--repeats 3]

Prints the median wall time (and min-max) of:
  - a 1-cell lr sweep into a fresh results folder, warm PREFECT_HOME;
  - another 1-cell sweep into that folder (its MLflow store exists);
  - the same finished sweep run again (nothing to compute);
  - the 1-cell sweep with a fresh, empty PREFECT_HOME (a new machine);
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

from _common import timed_process

ONE_CELL = ["-d", "ecoli1", "-s", "none", "-c", "lr", "-r", "native", "-q"]


def _imbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "imbench.cli", *args]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    root = Path(tempfile.mkdtemp(prefix="imbench-fixed-"))
    warm_home = root / "prefect-warm"
    env = {**os.environ, "PREFECT_HOME": str(warm_home)}
    timed_process(_imbench("run", *ONE_CELL, "--out", str(root / "warmup")), env)  # warm the home
    rows: dict[str, list[float]] = {
        "1-cell lr sweep (warm PREFECT_HOME)": [],
        "new 1-cell sweep, existing results folder": [],
        "rerun of the finished 1-cell sweep": [],
        "1-cell lr sweep (fresh PREFECT_HOME)": [],
        "import imbench.flows.sweep": [],
        "import imbench.store": [],
    }
    for i in range(repeats):
        out = str(root / f"run{i}")
        rows["1-cell lr sweep (warm PREFECT_HOME)"].append(
            timed_process(_imbench("run", *ONE_CELL, "--out", out), env)
        )
        rows["new 1-cell sweep, existing results folder"].append(
            timed_process(_imbench("run", *ONE_CELL, "--out", out, "--name", f"again{i}"), env)
        )
        rows["rerun of the finished 1-cell sweep"].append(
            timed_process(_imbench("run", *ONE_CELL, "--out", out), env)
        )
        fresh = {**os.environ, "PREFECT_HOME": str(root / f"prefect-fresh{i}")}
        rows["1-cell lr sweep (fresh PREFECT_HOME)"].append(
            timed_process(_imbench("run", *ONE_CELL, "--out", str(root / f"fresh{i}")), fresh)
        )
        for module in ("imbench.flows.sweep", "imbench.store"):
            rows[f"import {module}"].append(
                timed_process([sys.executable, "-c", f"import {module}"], env)
            )
    print(f"whole processes, median of {repeats} (min-max), {os.cpu_count()} cores:")
    for label, values in rows.items():
        print(
            f"  {label:<40} {statistics.median(values):6.2f} s "
            f"({min(values):.2f}-{max(values):.2f})"
        )
    warm = statistics.median(rows["1-cell lr sweep (warm PREFECT_HOME)"])
    fresh_home = statistics.median(rows["1-cell lr sweep (fresh PREFECT_HOME)"])
    print(f"  a fresh PREFECT_HOME adds {fresh_home - warm:+.2f} s to the 1-cell sweep")


if __name__ == "__main__":
    main()
