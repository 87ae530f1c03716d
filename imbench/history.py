"""Past sweeps under a results root, read from their Parquet and JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from imbench.leaderboard import ratio_key
from imbench.results import SweepFolder, sweep_folders


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
    for folder in sweep_folders(out):
        cells = folder.read_cells(columns=["status"])
        counts = cells["status"].value_counts()
        date = folder.read_provenance().get("created", "")
        best, best_pr, slice_, n = "", float("nan"), "", 0
        if folder.leaderboard.exists():
            top = primary_slice_best(folder.read_leaderboard())
            if top is not None:
                best, best_pr = str(top["strategy"]), float(top["pr_auc_mean"])
                slice_ = f"{top['classifier']}, {top['imbalance_ratio']}"
                n = int(top["n_datasets"])
        rows.append(
            {
                "name": folder.name,
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
    folder = SweepFolder(Path(sweep_dir))
    columns = ["status", "reason", "cells"]
    if not folder.has_results():
        return pd.DataFrame(columns=columns)
    cells = folder.read_cells(columns=["status", "reason"])
    cells = cells[cells["status"] != "ok"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    counts = cells.groupby(["status", "reason"]).size().reset_index(name="cells")
    order = {"failed": 0, "skipped": 1}
    counts["_o"] = counts["status"].map(order)
    counts = counts.sort_values(["_o", "cells", "reason"], ascending=[True, False, True])
    return counts.drop(columns="_o").reset_index(drop=True)


def latest_sweep(out: Path) -> Path:
    """The sweep the user ran last under ``out``: the finished one whose leaderboard was
    written last among those ``imbench run`` made, not a rescore of one (a derived
    sweep is the latest only when there is no other)."""
    from imbench.errors import ConfigError
    from imbench.results import LEADERBOARD

    boards = sorted(Path(out).glob(f"*/{LEADERBOARD}"), key=lambda p: p.stat().st_mtime)
    if not boards:
        raise ConfigError(f"no finished sweep under {out}; run `imbench run` first")
    ran = [b for b in boards if "rescored_from" not in SweepFolder(b.parent).read_provenance()]
    return (ran or boards)[-1].parent


def find_sweep(sweep: str | None, out: Path) -> Path:
    """The named sweep's folder under ``out`` (the latest without a name); a name with no
    results there fails naming the close matches among the sweeps that are there."""
    import difflib

    from imbench.errors import ConfigError

    if not sweep:
        return latest_sweep(out)
    if not SweepFolder.of(out, sweep).has_results():
        names = [f.name for f in sweep_folders(out)]
        close = difflib.get_close_matches(sweep, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"no finished sweep {sweep!r} under {out}{hint}")
    return Path(out) / sweep


def sweep_ref(text: str, out: Path) -> SweepFolder:
    """A sweep folder given by path (any results root) or by name under ``out``."""
    path = Path(text)
    if path.is_dir() and SweepFolder(path).has_results():
        return SweepFolder(path)
    return SweepFolder(find_sweep(text, out))


def sweep_config(folder: SweepFolder, out: Path, tracking_uri: str | None = None) -> Any:
    """The finished sweep's own config (parsed, not resolved: reading it needs no
    plugin), pointed at this results root and tracking store."""
    from imbench.config import parse_config
    from imbench.errors import ConfigError

    if not folder.config.exists():
        raise ConfigError(f"no sweep {folder.name!r} under {out}")
    raw = folder.read_config()
    raw.update(out=str(out), tracking_uri=tracking_uri or raw.get("tracking_uri"))
    return parse_config(raw)
