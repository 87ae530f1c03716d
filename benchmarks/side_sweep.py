"""Run one of the reference's side sweeps and record what it cost.

    python benchmarks/side_sweep.py benchmarks/gbdt_field.toml --seed 0
    python benchmarks/side_sweep.py benchmarks/gbdt_field.toml        # every seed

Runs ``imbench run CONFIG ARGS...`` as the user would and times the whole process,
start to exit; then appends a row to ``benchmarks/field/sweeps.csv``: the sweep and
its arguments, whole-process wall time, the sweep's cells after the run and how many
this run computed, its fits (one per shared unit, as ``benchmarks/field.py`` counts
them), workers and the machine. Commit the sweep's folder and that file after each
run: a later run reuses the committed cells.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from _common import append_row, machine, unit_fits

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "benchmarks" / "field" / "sweeps.csv"
FIELDS = ["sweep", "args", "finished", "wall_s", "cells", "computed", "fits", "workers",
          "cpus", "machine"]  # fmt: skip


def _cells(path: Path) -> tuple[int, int]:
    """(cells, fits) of a finished sweep's consolidated files; (0, 0) before its first."""
    import pandas as pd

    if not path.exists():
        return 0, 0
    cells = pd.read_parquet(path)
    return len(cells), unit_fits(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args, rest = parser.parse_known_args()
    name = tomllib.loads(args.config.read_text())["name"]
    cells_file = ROOT / "results" / name / "cells.parquet"
    before, _ = _cells(cells_file)
    cmd = ["imbench", "run", str(args.config), "--workers", str(args.workers), *rest]
    print(" ".join(cmd), flush=True)
    started = time.perf_counter()
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    wall = time.perf_counter() - started
    if rc != 0:
        print(f"imbench exited {rc}; nothing recorded (a rerun resumes)", file=sys.stderr)
        return rc
    after, fits = _cells(cells_file)
    row = {
        "sweep": name,
        "args": " ".join(rest),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "wall_s": round(wall, 1),
        "cells": after,
        "computed": after - before,
        "fits": fits,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "machine": machine(),
    }
    append_row(RECORD, FIELDS, row)
    print(f"{name}: {after} cells ({after - before} computed), {fits} fits, {wall:.0f} s; "
          f"recorded in {RECORD.relative_to(ROOT)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
