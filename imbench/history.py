"""Past sweeps under a results root, read from their Parquet and JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


def list_sweeps(out: Path) -> list[dict[str, Any]]:
    rows = []
    for cells_path in sorted(Path(out).glob("*/cells.parquet")):
        sweep_dir = cells_path.parent
        cells = pd.read_parquet(cells_path)
        counts = cells["status"].value_counts()
        prov = sweep_dir / "provenance.json"
        date = json.loads(prov.read_text()).get("created", "") if prov.exists() else ""
        best, best_pr = "", float("nan")
        board_path = sweep_dir / "leaderboard.parquet"
        if board_path.exists():
            board = pd.read_parquet(board_path)
            if not board.empty:
                ranked = board.sort_values(["mean_rank", "pr_auc_mean"], ascending=[True, False])
                top = ranked.iloc[0]
                best, best_pr = str(top["strategy"]), float(top["pr_auc_mean"])
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
            }
        )
    return sorted(rows, key=lambda r: r["date"], reverse=True)
