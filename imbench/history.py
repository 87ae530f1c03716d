"""Past sweeps under a results root, read from their Parquet and JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from imbench.leaderboard import ratio_key


def primary_slice_best(board: pd.DataFrame) -> pd.Series | None:
    """The best strategy by mean rank inside one classifier x ratio group: the first
    classifier (alphabetically) at its first ratio (native first). Mean ranks of
    different groups are not comparable, so no best is taken across them."""
    if board.empty:
        return None
    clf = sorted(board["classifier"].unique())[0]
    group = board[board["classifier"] == clf]
    ratio = min(group["imbalance_ratio"].unique(), key=ratio_key)
    group = group[group["imbalance_ratio"] == ratio]
    return group.sort_values(["mean_rank", "pr_auc_mean"], ascending=[True, False]).iloc[0]


def list_sweeps(out: Path) -> list[dict[str, Any]]:
    rows = []
    for cells_path in sorted(Path(out).glob("*/cells.parquet")):
        sweep_dir = cells_path.parent
        cells = pd.read_parquet(cells_path)
        counts = cells["status"].value_counts()
        prov = sweep_dir / "provenance.json"
        date = json.loads(prov.read_text()).get("created", "") if prov.exists() else ""
        best, best_pr, slice_, n = "", float("nan"), "", 0
        board_path = sweep_dir / "leaderboard.parquet"
        if board_path.exists():
            top = primary_slice_best(pd.read_parquet(board_path))
            if top is not None:
                best, best_pr = str(top["strategy"]), float(top["pr_auc_mean"])
                slice_ = f"{top['classifier']}, {top['imbalance_ratio']}"
                n = int(top["n_datasets"])
        rows.append(
            {
                "name": sweep_dir.name,
                "date": date,
                "cells": len(cells),
                "ok": int(counts.get("ok", 0)),
                "skipped": int(counts.get("skipped", 0)),
                "failed": int(counts.get("failed", 0)),
                "best_strategy": best,
                "best_pr_auc": best_pr,
                "slice": slice_,
                "n_datasets": n,
            }
        )
    return sorted(rows, key=lambda r: r["date"], reverse=True)


def reason_counts(sweep_dir: Path) -> pd.DataFrame:
    """Skipped and failed cells of a sweep grouped by (status, reason), most frequent
    first: columns status, reason, cells."""
    path = Path(sweep_dir) / "cells.parquet"
    columns = ["status", "reason", "cells"]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    cells = pd.read_parquet(path, columns=["status", "reason"])
    cells = cells[cells["status"] != "ok"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    counts = cells.groupby(["status", "reason"]).size().reset_index(name="cells")
    order = {"failed": 0, "skipped": 1}
    counts["_o"] = counts["status"].map(order)
    counts = counts.sort_values(["_o", "cells", "reason"], ascending=[True, False, True])
    return counts.drop(columns="_o").reset_index(drop=True)
