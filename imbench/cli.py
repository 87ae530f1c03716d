"""The ``imbench`` command line: run, leaderboard, compare, report, audit, ui, ..."""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imbench.config import (
    default_config_dict,
    load_config_dict,
    parse_config,
    parse_ratio,
    split_datasets,
    split_list,
)
from imbench.errors import ConfigError, ImbenchError, prefect_settings_problem
from imbench.results import (
    LEADERBOARD,
    SweepFolder,
    advice_summary,
    audit_table,
    mlartifacts,
    slug,
    sweep_folders,
)

console = Console(width=None if sys.stdout.isatty() else 120)  # pipes get full tables
err = Console(stderr=True)

ListOpt = Optional[list[str]]


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


class _App(typer.Typer):
    """Every command shares one error path: an ImbenchError (a bad config, flag, file
    or dataset; anything the user can fix) is one red line and exit code 2."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def guarded(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except ImbenchError as exc:
                    _fail(str(exc))
                except Exception as exc:
                    problem = prefect_settings_problem(exc)
                    if problem is None:
                        raise
                    _fail(problem)

            register(guarded)
            return fn

        return decorator


app = _App(
    add_completion=False, no_args_is_help=False, help=__doc__, pretty_exceptions_enable=False
)


def _may_be_finished(raw: dict[str, Any], overrides: dict[str, Any]) -> bool:
    """Whether the sweep's folder says it may have nothing left to do (its MLflow
    marker exists), read from the unvalidated config: cheap, and wrong only in
    costing a server start or a wait."""
    from imbench.config import SweepConfig

    fields = SweepConfig.model_fields
    try:
        out = overrides.get("out") or raw.get("out") or fields["out"].default
        name = overrides.get("name") or raw.get("name") or fields["name"].default
        return SweepFolder.of(out, str(name)).tracked.exists()
    except (TypeError, ValueError, OSError):
        return True


def _seeds(values: list[str] | None) -> list[int] | None:
    items = split_list(values)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError:
        raise ConfigError(f"seeds: {items!r} must be whole numbers") from None


def _config_keys() -> str:
    from imbench.config import ProtocolConfig, SweepConfig

    top = ", ".join(k for k in SweepConfig.model_fields if k != "protocol")
    return f"Config keys: {top}; [protocol] {', '.join(ProtocolConfig.model_fields)}."


@app.command(
    epilog="Strategies, classifiers, metrics and threshold objectives: `imbench list`. "
    + _config_keys()
)
def run(
    config: Annotated[Path | None, typer.Argument(help="TOML config (default: embedded)")] = None,
    dataset: Annotated[ListOpt, typer.Option("-d", "--dataset", help="dataset(s)")] = None,
    strategy: Annotated[ListOpt, typer.Option("-s", "--strategy", help="strategy(ies)")] = None,
    classifier: Annotated[ListOpt, typer.Option("-c", "--classifier", help="classifier(s)")] = None,
    ratio: Annotated[ListOpt, typer.Option("-r", "--ratio", help="'native' or IR")] = None,
    seed: Annotated[ListOpt, typer.Option("--seed", help="seed(s)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="results root")] = None,
    name: Annotated[str | None, typer.Option("--name", help="sweep name")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="worker processes")] = None,
    tracking_uri: Annotated[str | None, typer.Option("--tracking-uri")] = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="existing Dask scheduler tcp://HOST:PORT"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run a sweep (the embedded default grid unless CONFIG or flags say otherwise)."""
    ratios = split_list(ratio)
    overrides = {
        "datasets": split_datasets(dataset),
        "strategies": split_list(strategy),
        "classifiers": split_list(classifier),
        "ratios": [parse_ratio(r) for r in ratios] if ratios else None,
        "seeds": _seeds(seed),
        "out": out,
        "name": name,
        "workers": workers,
        "tracking_uri": tracking_uri,
        "dask_address": dask_address,
    }
    raw = load_config_dict(config)
    from imbench.flows.runtime import PrefectApi

    # A sweep with work to do needs the Prefect server: it boots (~5 s) while the
    # config is validated and scikit-learn, Prefect and MLflow are imported. A bad
    # config or dataset stops it again before any compute; a sweep that may be
    # finished starts none.
    api = None if _may_be_finished(raw, overrides) else PrefectApi().start()
    try:
        from imbench.resolve import build_config

        cfg = build_config(raw, overrides)
        from imbench.datasets import check_datasets

        # before anything is computed or written
        check_datasets(cfg.datasets, min_minority=cfg.protocol.min_minority)
        from imbench.plan import fit_budget

        if not quiet:
            err.print(f"plan: {fit_budget(cfg).describe()}", highlight=False, soft_wrap=True)
    except BaseException:
        if api is not None:
            api.discard()
        raise
    _sigterm_as_interrupt()
    resume = f"run the same command again to resume (sweep {cfg.name!r} under {cfg.out})"
    try:
        import time

        from imbench.sweep import finished_summary

        started = time.perf_counter()
        summary = finished_summary(cfg)  # nothing to do: no server, no pool, no MLflow
        if summary is not None:
            if api is not None:
                api.stop()
            summary["seconds"] = round(time.perf_counter() - started, 2)
        else:
            api = api or PrefectApi().start()
            try:
                from imbench.flows.sweep import run_sweep  # imports Prefect
            except BaseException:
                api.discard()  # e.g. Prefect refused its settings: nothing is left behind
                raise

            summary = run_sweep(cfg, show_progress=not quiet, api=api)
    except KeyboardInterrupt:
        err.print(
            f"interrupted; finished cells are kept: {escape(resume)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    if summary.get("error"):
        _fail(summary["error"])
    if summary.get("interrupted"):
        err.print(
            f"interrupted: {summary['kept']} of {summary['cells']} cells finished and kept; "
            f"{escape(resume)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130)
    console.print(
        f"[bold]{cfg.name}[/]: {summary['ok']} ok, {summary['skipped']} skipped, "
        f"{summary['failed']} failed ({summary['computed']} computed, {summary['reused']} reused) "
        f"in {summary['seconds']:.1f} s"
    )
    console.print(f"results: {summary['results']}   tracking: {summary['tracking_uri']}")
    if summary.get("tracking_behind"):
        err.print(
            f"[yellow]MLflow tracking is behind ({escape(summary.get('tracking_error', ''))}); run "
            f"`imbench sync {cfg.name}` or this command again to back-fill it.[/]"
        )
    _print_reasons(Path(summary["results"]))
    if summary["ok"]:
        _print_board(Path(summary["results"]), metric="pr_auc", top=15)


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a scheduler, `kill`) stops a sweep as Ctrl-C does: cleanly. (During
    the flow Prefect's own SIGTERM handler raises TerminationSignal; the flow treats
    it the same.) Ctrl-C works even where the shell started imbench with SIGINT
    ignored (a background job of a script)."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # workers stopped mid-task leave semaphores to multiprocessing's resource tracker,
    # which warns about them on the console; it takes its -W flags from ours
    sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")


def _print_reasons(sweep_dir: Path, limit: int = 10) -> None:
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


def _latest_sweep(out: Path) -> Path:
    boards = sorted(out.glob(f"*/{LEADERBOARD}"), key=lambda p: p.stat().st_mtime)
    if not boards:
        raise ConfigError(f"no finished sweep under {out}; run `imbench run` first")
    return boards[-1].parent


FORMATS = ("table", "csv", "markdown", "json")


def _print_board(
    sweep_dir: Path,
    *,
    metric: str,
    top: int | None = None,
    classifier: str | None = None,
    ratio: str | None = None,
    per_dataset: bool = False,
    fmt: str = "table",
) -> None:

    from imbench.leaderboard import board_view, cell_text

    if fmt not in FORMATS:
        raise ConfigError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    folds = SweepFolder(sweep_dir).read_folds()
    if folds.empty:
        raise ConfigError(
            f"sweep {sweep_dir.name!r} has no scored cells; `imbench cells {sweep_dir.name}` "
            "says why"
        )
    view = board_view(
        folds, metric=metric, classifier=classifier, ratio=ratio, per_dataset_rows=per_dataset
    )
    if fmt != "table":
        _write_frame(view, fmt)
        return
    group_by = ["classifier", "imbalance_ratio"]
    for (clf, ir), group in view.groupby(group_by, sort=False):
        what = "per dataset" if per_dataset else "means over datasets"
        table = Table(
            title=f"{sweep_dir.name}: classifier={clf} ratio={ir} ({what}, rank by {metric})"
        )
        # the descriptive columns (in csv/markdown/json always) need a wide terminal:
        # names are never cut short for them
        narrow = per_dataset or console.width < 150
        hidden = {*group_by, *(_DESCRIPTIVE if narrow else ())}
        shown = [c for c in group.columns if c not in hidden]
        for c in shown:
            name = _SHORT.get(c.removeprefix(f"{metric}_") if c.startswith(metric) else c, c)
            table.add_column(name, justify="left" if c in ("strategy", "dataset") else "right")
        for row in group.head(top).itertuples(index=False):
            table.add_row(
                *(cell_text(c, v) for c, v in zip(group.columns, row, strict=True) if c in shown)
            )
        console.print(table)
    if not per_dataset and (view["n_datasets"] == 1).any():
        console.print("sd is shown only where there are at least 2 datasets (`--per-dataset`).")


# terminal headers (csv/markdown/json keep the full column names)
_SHORT = {"lo": "95% lo", "hi": "95% hi", "cal_slope": "cal slope", "threshold_fold_sd": "thr sd"}
_DESCRIPTIVE = ("cal_slope", "threshold_fold_sd")


def _write_frame(frame: Any, fmt: str) -> None:
    """csv / markdown / json on stdout, for pipes and documents."""
    from imbench.leaderboard import to_markdown

    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=1) + "\n")
    else:
        sys.stdout.write(to_markdown(frame))


@app.command()
def leaderboard(
    sweep: Annotated[str | None, typer.Argument(help="sweep name (default: latest)")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    metric: Annotated[str, typer.Option("--metric")] = "pr_auc",
    classifier: Annotated[str | None, typer.Option("--classifier", "-c")] = None,
    ratio: Annotated[str | None, typer.Option("--ratio", "-r")] = None,
    per_dataset: Annotated[
        bool, typer.Option("--per-dataset", help="one row per dataset x strategy")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | markdown | json")] = "table",
) -> None:
    """Show the strategy leaderboard of a sweep (the latest by default)."""
    from imbench.plan import ratio_label

    sweep_dir = _sweep_dir(sweep, out)
    if not SweepFolder(sweep_dir).folds.exists():
        raise ConfigError(f"no results for sweep {sweep_dir.name!r} under {out}")
    _print_board(
        sweep_dir,
        metric=metric,
        classifier=classifier,
        ratio=ratio_label(parse_ratio(ratio)) if ratio else None,
        per_dataset=per_dataset,
        fmt=fmt,
    )


@app.command()
def serve(
    name: Annotated[str, typer.Option("--name", help="deployment name")] = "imbench",
) -> None:
    """Serve the sweep as a Prefect deployment (needs PREFECT_API_URL: a Prefect server).

    Trigger it from the Prefect UI or with
    `prefect deployment run imbench-sweep-from-parameters/imbench -p datasets='["ecoli1"]'`.
    """
    from imbench.flows.runtime import apply_defaults

    apply_defaults()
    if not os.environ.get("PREFECT_API_URL"):
        _fail("set PREFECT_API_URL to a running Prefect server (prefect server start) first")
    from imbench.flows.sweep import sweep_from_parameters

    console.print(f"serving deployment imbench-sweep-from-parameters/{name} (Ctrl-C to stop)")
    sweep_from_parameters.serve(name=name, print_starting_message=False)


@app.command()
def runs(out: Annotated[Path, typer.Option("--out")] = Path("results")) -> None:
    """List the sweeps under the results root."""
    from imbench.history import list_sweeps

    sweeps = list_sweeps(out)
    if not sweeps:
        _fail(f"no sweeps under {out}")
    table = Table(title=f"sweeps under {out}")
    columns = ("name", "date", "cells", "ok", "skipped", "failed", "best by pr_auc rank", "in")
    for col in (*columns, "pr_auc", "N"):
        table.add_column(col, justify="right" if col in ("cells", "ok", "pr_auc", "N") else "left")
    for row in sweeps:
        table.add_row(
            row["name"],
            row["date"],
            *(str(row[k]) for k in ("cells", "ok", "skipped", "failed")),
            row["best_strategy"],
            row["slice"],
            "" if math.isnan(row["best_pr_auc"]) else f"{row['best_pr_auc']:.3f}",
            str(row["n_datasets"] or ""),
        )
    console.print(table)
    console.print("best: lowest mean rank within one classifier x ratio (`imbench leaderboard`)")


def _sweep_config(sweep_dir: Path, out: Path, tracking_uri: str | None) -> Any:
    """The finished sweep's own config, pointed at this results root."""
    folder = SweepFolder(sweep_dir)
    if not folder.config.exists():
        raise ConfigError(f"no sweep {sweep_dir.name!r} under {out}")
    raw = folder.read_config()
    raw.update(out=str(out), tracking_uri=tracking_uri or raw.get("tracking_uri"))
    return parse_config(raw)


def _sweep_dir(sweep: str | None, out: Path) -> Path:
    """The named sweep's folder under ``out`` (the latest without a name); a name with no
    results there fails naming the close matches among the sweeps that are there."""
    if not sweep:
        return _latest_sweep(out)
    if not SweepFolder.of(out, sweep).has_results():
        import difflib

        names = [f.name for f in sweep_folders(out)]
        close = difflib.get_close_matches(sweep, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"no finished sweep {sweep!r} under {out}{hint}")
    return out / sweep


@app.command()
def sync(
    sweep: Annotated[Optional[str], typer.Argument(help="sweep name (default: latest)")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
) -> None:
    """Back-fill MLflow from a sweep's Parquet results (after a tracking outage)."""
    sweep_dir = _sweep_dir(sweep, out)
    cfg = _sweep_config(sweep_dir, out, tracking_uri)
    from imbench.flows.tracking import sync_tracking

    folder = SweepFolder(sweep_dir)
    cells, folds = folder.read_cells(), folder.read_folds()
    tracker = sync_tracking(cfg, cells, folds)
    if tracker.behind:
        _fail(f"MLflow at {tracker.uri} is still unreachable: {tracker.error}")
    console.print(f"{sweep_dir.name}: MLflow at {tracker.uri} holds all {len(cells)} cells")


def _attach(cfg: Any, metrics: dict[str, float], paths: list[Path], where: str) -> None:
    from imbench.flows.tracking import attach_to_sweep

    tracker = attach_to_sweep(cfg, metrics, paths, where)
    if tracker.behind and "no MLflow run for sweep" in tracker.error:
        return  # results made elsewhere (committed, copied): nothing to attach to
    if tracker.behind:
        err.print(f"[yellow]not logged to MLflow at {tracker.uri}: {escape(tracker.error)}[/]")
    else:
        console.print(f"logged to the sweep's MLflow run at {tracker.uri} ({where}/)")


@app.command()
def compare(
    sweep: Annotated[Optional[str], typer.Argument(help="sweep name (default: latest)")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    metric: Annotated[str, typer.Option("--metric")] = "pr_auc",
    classifier: Annotated[Optional[str], typer.Option("--classifier", "-c")] = None,
    ratio: Annotated[Optional[str], typer.Option("--ratio", "-r")] = None,
    baseline: Annotated[
        Optional[str], typer.Option("--baseline", help="Bayesian signed-rank test against it")
    ] = None,
    rope: Annotated[
        float, typer.Option("--rope", help="region of practical equivalence", min=0.0)
    ] = 0.01,
    pairs: Annotated[
        Optional[str],
        typer.Option(
            "--pairs",
            help="planned comparisons A:B,... (A vs B), Holm over these pairs only; "
            "--metric may then list several metrics (mcc,f1); writes nothing",
        ),
    ] = None,
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
) -> None:
    """Friedman, Nemenyi, Wilcoxon-Holm (and Bayesian) tests over datasets; CD diagrams.
    With --pairs: only the comparisons asked in advance."""
    from imbench.plan import ratio_label
    from imbench.report import analyse, output_dir

    if pairs is not None:
        _compare_pairs(_sweep_dir(sweep, out), metric, pairs, classifier, ratio)
        return
    sweep_dir = _sweep_dir(sweep, out)
    cfg = _sweep_config(sweep_dir, out, tracking_uri)
    into = output_dir(sweep_dir)
    result = analyse(
        sweep_dir,
        into=into,
        metric=metric,
        baseline=baseline,
        rope=rope,
        classifier=classifier,
        ratio=ratio_label(parse_ratio(ratio)) if ratio else None,
    )
    _print_stats(result.stats, metric)
    console.print(f"stats: {SweepFolder(into).stats}")
    for path in result.figures:
        console.print(f"figure: {path}")
    _attach(cfg, result.summary, [SweepFolder(into).stats, *result.figures], "stats")


def _compare_pairs(
    sweep_dir: Path, metrics: str, pairs: str, classifier: str | None, ratio: str | None
) -> None:
    from imbench.plan import ratio_label
    from imbench.report import read_folds
    from imbench.stats import parse_pairs, planned

    wanted = parse_pairs(pairs)
    if not SweepFolder(sweep_dir).folds.exists():
        raise ConfigError(f"no finished sweep {sweep_dir.name!r} under {sweep_dir.parent}")
    folds = read_folds(sweep_dir)
    label = ratio_label(parse_ratio(ratio)) if ratio else None
    tables = [
        planned(folds, metric=m.strip(), pairs=wanted, classifier=classifier, ratio=label)
        for m in metrics.split(",")
    ]
    console.print(
        f"{sweep_dir.name}: planned comparisons A vs B on the datasets where both ran "
        f"(N each); w/t/l = datasets where A is better / tied / worse; Wilcoxon signed-rank, "
        f"Holm over the {len(wanted)} planned pairs of each metric x classifier x ratio"
    )
    for table in tables:
        for (m, clf, ir), block in table.groupby(
            ["metric", "classifier", "imbalance_ratio"], sort=False
        ):
            t = Table(title=f"{m}, classifier={clf}, ratio={ir}")
            for col in ("A", "B", "N", "A mean", "B mean", "A - B", "w/t/l", "p", "p (Holm)"):
                t.add_column(col, justify="left" if col in ("A", "B") else "right")
            for r in block.itertuples():
                t.add_row(
                    r.strategy, r.other, str(r.n_datasets), f"{r.mean:.4f}",
                    f"{r.mean_other:.4f}", f"{r.difference:+.4f}",
                    f"{r.wins}/{r.ties}/{r.losses}", f"{r.p_value:.3g}", f"{r.p_holm:.3g}",
                )  # fmt: skip
            console.print(t)


def _print_stats(stats: Any, metric: str) -> None:
    for (clf, ir), block in stats.groupby(["classifier", "imbalance_ratio"], sort=True):
        ranks = block[block["test"] == "rank"]
        n = int(ranks["n_datasets"].iloc[0])
        cd = ranks["critical_difference"].iloc[0]
        friedman = block[block["test"] == "friedman"]
        head = f"{metric}, classifier={clf}, ratio={ir}: N={n} datasets, CD={cd:.2f}"
        if not friedman.empty:
            head += f", Friedman p={friedman['p_value'].iloc[0]:.3g}"
        table = Table(title=head)
        for col in ("mean rank", "strategy", "mean", "differs from (Wilcoxon-Holm p<0.05)"):
            table.add_column(col)
        pairs = block[(block["test"] == "wilcoxon_holm") & (block["p_value"] < 0.05)]
        bayes = block[block["test"] == "bayes_signed_rank"].set_index("strategy")
        if not bayes.empty:
            table.add_column(f"vs {bayes['other'].iloc[0]}: P(better/rope/worse)")
        for row in ranks.itertuples():
            others = pairs[(pairs["strategy"] == row.strategy) | (pairs["other"] == row.strategy)]
            names = sorted({*others["strategy"], *others["other"]} - {row.strategy})
            cells = [f"{row.mean_rank:.2f}", row.strategy, f"{row.mean:.3f}", ", ".join(names)]
            if not bayes.empty:
                b = bayes.loc[row.strategy] if row.strategy in bayes.index else None
                cells.append(
                    "baseline"
                    if b is None
                    else f"{b.p_better:.2f} / {b.p_equivalent:.2f} / {b.p_worse:.2f}"
                )
            table.add_row(*cells)
        console.print(table)


@app.command()
def report(
    sweep: Annotated[Optional[str], typer.Argument(help="sweep name (default: latest)")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    metric: Annotated[str, typer.Option("--metric")] = "pr_auc",
    baseline: Annotated[Optional[str], typer.Option("--baseline")] = None,
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
    against: Annotated[
        Optional[str],
        typer.Option("--against", help="another sweep (name or folder): adds `imbench diff`"),
    ] = None,
) -> None:
    """Write a self-contained report.html (tables, CD diagrams, curves, reliability plots)."""
    from imbench.report import output_dir, write_report

    sweep_dir = _sweep_dir(sweep, out)
    cfg = _sweep_config(sweep_dir, out, tracking_uri)
    other = _sweep_ref(against, out).path if against else None
    into = output_dir(sweep_dir)
    page, figures, summary = write_report(
        sweep_dir, metric=metric, baseline=baseline, into=into, against=other
    )
    console.print(f"report: {page} ({len(figures)} figures)")
    tables = [p for p in (SweepFolder(into).decision_curves,) if p.exists()]
    _attach(cfg, summary, [page, *figures, *tables], "report")


@app.command()
def audit(
    dataset: Annotated[str, typer.Option("-d", "--dataset", help="dataset to audit")],
    strategy: Annotated[str, typer.Option("-s", "--strategy")] = "smote",
    classifier: Annotated[str, typer.Option("-c", "--classifier")] = "lr",
    ratio: Annotated[str, typer.Option("-r", "--ratio", help="'native' or IR")] = "native",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
) -> None:
    """Run the honest protocol next to the classic leakage mistakes and show their optimism."""
    from imbench.audit import AUDIT_METRICS, audit_cell
    from imbench.resolve import build_config
    from imbench.store import atomic_write_parquet

    cfg = build_config(
        default_config_dict(),
        {"datasets": [dataset], "strategies": [strategy], "classifiers": [classifier],
         "ratios": [parse_ratio(ratio)]},
    )  # fmt: skip
    result = audit_cell(cfg, seed=seed)
    frame = result.frame
    title = (
        f"audit: {result.dataset} ({result.n_rows} rows, {result.n_minority} minority, "
        f"ratio={result.ratio}), "
        f"{cfg.strategies[0]}, {cfg.classifiers[0]}: mean over outer folds (optimism vs honest)"
    )
    table = Table(title=title)
    table.add_column("protocol")
    for m in AUDIT_METRICS:
        table.add_column(m, justify="right")
    table.add_column("note")
    for row in frame.to_dict("records"):
        cells = [
            "n/a" if math.isnan(row[m]) else f"{row[m]:.3f} ({row[m + '_optimism']:+.3f})"
            for m in AUDIT_METRICS
        ]
        table.add_row(row["protocol"], *cells, row["note"])
    console.print(table)
    target = audit_table(out, result.slug)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(frame, target)
    console.print(f"saved: {target}")


@app.command()
def datasets(
    select: Annotated[
        Optional[str],
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
    table = Table(title=f"{title} ({len(rows)})")
    cols = ["name", "family", "rows", "features", "minority", "ir"]
    cols += ["excluded"] if excluded else []
    for col in cols:
        table.add_column(col, justify="left" if col in ("name", "family", "excluded") else "right")
    for row in rows.itertuples():
        table.add_row(
            *(f"{getattr(row, c):g}" if c == "ir" else str(getattr(row, c)) for c in cols)
        )
    console.print(table)
    if not excluded:
        subsets = "; ".join(f"{k}: {v}" for k, v in SUBSETS.items())
        console.print(
            f"select in a config or with -d: 'keel:subset=NAME' ({subsets}), filters "
            "min_ir, max_ir, min_rows, max_rows, max_features, min_minority, per_family"
        )


@app.command()
def advise(
    data: Annotated[
        str, typer.Argument(help="dataset: KEEL name, path.csv[:label], synthetic:...")
    ],
    metric: Annotated[
        str, typer.Option("--metric", help="pr_auc | mcc | fbeta | cost | capacity")
    ] = "mcc",
    classifier: Annotated[str, typer.Option("-c", "--classifier")] = "lr",
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="outer CV repeats")] = 3,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, max=0.5)] = 0.05,
    beta: Annotated[float, typer.Option("--beta", help="fbeta's beta")] = 1.0,
    fp_cost: Annotated[float, typer.Option("--fp-cost")] = 1.0,
    fn_cost: Annotated[float, typer.Option("--fn-cost")] = 10.0,
    capacity: Annotated[float, typer.Option("--capacity", help="share flagged")] = 0.05,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
) -> None:
    """Run the imbalance playbook on DATA: diagnose, then class weights, threshold,
    resampling and calibration, each kept only if it pays (paired test over outer folds)."""
    from imbench.advise import ADVISE_METRICS
    from imbench.advise import advise as run_advice
    from imbench.classifiers import get_classifier
    from imbench.datasets import load_dataset
    from imbench.protocol import ProtocolSettings
    from imbench.seeding import derive_seed

    if metric not in ADVISE_METRICS:
        raise ConfigError(f"metric: {metric!r} is not one of {', '.join(ADVISE_METRICS)}")
    protocol = {
        "outer_repeats": repeats,
        "beta": beta,
        "fp_cost": fp_cost,
        "fn_cost": fn_cost,
        "capacity": capacity,
    }
    from imbench.resolve import build_config

    cfg = build_config(
        default_config_dict(),
        {"datasets": [data], "classifiers": [classifier], "protocol": protocol},
    )
    ds = load_dataset(cfg.datasets[0])
    result = run_advice(
        ds.X,
        ds.y,
        get_classifier(cfg.classifiers[0]),
        metric=metric,  # type: ignore[arg-type]
        settings=ProtocolSettings.of(cfg),
        split_seed=derive_seed("split", cfg.datasets[0], "native", seed),
        model_seed=derive_seed("model", cfg.datasets[0], "advise", seed),
        categorical=ds.categorical,
        alpha=alpha,
    )
    _print_advice(result, ds.name)
    _save_advice(result, ds.name, cfg, out, tracking_uri)


def _print_advice(result: Any, name: str) -> None:
    d = result.diagnosis
    console.print(
        f"[bold]{name}[/]: {d.rows} rows, {d.minority} minority ({d.prevalence:.2%}, "
        f"IR {d.imbalance_ratio:.1f}); SMOTE {'feasible' if d.smote_ok else 'NOT feasible'}; "
        f"{d.anomaly_note}; baseline ROC-AUC {d.roc_auc:.3f} vs PR-AUC {d.pr_auc:.3f} "
        f"(chance {d.prevalence:.3f})"
    )
    from imbench.advise import (
        CANDIDATE_COLUMNS,
        STEP_COLUMNS,
        candidate_rows,
        estimate_line,
        step_rows,
    )

    console.print(f"rule: {result.rule}")
    table = Table(title=f"playbook path on {result.metric}")
    for col in STEP_COLUMNS:
        table.add_column(col)
    for row in step_rows(result):
        table.add_row(*row)
    console.print(table)
    table = Table(title=f"every candidate: {result.metric} over all outer folds, Brier, ECE")
    for col in CANDIDATE_COLUMNS:
        table.add_column(col)
    for row in candidate_rows(result):
        table.add_row(*row)
    console.print(table)
    q25, q50, q75 = result.threshold
    usable = "usable as probabilities" if result.calibrated_enough else "not calibrated"
    console.print(
        f"[bold green]recommendation: {result.recommendation}[/] at threshold {q50:.3f} "
        f"(folds {q25:.3f}-{q75:.3f}); ECE {result.ece:.3f}, Brier {result.brier:.3f}: {usable}"
    )
    console.print(f"for probabilities: {result.probabilities} (the calibration step, on Brier)")
    console.print(estimate_line(result))


def _save_advice(result: Any, name: str, cfg: Any, out: Path, tracking_uri: str | None) -> None:
    from imbench.advise import to_markdown
    from imbench.store import atomic_write_bytes
    from imbench.tracking import log_advice, resolve_tracking_uri

    target = advice_summary(out, slug(name, result.metric, cfg.classifiers[0]))
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, to_markdown(result, name).encode())
    console.print(f"summary: {target}")
    uri = resolve_tracking_uri(tracking_uri, out)
    try:
        log_advice(uri, mlartifacts(out), result, name, cfg.classifiers[0], [target])
        console.print(f"MLflow: experiment imbench-advise at {uri}")
    except Exception as exc:  # noqa: BLE001 - the advice stands without tracking
        err.print(f"[yellow]not logged to MLflow at {uri}: {escape(str(exc))}[/]")


@app.command()
def diff(
    sweep_a: Annotated[str, typer.Argument(help="sweep name under --out, or a sweep folder")],
    sweep_b: Annotated[str, typer.Argument(help="the sweep to compare with A (changes: B - A)")],
    out: Annotated[Path, typer.Option("--out", help="results root of sweep names")] = Path(
        "results"
    ),
    metric: Annotated[str, typer.Option("--metric")] = "pr_auc",
    classifier: Annotated[Optional[str], typer.Option("--classifier", "-c")] = None,
    ratio: Annotated[Optional[str], typer.Option("--ratio", "-r")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | markdown | json")] = "table",
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
) -> None:
    """Compare two sweeps: cells only in one, each strategy's change with a paired test
    and its rank change, cells moved beyond fold noise, and what differs in packages,
    config and data. Logged to MLflow (experiment imbench-diff) linking both sweeps."""
    from imbench.diff import diff_sweeps
    from imbench.plan import ratio_label

    if fmt not in FORMATS:
        raise ConfigError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    a, b = _sweep_ref(sweep_a, out), _sweep_ref(sweep_b, out)
    label = ratio_label(parse_ratio(ratio)) if ratio else None
    result = diff_sweeps(a, b, metric=metric, classifier=classifier, ratio=label)
    _print_diff(result, fmt)
    _log_diff(result, a, b, tracking_uri)


def _sweep_ref(text: str, out: Path) -> SweepFolder:
    """A sweep folder given by path (any results root) or by name under ``out``."""
    path = Path(text)
    if path.is_dir() and SweepFolder(path).has_results():
        return SweepFolder(path)
    return SweepFolder(_sweep_dir(text, out))


def _print_diff(result: Any, fmt: str) -> None:
    import json

    from imbench.leaderboard import to_markdown

    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(result.strategies.to_csv(index=False))
        return
    if fmt == "markdown":
        parts = [f"# {result.a} -> {result.b} ({result.metric}, changes are B - A)", "",
                 result.verdict(), ""]  # fmt: skip
        parts += [f"- {note}" for note in result.notes]
        for title, frame in result.tables():
            parts += ["", f"## {title}", "", to_markdown(frame)]
        sys.stdout.write("\n".join(parts) + "\n")
        return
    console.print(
        f"[bold]{escape(result.a)} -> {escape(result.b)}[/] on {result.metric} "
        "(changes are B - A; paired over the datasets both ran)"
    )
    console.print(result.verdict(), highlight=False)
    for note in result.notes:
        err.print(f"[yellow]{escape(note)}[/]", highlight=False)
    for side, frame in (("A", result.only_a), ("B", result.only_b)):
        if not frame.empty:
            what = frame.groupby(["strategy", "classifier", "imbalance_ratio"]).size()
            items = ", ".join(f"{s}/{c}/{r} ({n})" for (s, c, r), n in what.items())
            console.print(f"only in {side}: {len(frame)} cells: {escape(items)}", highlight=False)
    if result.setup:
        table = Table(title="setup that differs")
        for column in ("what", "A", "B"):
            table.add_column(column)
        for row in result.setup:
            table.add_row(*map(escape, row))
        console.print(table)
    table = Table(title=f"strategies: {result.metric} A -> B over shared datasets")
    for column in ("classifier", "ratio", "strategy", "N", "A", "B", "change", "w/t/l",
                   "p (Holm)", "rank A -> B"):  # fmt: skip
        table.add_column(column, justify="right" if column not in ("strategy",) else "left")
    for r in result.strategies.itertuples():
        table.add_row(
            r.classifier, str(r.imbalance_ratio), r.strategy, str(r.n_datasets),
            f"{r.mean_a:.3f}", f"{r.mean_b:.3f}", f"{r.change:+.4f}",
            f"{r.wins}/{r.ties}/{r.losses}", f"{r.p_holm:.3f}",
            f"{r.rank_a:.2f} -> {r.rank_b:.2f}",
        )  # fmt: skip
    console.print(table)
    if not result.cells.empty:
        table = Table(title=f"{len(result.cells)} cells moved beyond fold noise (2 SE)")
        for column in ("dataset", "ratio", "strategy", "classifier", "A", "B", "change", "SE"):
            table.add_column(column)
        for r in result.cells.head(20).itertuples():
            table.add_row(
                escape(r.dataset), str(r.imbalance_ratio), r.strategy, r.classifier,
                f"{r.mean_a:.3f}", f"{r.mean_b:.3f}", f"{r.change:+.4f}", f"{r.noise:.4f}",
            )  # fmt: skip
        console.print(table)
        if len(result.cells) > 20:
            console.print(f"... {len(result.cells) - 20} more (--format csv|json for all)")


def _log_diff(result: Any, a: SweepFolder, b: SweepFolder, tracking_uri: str | None) -> None:
    """One run in experiment imbench-diff, tagged with both sweeps' parent runs."""
    import json
    import tempfile

    from imbench.tracking import find_sweep_run, log_standalone_run, resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri, a.root)
    try:
        if uri.startswith("sqlite:"):
            a.root.mkdir(parents=True, exist_ok=True)
        tags = {"imbench.role": "diff", "imbench.diff.a": a.name, "imbench.diff.b": b.name}
        for side, folder in (("a", a), ("b", b)):
            run = find_sweep_run(resolve_tracking_uri(tracking_uri, folder.root), folder.name)
            if run:
                tags[f"imbench.diff.{side}_run"] = run
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "diff.json"
            path.write_text(json.dumps(result.to_dict(), indent=1, default=str))
            metrics = {
                "cells_shared": float(result.n_shared_cells),
                "cells_beyond_noise": float(len(result.cells)),
                "bit_identical": float(result.bit_identical),
            }
            params = {"a": str(a.path), "b": str(b.path), "metric": result.metric,
                      "verdict": result.verdict()}  # fmt: skip
            log_standalone_run(
                uri, mlartifacts(a.root), "imbench-diff", f"{a.name} -> {b.name}",
                params, metrics, [path], tags,
            )  # fmt: skip
        err.print(f"MLflow: experiment imbench-diff at {uri}", highlight=False)
    except Exception as exc:  # noqa: BLE001 - the diff stands without tracking
        err.print(f"[yellow]not logged to MLflow at {uri}: {escape(str(exc))}[/]")


@app.command()
def rescore(
    sweep: Annotated[str, typer.Argument(help="finished sweep: name under --out, or folder")],
    name: Annotated[str, typer.Option("--name", help="name of the new sweep")],
    objective: Annotated[
        Optional[str],
        typer.Option(
            "--objective", help="threshold objective: f1 fbeta mcc cost capacity min_precision"
        ),
    ] = None,
    fp_cost: Annotated[Optional[float], typer.Option("--fp-cost")] = None,
    fn_cost: Annotated[Optional[float], typer.Option("--fn-cost")] = None,
    beta: Annotated[Optional[float], typer.Option("--beta")] = None,
    capacity: Annotated[Optional[float], typer.Option("--capacity")] = None,
    min_precision: Annotated[Optional[float], typer.Option("--min-precision")] = None,
    calibration: Annotated[
        Optional[str], typer.Option("--calibration", help="sigmoid | isotonic")
    ] = None,
    dataset: Annotated[ListOpt, typer.Option("-d", "--dataset", help="keep these")] = None,
    strategy: Annotated[
        ListOpt, typer.Option("-s", "--strategy", help="keep these; new modifiers allowed")
    ] = None,
    classifier: Annotated[ListOpt, typer.Option("-c", "--classifier", help="keep these")] = None,
    ratio: Annotated[ListOpt, typer.Option("-r", "--ratio", help="keep these")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri")] = None,
) -> None:
    """Ask a finished sweep a new question without refitting: re-choose thresholds and
    calibration maps on its stored inner predictions for a new objective or calibration,
    score its stored test predictions, and write the result as sweep NAME. -d/-s/-c/-r
    keep a subset of its grid (compare and report then run on it); -s may name any
    modifier of a strategy it ran (smote+calibrated from smote+threshold's fits)."""
    from imbench.rescore import rescore as rescore_sweep

    protocol = {
        k: v
        for k, v in {
            "threshold_objective": objective, "fp_cost": fp_cost, "fn_cost": fn_cost,
            "beta": beta, "capacity": capacity, "min_precision": min_precision,
            "calibration": calibration,
        }.items()
        if v is not None
    }  # fmt: skip
    ratios = split_list(ratio)
    asked_for: dict[str, list[Any] | None] = {
        "datasets": split_datasets(dataset), "strategies": split_list(strategy),
        "classifiers": split_list(classifier),
        "ratios": [parse_ratio(r) for r in ratios] if ratios else None,
    }  # fmt: skip
    subset = {k: v for k, v in asked_for.items() if v}
    if not protocol and not subset:
        raise ConfigError(
            "rescore: give what changes, e.g. --objective cost --fn-cost 25, or a subset "
            "(-d, -s, -c, -r)"
        )
    source = _sweep_ref(sweep, out)
    done = rescore_sweep(source, protocol, name, subset)
    asked = [f"{k}={v}" for k, v in protocol.items()]
    asked += [f"{k}: {', '.join(str(x) for x in v)}" for k, v in subset.items()]
    counts = done.cells["status"].value_counts()
    console.print(
        f"[bold]{name}[/]: {counts.get('ok', 0)} ok, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('failed', 0)} failed; {int(done.cells['n_fits'].sum())} fits, "
        f"{done.seconds:.1f} s (rescored from {source.name}: {'; '.join(asked)})"
    )
    console.print(f"results: {done.folder.path}")
    from imbench.flows.tracking import log_parent_run

    cfg = done.cfg.model_copy(update={"tracking_uri": tracking_uri or done.cfg.tracking_uri})
    tags = {"imbench.rescored_from": source.name}
    summary = {"cells": len(done.cells), "ok": int(counts.get("ok", 0)), "n_fits": 0,
               "seconds": done.seconds}  # fmt: skip
    artifacts = [p for p in (done.folder.leaderboard, done.folder.cells, done.folder.stats)
                 if p.exists()]  # fmt: skip
    tracker = log_parent_run(cfg, summary, artifacts, tags)
    if tracker.behind:
        err.print(f"[yellow]not logged to MLflow at {tracker.uri}: {escape(tracker.error)}[/]")
    else:
        console.print(f"tracking: {tracker.uri}")
    _print_reasons(done.folder.path)
    if not done.folds.empty:
        _print_board(done.folder.path, metric="pr_auc", top=15)


@app.command()
def ui(
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    port: Annotated[int, typer.Option("--port")] = 5000,
    tracking_uri: Annotated[str | None, typer.Option("--tracking-uri")] = None,
) -> None:
    """Open the MLflow UI on the sweeps' tracking store."""
    from imbench.config import sqlite_file
    from imbench.tracking import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri, out)
    if uri.startswith("http"):
        console.print(f"MLflow is served at {uri}")
        return
    store = sqlite_file(uri)
    if uri.startswith("sqlite:") and (store is None or not store.exists()):
        _fail(f"no MLflow store at {uri}; run `imbench run` first")
    artifacts = mlartifacts(out).resolve().as_uri()
    console.print(f"MLflow UI on http://127.0.0.1:{port} for {uri} (Ctrl-C to stop)")
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        artifacts,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    os.execv(sys.executable, cmd)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        from imbench import __version__

        console.print(f"imbench {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help())


ConfigArg = Annotated[
    Optional[Path],
    typer.Argument(help="TOML config whose [strategy.*] / [classifier.*] tables and plugins count"),
]


def _install_config(config: Path | None) -> None:
    """Load a config's plugins and declared entries (built-ins and installed plugins'
    entry points always count)."""
    from imbench.declared import Methods
    from imbench.methods import install

    install(Methods.of_config(load_config_dict(config) if config else {}))


@app.command("list")
def list_entries(config: ConfigArg = None) -> None:
    """Strategies, modifiers, classifiers, metrics and threshold objectives."""
    _install_config(config)
    for title, rows in registry_rows().items():
        table = Table(title=title)
        table.add_column("name", no_wrap=True)
        table.add_column("what it is")
        for name, text in rows:
            table.add_row(name, text)
        console.print(table)


def registry_rows() -> dict[str, list[tuple[str, str]]]:
    from imbench.classifiers import CLASSIFIERS, OPTIONAL_CLASSIFIERS
    from imbench.metrics import LOWER_IS_BETTER, METRICS
    from imbench.objectives import OBJECTIVES
    from imbench.strategies import STRATEGIES

    clfs = [(c.name, c.description) for c in CLASSIFIERS.values()]
    clfs += [
        (name, f"not installed: {hint}")
        for name, hint in OPTIONAL_CLASSIFIERS.items()
        if name not in CLASSIFIERS
    ]
    return {
        "strategies (add +threshold and/or +calibrated to any)": [
            (s.name, s.description) for s in STRATEGIES.values()
        ],
        "modifiers": [
            (
                "+threshold",
                "decision threshold tuned on inner folds (protocol.threshold_objective)",
            ),
            ("+calibrated", "probabilities calibrated on inner folds (protocol.calibration)"),
        ],
        "classifiers": clfs,
        "metrics": [
            (m, "lower is better" if m in LOWER_IS_BETTER else "higher is better") for m in METRICS
        ],
        "threshold objectives (protocol.threshold_objective)": [(o, "") for o in OBJECTIVES],
    }


@app.command()
def check(
    name: Annotated[str, typer.Argument(help="a strategy or classifier, e.g. one you declared")],
    config: ConfigArg = None,
) -> None:
    """Run the contract suite on one entry: builds, clones, fits and scores, sees training
    rows only, learns a signal, scores at chance on permuted labels. Exit 1 if one fails."""
    _install_config(config)
    from threadpoolctl import threadpool_limits

    from imbench.checks import MINORITY, N_PERMUTED, N_ROWS, SETTINGS, check_entry

    with threadpool_limits(limits=1):
        kind, checks = check_entry(name)
    table = Table(
        title=f"{kind} {name}: {N_ROWS} rows ({N_PERMUTED} permuted), {MINORITY:.0%} minority, "
        f"{SETTINGS.outer_folds} outer x {SETTINGS.inner_folds} inner folds"
    )
    for col in ("check", "result", "detail"):
        table.add_column(col, overflow="fold")
    marks = {True: "[green]ok[/]", False: "[bold red]FAIL[/]", None: "[yellow]n/a[/]"}
    for c in checks:
        table.add_row(c.name, marks[c.ok], escape(c.detail))
    console.print(table)
    failed = [c.name for c in checks if c.ok is False]
    if failed:
        err.print(f"[bold red]{name} fails:[/] {', '.join(failed)}", highlight=False)
        raise typer.Exit(1)


@app.command()
def cells(
    sweep: Annotated[Optional[str], typer.Argument(help="sweep name (default: latest)")] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("results"),
    status: Annotated[Optional[str], typer.Option("--status", help="ok | skipped | failed")] = None,
) -> None:
    """Every cell of a sweep with its status and reason; skip/failure reasons counted."""
    sweep_dir = _sweep_dir(sweep, out)
    folder = SweepFolder(sweep_dir)
    if not folder.has_results():
        raise ConfigError(f"no sweep {sweep_dir.name!r} under {out}")
    table = folder.read_cells()
    if status:
        if status not in ("ok", "skipped", "failed"):
            raise ConfigError(f"--status: {status!r} is not ok, skipped or failed")
        table = table[table["status"] == status]
    cols = ["dataset", "imbalance_ratio", "strategy", "classifier", "seed", "status", "reason"]
    view = Table(title=f"{sweep_dir.name}: {len(table)} cells")
    for c in cols:
        view.add_column(c, overflow="fold")
    for row in table[cols].itertuples(index=False):
        view.add_row(*(str(v) for v in row))
    console.print(view)
    _print_reasons(sweep_dir, limit=50)


LOG_DIR_ENV = "IMBENCH_LOG_DIR"


def main() -> None:
    """Entry point: anything unexpected is logged with its traceback, and the user is
    told where, in one line (errors a user can fix never reach here)."""
    try:
        app()
        code = 0
    except SystemExit as exc:  # how typer ends every command
        code = _exit_code(exc)
    except Exception as exc:  # noqa: BLE001 - the last resort: log, say where, exit 1
        import datetime
        import traceback

        log_dir = Path(os.environ.get(LOG_DIR_ENV) or Path.home() / ".imbench" / "logs")
        log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        log = log_dir / f"error-{stamp}-{os.getpid()}.log"
        log.write_text(f"imbench {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
        err.print(
            f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc)[:300])}\n"
            f"the traceback is in {log}; please report it with that file",
            highlight=False,
        )
        code = 1
    _exit(code)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message"): printed, exit status 1
    return 1


def _exit(code: int) -> NoReturn:
    """End the process as a normal exit does -- non-daemon threads joined, executors'
    exit hooks and atexit handlers run, logs and streams flushed -- but without the
    interpreter's teardown of its thousands of modules, which took ~1.7 s after a
    sweep (benchmarks/fixed_costs.py counts it: the user waits for it)."""
    import atexit
    import logging
    import threading

    # Nothing is left to save by now. A hook that never returns must not hold the
    # process: a pool worker SIGKILLed while writing to a multiprocessing queue leaves
    # the queue's lock held, and joining this process's feeder thread of that queue
    # (multiprocessing's exit hook) then waits forever.
    from imbench.process import flush_and_exit

    watchdog = threading.Timer(EXIT_GRACE_S, flush_and_exit, args=(code,))
    watchdog.daemon = True
    watchdog.start()
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    logging.shutdown()
    flush_and_exit(code)


EXIT_GRACE_S = 15.0  # exit hooks take well under a second when nothing is stuck


if __name__ == "__main__":
    main()
