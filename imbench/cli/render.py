"""Tables on the terminal, and csv / markdown / json on stdout: leaderboards, sweeps,
cells and their reasons, datasets, registries. Nothing here computes a result."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from imbench.cli.app import console, err
from imbench.errors import ConfigError
from imbench.results import SweepFolder

FORMATS = ("table", "csv", "markdown", "json")
# terminal headers (csv/markdown/json keep the full column names)
_SHORT = {"lo": "95% lo", "hi": "95% hi", "cal_slope": "cal slope", "threshold_fold_sd": "thr sd"}
_DESCRIPTIVE = ("cal_slope", "threshold_fold_sd")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")


def table(
    title: str,
    columns: list[str] | tuple[str, ...],
    rows: list[list[str]],
    *,
    left: tuple[str, ...] = (),
) -> Table:
    """A rich table, columns right-aligned unless named in ``left``."""
    out = Table(title=title)
    for col in columns:
        out.add_column(col, justify="left" if col in left else "right")
    for row in rows:
        out.add_row(*row)
    return out


def write_frame(frame: Any, fmt: str) -> None:
    """csv / markdown / json on stdout, for pipes and documents."""
    from imbench.leaderboard import to_markdown

    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=1) + "\n")
    else:
        sys.stdout.write(to_markdown(frame))


def print_board(
    sweep_dir: Path,
    *,
    metric: str,
    top: int | None = None,
    classifier: str | None = None,
    ratio: str | None = None,
    per_dataset: bool = False,
    fmt: str = "table",
    folds: Any = None,
) -> None:
    """The leaderboard of a sweep, one table per classifier x ratio."""
    from imbench.leaderboard import board_view, cell_text

    check_format(fmt)
    folds = SweepFolder(sweep_dir).read_folds() if folds is None else folds
    if folds.empty:
        raise ConfigError(
            f"sweep {sweep_dir.name!r} has no scored cells; `imbench cells {sweep_dir.name}` "
            "says why"
        )
    view = board_view(
        folds, metric=metric, classifier=classifier, ratio=ratio, per_dataset_rows=per_dataset
    )
    if fmt != "table":
        write_frame(view, fmt)
        return
    group_by = ["classifier", "imbalance_ratio"]
    for (clf, ir), group in view.groupby(group_by, sort=False):
        what = "per dataset" if per_dataset else "means over datasets"
        out = Table(
            title=f"{sweep_dir.name}: classifier={clf} ratio={ir} ({what}, rank by {metric})"
        )
        # the descriptive columns (in csv/markdown/json always) need a wide terminal:
        # names are never cut short for them
        narrow = per_dataset or console.width < 150
        hidden = {*group_by, *(_DESCRIPTIVE if narrow else ())}
        shown = [c for c in group.columns if c not in hidden]
        for c in shown:
            name = _SHORT.get(c.removeprefix(f"{metric}_") if c.startswith(metric) else c, c)
            out.add_column(name, justify="left" if c in ("strategy", "dataset") else "right")
        for row in group.head(top).itertuples(index=False):
            out.add_row(
                *(cell_text(c, v) for c, v in zip(group.columns, row, strict=True) if c in shown)
            )
        console.print(out)
    if not per_dataset and (view["n_datasets"] == 1).any():
        console.print("sd is shown only where there are at least 2 datasets (`--per-dataset`).")


def print_reasons(sweep_dir: Path, limit: int = 10) -> None:
    """Skipped and failed cells grouped by reason, with counts (all: `imbench cells`)."""
    from imbench.history import reason_counts

    counts = reason_counts(sweep_dir)
    if counts.empty:
        return
    for status, group in counts.groupby("status", sort=False):
        color = "red" if status == "failed" else "yellow"
        err.print(f"[{color}]{int(group['cells'].sum())} {status}[/], by reason:", highlight=False)
        for row in group.head(limit).itertuples():
            err.print(f"  {row.cells:>5} x {escape(row.reason)}", highlight=False, soft_wrap=True)
        if len(group) > limit:
            err.print(f"  ... {len(group) - limit} more reasons: imbench cells {sweep_dir.name}")


def print_sweeps(sweeps: list[dict[str, Any]], out: Path) -> None:
    columns = (
        "name",
        "date",
        "cells",
        "ok",
        "skipped",
        "failed",
        "top mean rank (pr_auc)",
        "in",
        "pr_auc",
        "N",
    )
    rows = [
        [
            row["name"],
            row["date"],
            *(str(row[k]) for k in ("cells", "ok", "skipped", "failed")),
            row["best_strategy"],
            row["slice"],
            "" if math.isnan(row["best_pr_auc"]) else f"{row['best_pr_auc']:.3f}",
            str(row["n_datasets"] or ""),
        ]
        for row in sweeps
    ]
    left = ("name", "date", "skipped", "failed", "top mean rank (pr_auc)", "in")
    console.print(table(f"sweeps under {out}", columns, rows, left=left))
    console.print(
        "top mean rank: the lowest PR-AUC mean rank within one classifier x ratio, a ranking "
        "and not a verdict; `imbench findings NAME` says which differences are detectable"
    )


def print_cells(name: str, cells: Any) -> None:
    cols = ["dataset", "imbalance_ratio", "strategy", "classifier", "seed", "status", "reason"]
    view = Table(title=f"{name}: {len(cells)} cells")
    for c in cols:
        view.add_column(c, overflow="fold")
    for row in cells[cols].itertuples(index=False):
        view.add_row(*(str(v) for v in row))
    console.print(view)


def print_datasets(rows: Any, title: str, *, excluded: bool) -> None:
    cols = ["name", "family", "rows", "features", "minority", "ir"]
    cols += ["excluded"] if excluded else []
    body = [
        [f"{getattr(row, c):g}" if c == "ir" else str(getattr(row, c)) for c in cols]
        for row in rows.itertuples()
    ]
    console.print(table(f"{title} ({len(rows)})", cols, body, left=("name", "family", "excluded")))


def print_registry(sections: dict[str, list[tuple[str, str]]]) -> None:
    for title, rows in sections.items():
        out = Table(title=title)
        out.add_column("name", no_wrap=True)
        out.add_column("what it is")
        for name, text in rows:
            out.add_row(name, text)
        console.print(out)


def print_verdict(found: list[Any], *, limit: int = 3) -> None:
    """The answer first: per block, who beats the baseline on each question."""
    from imbench.verdict import blocks

    if not found:
        console.print("verdict: no block holds the baseline strategy, nothing to compare")
        return
    alpha = found[0].alpha
    console.print(
        f"[bold]verdict[/] vs {found[0].baseline} (a strategy wins or loses only with a "
        f"Holm-corrected p < {alpha} over its block's strategies):",
        highlight=False,
    )
    for (clf, ratio), group in blocks(found).items():
        where = "native imbalance" if ratio == "native" else f"ratio {ratio}"
        console.print(f"  [bold]{clf}, {where}[/]: {group[0].evidence()}", highlight=False)
        for finding in group:
            console.print(f"    {escape(finding.sentence(limit=limit))}", highlight=False)


def print_answer(sweep_dir: Path, *, top: int = 15) -> None:
    """A finished sweep's verdict, then its leaderboard ranked by its own metric."""
    from imbench.verdict import rank_metric, sweep_findings

    folder = SweepFolder(sweep_dir)
    folds = folder.read_folds()
    print_verdict(sweep_findings(folder, folds=folds))
    print_board(sweep_dir, metric=rank_metric(folder), top=top, folds=folds)
