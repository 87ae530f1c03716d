"""Run and operate: ``run``, ``rescore``, ``sync``, ``serve``, ``ui``."""

from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from imbench.cli.app import ListOpt, OutOpt, SweepArg, TrackingOpt, app, console, err, fail
from imbench.cli.render import print_answer, print_reasons
from imbench.config import (
    ProtocolConfig,
    SweepConfig,
    load_config_dict,
    parse_ratio,
    protocol_fields,
    protocol_flag,
    split_datasets,
    split_list,
)
from imbench.errors import ConfigError
from imbench.results import SweepFolder


def ad_hoc_name(overrides: dict[str, Any]) -> str:
    """A sweep name of its own for a run from flags: what it runs, readable, and a
    digest of the whole grid, so the same command resumes its sweep and another
    grid does not overwrite it."""
    from imbench.hashing import stable_hash
    from imbench.results import slug

    grid = {k: overrides[k] for k in ("datasets", "strategies", "classifiers", "ratios", "seeds")}
    datasets = [Path(str(d).split(":")[0]).stem or str(d) for d in grid["datasets"] or []]
    head = datasets[0] if len(datasets) == 1 else (f"{len(datasets)}sets" if datasets else "")
    parts = [head, *(grid["classifiers"] or [])[:2]]
    text = slug(*(p for p in parts if p), stable_hash(repr(grid), n=6))
    return re.sub(r"[^A-Za-z0-9_.-]+", "", text).lstrip("._-") or "adhoc"


def _config_keys() -> str:
    top = ", ".join(k for k in SweepConfig.model_fields if k != "protocol")
    return f"Config keys: {top}; [protocol] {', '.join(ProtocolConfig.model_fields)}."


def _seeds(values: list[str] | None) -> list[int] | None:
    items = split_list(values)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError:
        raise ConfigError(f"seeds: {items!r} must be whole numbers") from None


def _ratios(values: list[str] | None) -> list[Any] | None:
    ratios = split_list(values)
    return [parse_ratio(r) for r in ratios] if ratios else None


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
    tracking_uri: TrackingOpt = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="existing Dask scheduler tcp://HOST:PORT"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    against: Annotated[
        str | None,
        typer.Option("--against", help="run your strategies on this finished sweep's grid"),
    ] = None,
    lite: Annotated[
        bool, typer.Option("--lite", help="with --against: one seed, a third of the datasets")
    ] = False,
) -> None:
    """Run a sweep (the embedded default grid unless CONFIG or flags say otherwise).
    With --against reference: CONFIG's strategies on the reference's grid, beside its
    cells (reused, not rerun)."""
    from imbench.flows.launch import launch

    overrides = {
        "datasets": split_datasets(dataset),
        "strategies": split_list(strategy),
        "classifiers": split_list(classifier),
        "ratios": _ratios(ratio),
        "seeds": _seeds(seed),
        "out": out,
        "name": name,
        "workers": workers,
        "tracking_uri": tracking_uri,
        "dask_address": dask_address,
    }
    if against is not None or lite:
        from imbench.cli.against import run_against

        return run_against(config, against, lite, overrides, quiet=quiet, report=_report_run)
    ad_hoc = config is None and any(
        overrides[k] is not None
        for k in ("datasets", "strategies", "classifiers", "ratios", "seeds")
    )
    notes = []
    if config is None and overrides["datasets"] and overrides["ratios"] is None:
        # one's own data at the default target ratios would mostly be skipped (a set
        # already past IR 10 cannot be subsampled to it): its native imbalance only
        overrides["ratios"] = ["native"]
        notes.append("ratios: native only (add target ratios with -r native,10,50)")
    if ad_hoc and name is None:
        overrides["name"] = ad_hoc_name(overrides)
        notes.append(f"sweep name: {overrides['name']} (from its grid; --name to choose one)")
    for note in notes:
        err.print(note, highlight=False, soft_wrap=True)
    plan = (
        None
        if quiet
        else (lambda line: err.print(f"plan: {line}", highlight=False, soft_wrap=True))
    )
    outcome = launch(load_config_dict(config), overrides, show_progress=not quiet, on_plan=plan)
    _report_run(outcome.cfg, outcome.summary)


def _report_run(cfg: SweepConfig, summary: dict[str, Any]) -> None:
    resume = f"run the same command again to resume (sweep {cfg.name!r} under {cfg.out})"
    if summary.get("error"):
        fail(summary["error"])
    if summary.get("interrupted"):
        kept, cells = summary.get("kept") or 0, summary.get("cells")
        of = f" of {cells}" if cells else ""
        what = f"{kept}{of} cells finished and kept" if kept else f"no cell{of} had finished"
        err.print(f"interrupted: {what}; {escape(resume)}", highlight=False, soft_wrap=True)
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
    elif summary.get("tracking_deferred"):
        err.print(
            f"tracking: `imbench sync {cfg.name}` adds the MLflow runs of the "
            f"{summary['tracking_deferred']} cells this sweep reused from results MLflow "
            "never saw (too many to log now; the Parquet results hold them)",
            highlight=False,
            soft_wrap=True,
        )
    print_reasons(Path(summary["results"]))
    if summary["ok"]:
        print_answer(Path(summary["results"]))
    elif summary["skipped"] or summary["failed"]:
        fail(
            f"no cell of sweep {cfg.name!r} ran: {summary['skipped']} skipped, "
            f"{summary['failed']} failed (reasons above)",
            code=1,
        )


def _with_protocol_options(fn: Any) -> Any:
    """``fn`` with one option per rescorable ``[protocol]`` setting, gathered into its
    ``protocol`` argument: a new rescorable setting is a flag of ``rescore`` at once."""
    signature = inspect.signature(fn, eval_str=True)
    extra = []
    for field in protocol_fields(rescorable=True):
        info = ProtocolConfig.model_fields[field]
        kind = float if info.annotation is float else str
        option = typer.Option(protocol_flag(field), help=info.description)
        extra.append(
            inspect.Parameter(
                field,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[kind | None, option],
            )
        )
    params = [p for p in signature.parameters.values() if p.name != "protocol"]

    def wrapper(**kwargs: Any) -> Any:
        protocol = {f: kwargs.pop(f) for f in protocol_fields(rescorable=True)}
        return fn(protocol={k: v for k, v in protocol.items() if v is not None}, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


@app.command("rescore")
@_with_protocol_options
def rescore(
    sweep: Annotated[str, typer.Argument(help="finished sweep: name under --out, or folder")],
    name: Annotated[str, typer.Option("--name", help="name of the new sweep")],
    protocol: dict[str, Any],
    dataset: Annotated[ListOpt, typer.Option("-d", "--dataset", help="keep these")] = None,
    strategy: Annotated[
        ListOpt, typer.Option("-s", "--strategy", help="keep these; new modifiers allowed")
    ] = None,
    classifier: Annotated[ListOpt, typer.Option("-c", "--classifier", help="keep these")] = None,
    ratio: Annotated[ListOpt, typer.Option("-r", "--ratio", help="keep these")] = None,
    out: OutOpt = Path("results"),
    tracking_uri: TrackingOpt = None,
) -> None:
    """Ask a finished sweep a new question without refitting: re-choose thresholds and
    calibration maps on its stored inner predictions for a new objective or calibration,
    score its stored test predictions, and write the result as sweep NAME. -d/-s/-c/-r
    keep a subset of its grid (compare and report then run on it); -s may name any
    modifier of a strategy it ran (smote+calibrated from smote+threshold's fits)."""
    from imbench.flows.tracking import CHILD_RUNS_AT_ONCE, log_parent_run
    from imbench.history import sweep_ref
    from imbench.rescore import rescore as rescore_sweep

    asked_for: dict[str, list[Any] | None] = {
        "datasets": split_datasets(dataset),
        "strategies": split_list(strategy),
        "classifiers": split_list(classifier),
        "ratios": _ratios(ratio),
    }
    subset = {k: v for k, v in asked_for.items() if v}
    if not protocol and not subset:
        raise ConfigError(
            "rescore: give what changes, e.g. --objective cost --fn-cost 25, or a subset "
            "(-d, -s, -c, -r)"
        )
    source = sweep_ref(sweep, out)
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
    cfg = done.cfg.model_copy(update={"tracking_uri": tracking_uri or done.cfg.tracking_uri})
    summary = {
        "cells": len(done.cells),
        "ok": int(counts.get("ok", 0)),
        "n_fits": 0,
        "seconds": done.seconds,
    }
    artifacts = [
        p for p in (done.folder.leaderboard, done.folder.cells, done.folder.stats) if p.exists()
    ]
    tracker = log_parent_run(
        cfg, summary, artifacts, {"imbench.rescored_from": source.name}, done.cells, done.folds
    )
    if tracker.behind:
        err.print(f"[yellow]not logged to MLflow at {tracker.uri}: {escape(tracker.error)}[/]")
    elif len(done.cells) > CHILD_RUNS_AT_ONCE:
        console.print(
            f"tracking: {tracker.uri} (the sweep's run; `imbench sync {name}` adds its "
            f"{len(done.cells)} cell runs)"
        )
    else:
        console.print(f"tracking: {tracker.uri} (the sweep's run and {len(done.cells)} cell runs)")
    print_reasons(done.folder.path)
    if not done.folds.empty:
        print_answer(done.folder.path)


@app.command()
def sync(
    sweep: SweepArg = None, out: OutOpt = Path("results"), tracking_uri: TrackingOpt = None
) -> None:
    """Back-fill MLflow from a sweep's Parquet results (after a tracking outage)."""
    from imbench.flows.tracking import sync_tracking
    from imbench.history import find_sweep, sweep_config

    sweep_dir = find_sweep(sweep, out)
    folder = SweepFolder(sweep_dir)
    cells, folds = folder.read_cells(), folder.read_folds()
    console.print(f"sweep: {sweep_dir.name} ({sweep_dir})", highlight=False)

    def progress(done: int, total: int) -> None:
        err.print(f"sync {sweep_dir.name}: {done}/{total} cell runs written", highlight=False)

    tracker, written = sync_tracking(
        sweep_config(folder, out, tracking_uri), cells, folds, on_progress=progress
    )
    if tracker.behind:
        fail(f"MLflow at {tracker.uri} is still unreachable: {tracker.error}")
    wrote = f"wrote {written} cell runs" if written else "nothing to write"
    console.print(
        f"{sweep_dir.name}: {wrote}; MLflow at {tracker.uri} holds all {len(cells)} cells"
    )


@app.command()
def serve(
    name: Annotated[str, typer.Option("--name", help="deployment name")] = "imbench",
    config_root: Annotated[
        list[Path] | None,
        typer.Option("--config-root", help="config files only under (default: .)"),
    ] = None,
    data_root: Annotated[
        list[Path] | None, typer.Option("--data-root", help="data files only under (default: .)")
    ] = None,
    results_root: Annotated[
        Path, typer.Option("--results-root", help="results only under this folder")
    ] = Path("results"),
    allow_tracking_uri: Annotated[
        list[str] | None,
        typer.Option("--allow-tracking-uri", help="a tracking URI runs may name (repeatable)"),
    ] = None,
) -> None:
    """Serve the sweep as a Prefect deployment (needs PREFECT_API_URL: a Prefect server).

    Trigger it from the Prefect UI or with
    `prefect deployment run imbench-sweep-from-parameters/imbench -p datasets='["ecoli1"]'`.
    A run's parameters are data: paths outside the roots, and tracking URIs not
    allowed, are refused before any work.
    """
    from imbench.flows.runtime import apply_defaults
    from imbench.guard import ENV, ServeRoots

    roots = ServeRoots.of(
        config_root or [Path.cwd()], data_root or [Path.cwd()], results_root,
        allow_tracking_uri or [],
    )  # fmt: skip
    os.environ[ENV] = roots.to_env()

    apply_defaults()
    if not os.environ.get("PREFECT_API_URL"):
        fail("set PREFECT_API_URL to a running Prefect server (prefect server start) first")
    from imbench.flows.sweep import sweep_from_parameters

    console.print(f"serving deployment imbench-sweep-from-parameters/{name} (Ctrl-C to stop)")
    console.print(
        f"config under {', '.join(map(str, roots.config))}; data under "
        f"{', '.join(map(str, roots.data))}; results under {roots.results}",
        highlight=False,
    )
    sweep_from_parameters.serve(name=name, print_starting_message=False)


@app.command()
def ui(
    out: OutOpt = Path("results"),
    port: Annotated[int, typer.Option("--port")] = 5000,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Open the MLflow UI on the sweeps' tracking store."""
    from imbench.config import resolve_tracking_uri, sqlite_file
    from imbench.results import mlartifacts

    uri = resolve_tracking_uri(tracking_uri, out)
    if uri.startswith("http"):
        console.print(f"MLflow is served at {uri}")
        return
    store = sqlite_file(uri)
    if uri.startswith("sqlite:") and (store is None or not store.exists()):
        fail(f"no MLflow store at {uri}; run `imbench run` first")
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
