"""Browse results: ``leaderboard``, ``runs``, ``cells``, ``datasets``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imbench.cli.app import OutOpt, SweepArg, app, console, fail
from imbench.cli.render import (
    print_board,
    print_cells,
    print_datasets,
    print_reasons,
    print_sweeps,
    print_verdict,
)
from imbench.config import parse_ratio
from imbench.errors import ConfigError
from imbench.results import SweepFolder

if TYPE_CHECKING:
    import pandas as pd


@app.command()
def leaderboard(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="rank by (default: pr_auc, or the sweep's objective's)"),
    ] = None,
    classifier: Annotated[str | None, typer.Option("--classifier", "-c")] = None,
    ratio: Annotated[str | None, typer.Option("--ratio", "-r")] = None,
    per_dataset: Annotated[
        bool, typer.Option("--per-dataset", help="one row per dataset x strategy")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | markdown | json")] = "table",
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="ir | rows | minority | features | family: the answer per regime (bands "
            "from the data, each with its N), then the leaderboard",
        ),
    ] = None,
) -> None:
    """Show a sweep's verdict and strategy leaderboard (the latest sweep by default)."""
    from imbench.history import find_sweep
    from imbench.plan import ratio_label
    from imbench.verdict import rank_metric, sweep_findings

    sweep_dir = find_sweep(sweep, out)
    folder = SweepFolder(sweep_dir)
    if not folder.folds.exists():
        raise ConfigError(f"no results for sweep {sweep_dir.name!r} under {out}")
    label = ratio_label(parse_ratio(ratio)) if ratio else None
    folds = folder.read_folds()
    if by is not None:
        _by_regime(sweep_dir, folder, folds, by, metric or rank_metric(folder), classifier,
                   label, fmt)  # fmt: skip
        return
    if fmt == "table":
        found = sweep_findings(folder, folds=folds)
        wanted = [
            f for f in found if classifier in (None, f.classifier) and label in (None, f.ratio)
        ]
        console.print(f"sweep {sweep_dir.name} ({sweep_dir})", highlight=False)
        print_verdict(wanted)
    print_board(
        sweep_dir,
        metric=metric or rank_metric(folder),
        classifier=classifier,
        ratio=label,
        per_dataset=per_dataset,
        fmt=fmt,
        folds=folds,
    )


def _by_regime(
    sweep_dir: Path,
    folder: SweepFolder,
    folds: pd.DataFrame,
    by: str,
    metric: str,
    classifier: str | None,
    ratio: str | None,
    fmt: str,
) -> None:
    """leaderboard --by: the regime answer (ratings per band), then per band its board."""
    from imbench.regimes import REGIMES, by_regime, regime_folds

    if by not in REGIMES:
        raise ConfigError(f"--by {by!r}: choose one of {', '.join(REGIMES)}")
    if classifier:
        folds = folds[folds["classifier"] == classifier]
    if ratio:
        folds = folds[folds["imbalance_ratio"] == ratio]
    if folds.empty:
        raise ConfigError(f"sweep {sweep_dir.name!r}: no scored cells for that selection")
    cells = folder.read_cells()
    if fmt != "table":
        import pandas as pd

        from imbench.cli.render import write_frame
        from imbench.leaderboard import build_leaderboard

        keyed = regime_folds(folds, cells, by)
        boards = [build_leaderboard(g.drop(columns="regime"), metric=metric).assign(regime=str(k))
                  for k, g in keyed.groupby("regime", observed=True)]  # fmt: skip
        write_frame(pd.concat(boards, ignore_index=True), fmt)
        return
    from imbench.cli.render_ratings import print_regimes

    console.print(f"sweep {sweep_dir.name} ({sweep_dir})", highlight=False)
    print_regimes(by_regime(folds, cells, by=by, metric=metric), by=by, metric=metric,
                  anchor="none")  # fmt: skip
    console.print(
        f"each band's leaderboard: `imbench leaderboard {sweep_dir.name} --by {by} "
        "--format csv` (a regime column); its ratings, win rates and stability: "
        f"`imbench compare {sweep_dir.name} --ratings --by {by}`",
        highlight=False,
    )


@app.command()
def runs(out: OutOpt = Path("results")) -> None:
    """List the sweeps under the results root."""
    from imbench.history import list_sweeps

    sweeps = list_sweeps(out)
    if not sweeps:
        fail(f"no sweeps under {out}")
    print_sweeps(sweeps, out)


@app.command()
def cells(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    status: Annotated[str | None, typer.Option("--status", help="ok | skipped | failed")] = None,
) -> None:
    """Every cell of a sweep with its status and reason; skip/failure reasons counted."""
    from imbench.history import find_sweep

    sweep_dir = find_sweep(sweep, out)
    folder = SweepFolder(sweep_dir)
    if not folder.has_results():
        raise ConfigError(f"no sweep {sweep_dir.name!r} under {out}")
    table = folder.read_cells()
    if status:
        if status not in ("ok", "skipped", "failed"):
            raise ConfigError(f"--status: {status!r} is not ok, skipped or failed")
        table = table[table["status"] == status]
    print_cells(sweep_dir.name, table)
    print_reasons(sweep_dir, limit=50)


@app.command()
def datasets(
    select: Annotated[
        str | None,
        typer.Argument(help="e.g. 'keel:subset=study' or 'keel:min_ir=9,max_rows=2000'"),
    ] = None,
    excluded: Annotated[
        bool, typer.Option("--excluded", help="list the excluded sets and why")
    ] = False,
) -> None:
    """List the KEEL datasets (rows, features, minority, IR), or those a selection names."""
    from imbench.catalogue import SUBSETS, catalogue, parse_selection
    from imbench.catalogue import select as select_rows

    if excluded:
        rows = catalogue()[catalogue()["excluded"] != ""]
    else:
        rows = select_rows(parse_selection(select or "keel:"))
    title = "excluded KEEL datasets" if excluded else f"KEEL datasets: {select or 'all usable'}"
    print_datasets(rows, title, excluded=excluded)
    if not excluded:
        subsets = "; ".join(f"{k}: {v}" for k, v in SUBSETS.items())
        console.print(
            f"select in a config or with -d: 'keel:subset=NAME' ({subsets}), filters "
            "min_ir, max_ir, min_rows, max_rows, max_features, min_minority, per_family"
        )
