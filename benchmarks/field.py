"""The field-scale reference (`benchmarks/field.toml`), run in cumulative pieces.

    python benchmarks/field.py                 # run the next unfinished piece
    python benchmarks/field.py --status        # the pieces, which are done, what each cost
    python benchmarks/field.py --piece NAME    # run one piece by name (resumes if stopped)
    python benchmarks/field.py --time-limit 3000   # stop cleanly after 50 minutes

The grid is longer than a session on 2 cores, so it runs as a sequence of pieces,
each a sub-grid of the config that holds every earlier piece: a piece reuses the
cells the earlier ones left in `results/field` (the committed consolidated files,
on a new machine) and computes only what it adds. Its consolidated files are
therefore always those of one well-formed grid, and `imbench leaderboard field`,
`compare field --ratings` and the rest read it as it stands.

A piece stopped by its time limit (or Ctrl-C) keeps every finished batch in
`results/field/parts/`, so running it again on the same machine resumes it. It also
packs the cells and folds of those batches (not their predictions, too large for
git) into `results/field/checkpoint/`: commit that too, and a new machine resumes
the piece where it stopped instead of restarting it (`--checkpoint` packs by hand,
after a Ctrl-C or a killed run). A finished piece removes its checkpoint. Each finished
piece is appended to `benchmarks/field/pieces.csv` with what it cost: whole-process
wall time, cells computed and reused, fits, the machine. Commit `results/field`
and that file after each piece.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from _common import append_row, machine, unit_fits

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "benchmarks" / "field.toml"
RECORD = ROOT / "benchmarks" / "field" / "pieces.csv"
SWEEP = ROOT / "results" / "field"
CHECKPOINT = SWEEP / "checkpoint"
ADOPTED = f"{0:020d}-adopted"  # the stem the engine gives a sweep's consolidated files
RESTORED = f"{1:020d}-checkpoint"  # newer than those, older than any new batch
WINDOWS = CHECKPOINT / "windows.csv"  # the stopped piece's earlier windows and their cost
# wall_s: whole-process wall time summed over the piece's windows (`unrecorded` of its
# `windows` ran before windows were recorded, so wall_s is then a lower bound); cell_s:
# the worker-seconds its computed cells took, measured in the engine, whatever the windows
FIELDS = ["piece", "finished", "wall_s", "windows", "unrecorded", "cell_s", "cells",
          "computed", "reused", "fits", "workers", "cpus", "machine"]  # fmt: skip
WINDOW_FIELDS = ["piece", "started", "wall_s", "workers", "cpus", "machine", "note"]

BASES = ["none", "balanced", "cost", "ros", "smote", "borderline_smote", "adasyn", "rus",
         "tomek", "smoteenn", "smotetomek", "easy_ensemble"]  # fmt: skip
DECIDED = BASES + [f"{b}+threshold" if b != "none" else "threshold" for b in BASES]

# Cumulative: each piece's grid holds every earlier one's. Native imbalance with
# every seed comes first (the reference's bar), then the target ratios, then the
# +calibrated variants, which cost most.
PIECES: list[tuple[str, dict[str, list]]] = [
    ("native-seed0", {"ratios": ["native"], "strategies": DECIDED, "seeds": [0]}),
    ("native-seeds01", {"ratios": ["native"], "strategies": DECIDED, "seeds": [0, 1]}),
    ("native", {"ratios": ["native"], "strategies": DECIDED, "seeds": [0, 1, 2]}),
    ("ratio10", {"ratios": ["native", 10], "strategies": DECIDED, "seeds": [0, 1, 2]}),
    ("ratio30", {"ratios": ["native", 10, 30], "strategies": DECIDED, "seeds": [0, 1, 2]}),
    ("ratio100", {"ratios": ["native", 10, 30, 100], "strategies": DECIDED, "seeds": [0, 1, 2]}),
    ("calibrated", {}),  # the whole config
]


def done() -> dict[str, dict[str, str]]:
    if not RECORD.exists():
        return {}
    with RECORD.open() as f:
        return {row["piece"]: row for row in csv.DictReader(f)}


def piece_config(name: str) -> str:
    """The piece's TOML: the config with its axes restricted."""
    raw = tomllib.loads(CONFIG.read_text())
    raw.update(dict(PIECES)[name])
    lines = []
    for key, value in raw.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml(value)}")
    for key, value in raw.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_toml(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return repr(value)


def checkpoint(name: str) -> int:
    """Pack the cells and folds of the piece's finished batches into CHECKPOINT."""
    import pandas as pd

    parts = SWEEP / "parts"
    known = _committed()
    frames: dict[str, list[pd.DataFrame]] = {"cells": [], "folds": []}
    for kind, found in frames.items():
        for f in sorted(parts.glob(f"*.{kind}.parquet")) if parts.is_dir() else []:
            if not f.name.startswith(ADOPTED):
                # parts left by an earlier piece finished on this machine hold cells the
                # committed files already have
                frame = pd.read_parquet(f)
                found.append(frame.loc[~frame["cell_id"].isin(known)])
    if not sum(len(f) for f in frames["cells"]):
        print(f"piece {name}: no finished batch to checkpoint")
        return 0
    CHECKPOINT.mkdir(parents=True, exist_ok=True)
    for kind, found in frames.items():
        if found:  # cells last: with folds, as in the engine's own parts
            pd.concat(found, ignore_index=True).to_parquet(CHECKPOINT / f"{kind}.parquet")
    (CHECKPOINT / "piece").write_text(name + "\n")
    n = sum(len(f) for f in frames["cells"])
    print(f"piece {name}: {n} finished cells packed in {CHECKPOINT.relative_to(ROOT)}; "
          "commit it to resume on another machine")  # fmt: skip
    return n


def restore(name: str) -> None:
    """On a machine without the piece's parts, turn its checkpoint back into parts."""
    parts = SWEEP / "parts"
    marker = CHECKPOINT / "piece"
    if not marker.exists() or any(parts.glob("*.cells.parquet")):
        return
    if marker.read_text().strip() != name:
        print(f"checkpoint of piece {marker.read_text().strip()} ignored (running {name})")
        return
    parts.mkdir(parents=True, exist_ok=True)
    # the engine adopts the consolidated files only into an empty parts folder: do it
    # here as it would, then add the checkpoint as the next part (cells last: the
    # engine's commit marker)
    for kind in ("folds", "predictions", "cells"):
        if (SWEEP / f"{kind}.parquet").exists():
            stem = "preds" if kind == "predictions" else kind
            shutil.copyfile(SWEEP / f"{kind}.parquet", parts / f"{ADOPTED}.{stem}.parquet")
    for kind in ("folds", "cells"):
        if (CHECKPOINT / f"{kind}.parquet").exists():
            shutil.copyfile(CHECKPOINT / f"{kind}.parquet", parts / f"{RESTORED}.{kind}.parquet")
    print(f"piece {name}: resumed from {CHECKPOINT.relative_to(ROOT)}", flush=True)


def _consolidated_since(began: datetime) -> bool:
    """Whether the engine wrote the sweep's consolidated files in this window: it does so
    only once every cell of the run's grid is finished."""
    cells = SWEEP / "cells.parquet"
    return cells.exists() and cells.stat().st_mtime >= began.timestamp()


def _committed() -> set[str]:
    """The cell ids the committed files hold for good: earlier pieces' finished cells (a
    failed one is retried, so its retry belongs in the checkpoint)."""
    import pandas as pd

    committed = SWEEP / "cells.parquet"
    if not committed.exists():
        return set()
    cells = pd.read_parquet(committed, columns=["cell_id", "status"])
    return set(cells.loc[cells["status"].isin(["ok", "skipped"]), "cell_id"])


class _Terminated(Exception):
    """This script got SIGTERM (a stop from outside that its child did not see)."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def run_piece(name: str, workers: int, time_limit: float | None) -> int:
    restore(name)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(piece_config(name))
    out = str(ROOT / "results")
    cmd = ["imbench", "run", f.name, "-q", "--workers", str(workers), "--out", out]
    print(f"piece {name}: {' '.join(cmd)}", flush=True)
    began = datetime.now(UTC)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        rc = proc.wait(timeout=time_limit)
    except (subprocess.TimeoutExpired, _Terminated, KeyboardInterrupt) as stop:
        # stop it as Ctrl-C does: finished batches are kept. SIGTERM, not SIGINT: a job
        # started in the background ignores SIGINT; a Ctrl-C reached the child already
        if not isinstance(stop, KeyboardInterrupt):
            proc.terminate()
        proc.wait()
        why = "at its time limit" if isinstance(stop, subprocess.TimeoutExpired) else ""
        print(f"piece {name}: stopped {why or 'from outside'}; run it again to resume",
              flush=True)  # fmt: skip
        rc = 124 if why else 130
    wall = time.perf_counter() - started
    if rc != 0 and _consolidated_since(began):
        # stopped after its cells were all written, in MLflow's end-of-run logging: the
        # piece is done; `imbench sync` finishes the logging
        print(f"piece {name}: its results were complete before the stop; "
              "`imbench sync field` back-fills MLflow", flush=True)  # fmt: skip
        rc = 0
    if rc != 0:
        if rc != 124:
            print(f"piece {name}: imbench exited {rc}", flush=True)
        checkpoint(name)  # stopped from outside, or failed: keep what it finished
        window(name, began, wall, workers)
        return rc
    record(name, wall, workers)
    shutil.rmtree(CHECKPOINT, ignore_errors=True)
    return 0


def window(name: str, began: datetime, wall: float | None, workers: int, note: str = "") -> None:
    """Add a stopped window's cost to the checkpoint, so the finished piece counts it
    (``wall`` None: a window whose time was not kept)."""
    append_row(WINDOWS, WINDOW_FIELDS,
               {"piece": name, "started": began.strftime("%Y-%m-%d %H:%M"),
                "wall_s": "" if wall is None else round(wall, 1), "workers": workers,
                "cpus": os.cpu_count(), "machine": machine(), "note": note})  # fmt: skip


def windows(name: str) -> list[dict[str, str]]:
    """The piece's earlier windows in the checkpoint (a blank wall_s: one run before they
    were kept)."""
    if not WINDOWS.exists():
        return []
    with WINDOWS.open() as f:
        return [w for w in csv.DictReader(f) if w["piece"] == name]


def record(name: str, wall: float, workers: int) -> None:
    import pandas as pd

    cells = pd.read_parquet(ROOT / "results" / "field" / "cells.parquet")
    mine = computed_cells(cells, name)
    before = _so_far(name)
    row = {
        "piece": name,
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "wall_s": round(wall + before["wall_s"], 1),
        "windows": before["windows"] + 1,
        "unrecorded": before["unrecorded"],
        "cell_s": round(float(mine["seconds"].sum()), 1),
        "cells": len(cells),
        "computed": len(mine),
        "reused": len(cells) - len(mine),
        "fits": unit_fits(cells),
        "workers": workers,
        "cpus": os.cpu_count(),
        "machine": machine(),
    }
    append_row(RECORD, FIELDS, row)
    print(f"piece {name}: done in {row['wall_s']:.0f} s over {row['windows']} window(s); "
          f"recorded in {RECORD.relative_to(ROOT)}")  # fmt: skip


def computed_cells(cells, name: str):
    """The cells the piece added to its predecessor's grid: those of the axis values
    (target ratios, seeds, strategies) the previous piece did not have."""
    names = [p for p, _ in PIECES]
    if names.index(name) == 0:
        return cells
    previous = dict(PIECES)[names[names.index(name) - 1]]
    column = {"ratios": "imbalance_ratio", "strategies": "strategy", "seeds": "seed"}
    inside = cells["cell_id"].notna()
    for axis, values in previous.items():
        inside &= cells[column[axis]].astype(str).isin([str(v) for v in values])
    return cells.loc[~inside]


def status() -> None:
    finished = done()
    for name, axes in PIECES:
        row = finished.get(name)
        what = ", ".join(f"{k}={len(v)}" for k, v in axes.items()) or "the whole config"
        if row:
            cost = (f"done {row['finished']}: {row['cells']} cells ({row['computed']} "
                    f"computed), {row['fits']} fits, {_wall(row)} on {row['workers']} workers, "
                    f"{float(row['cell_s']) / 3600:.1f} worker-hours")  # fmt: skip
        elif _stopped() == name:
            cost = f"stopped: its checkpoint holds {_checkpointed()} cells, {_wall(_so_far(name))}"
        else:
            cost = "to do"
        print(f"{name:15} {what:40} {cost}")


def _so_far(name: str) -> dict[str, float]:
    """The piece's stopped windows: their summed wall time, how many, how many unkept."""
    before = windows(name)
    return {"wall_s": sum(float(w["wall_s"] or 0) for w in before), "windows": len(before),
            "unrecorded": sum(not w["wall_s"] for w in before)}  # fmt: skip


def _wall(row: dict) -> str:
    unrecorded = int(row["unrecorded"])
    if unrecorded and unrecorded == int(row["windows"]):
        return f"{unrecorded} windows of unrecorded time"
    text = f"{'at least ' if unrecorded else ''}{float(row['wall_s']) / 60:.0f} min"
    if int(row["windows"]) > 1:
        text += f" in {row['windows']} windows"
    if unrecorded:
        text += f" ({unrecorded} unrecorded)"
    return text


def _stopped() -> str | None:
    marker = CHECKPOINT / "piece"
    return marker.read_text().strip() if marker.exists() else None


def _checkpointed() -> int:
    """The checkpoint's cells the committed files do not hold."""
    import pandas as pd

    cells = CHECKPOINT / "cells.parquet"
    if not cells.exists():
        return 0
    return int((~pd.read_parquet(cells, columns=["cell_id"])["cell_id"].isin(_committed())).sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--status", action="store_true")
    parser.add_argument("--piece", choices=[p for p, _ in PIECES])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--time-limit", type=float, default=None, help="seconds")
    parser.add_argument("--checkpoint", action="store_true",
                        help="pack the stopped piece's finished batches for git")  # fmt: skip
    args = parser.parse_args()
    if args.status:
        status()
        return 0
    name = args.piece or next((p for p, _ in PIECES if p not in done()), None)
    if name is None:
        print("every piece is done")
        return 0
    if args.checkpoint:
        if checkpoint(name):  # after a stop that kept no record of its window's time
            window(name, datetime.now(UTC), None, args.workers, "packed by hand: time not kept")
        return 0
    return run_piece(name, args.workers, args.time_limit)


if __name__ == "__main__":
    sys.exit(main())
