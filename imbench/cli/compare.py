"""Compare: ``compare``, ``diff``, ``report``, ``advise``, ``audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from imbench.cli.app import OutOpt, SweepArg, TrackingOpt, app, console, err, warn
from imbench.cli.render import check_format
from imbench.cli.render_compare import (
    print_advice,
    print_audit,
    print_diff,
    print_pairs,
    print_stats,
)
from imbench.config import default_config_dict, parse_ratio
from imbench.errors import ConfigError
from imbench.results import SweepFolder

MetricOpt = Annotated[str, typer.Option("--metric")]
RatingsMetricOpt = Annotated[
    str | None,
    typer.Option(
        "--metric",
        help="default pr_auc; with --ratings, a list (default pr_auc, the decision metric, brier)",
    ),
]
ClassifierOpt = Annotated[str | None, typer.Option("--classifier", "-c")]
RatioOpt = Annotated[str | None, typer.Option("--ratio", "-r")]


def _ratio(ratio: str | None) -> str | None:
    from imbench.plan import ratio_label

    return ratio_label(parse_ratio(ratio)) if ratio else None


def _attach(cfg: Any, metrics: dict[str, float], paths: list[Path], where: str) -> None:
    from imbench.flows.tracking import attach_to_sweep

    tracker = attach_to_sweep(cfg, metrics, paths, where)
    if tracker.behind and "no MLflow run for sweep" in tracker.error:
        return  # results made elsewhere (committed, copied): nothing to attach to
    if tracker.behind:
        warn(f"not logged to MLflow at {tracker.uri}: {tracker.error}")
    else:
        console.print(f"logged to the sweep's MLflow run at {tracker.uri} ({where}/)")


@app.command()
def compare(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    metric: RatingsMetricOpt = None,
    classifier: ClassifierOpt = None,
    ratio: RatioOpt = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", help="Bayesian signed-rank test against it; with --ratings, the anchor"
        ),
    ] = None,
    rope: Annotated[
        float, typer.Option("--rope", help="region of practical equivalence", min=0.0)
    ] = 0.01,
    pairs: Annotated[
        str | None,
        typer.Option(
            "--pairs",
            help="planned comparisons A:B,... (A vs B), Holm over these pairs only; "
            "--metric may then list several metrics (mcc,f1); writes nothing",
        ),
    ] = None,
    tracking_uri: TrackingOpt = None,
    ratings: Annotated[
        bool,
        typer.Option(
            "--ratings",
            help="Bradley-Terry ratings anchored at the baseline (none), family-bootstrap "
            "intervals, win rates and ranking stability; --metric may list several",
        ),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="with --ratings: per regime (ir | rows | minority | features | family)"
        ),  # fmt: skip
    ] = None,
    top: Annotated[int, typer.Option("--top", help="with --ratings: rows per table", min=1)] = 10,
) -> None:
    """Friedman, Nemenyi, Wilcoxon-Holm (and Bayesian) tests over datasets; CD diagrams.
    With --pairs: only the comparisons asked in advance. With --ratings: Bradley-Terry
    ratings per metric x classifier (and per regime with --by)."""
    from imbench.history import find_sweep, sweep_config
    from imbench.report import analyse, output_dir, read_folds
    from imbench.stats import parse_pairs, planned

    sweep_dir = find_sweep(sweep, out)
    if ratings or by is not None:
        from imbench.cli.ratings import compare_ratings

        compare_ratings(sweep_dir, metric=metric, classifier=classifier, ratio=_ratio(ratio),
                        anchor=baseline or "none", by=by, top=top)  # fmt: skip
        return
    metric = metric or "pr_auc"
    if pairs is not None:
        wanted = parse_pairs(pairs)
        folds = read_folds(sweep_dir)
        tables = [
            planned(
                folds, metric=m.strip(), pairs=wanted, classifier=classifier, ratio=_ratio(ratio)
            )
            for m in metric.split(",")
        ]
        print_pairs(sweep_dir.name, tables, len(wanted))
        return
    from imbench.cli.render import print_verdict
    from imbench.verdict import sweep_findings

    console.print(f"sweep: {sweep_dir.name} ({sweep_dir})", highlight=False)
    print_verdict(sweep_findings(SweepFolder(sweep_dir), baseline=baseline or "none"))
    cfg = sweep_config(SweepFolder(sweep_dir), out, tracking_uri)
    into = output_dir(sweep_dir)
    result = analyse(
        sweep_dir,
        into=into,
        metric=metric,
        baseline=baseline,
        rope=rope,
        classifier=classifier,
        ratio=_ratio(ratio),
    )
    print_stats(result.stats, metric)
    console.print(f"stats: {SweepFolder(into).stats}")
    for path in result.figures:
        console.print(f"figure: {path}")
    _attach(cfg, result.summary, [SweepFolder(into).stats, *result.figures], "stats")


@app.command()
def report(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    metric: MetricOpt = "pr_auc",
    baseline: Annotated[str | None, typer.Option("--baseline")] = None,
    tracking_uri: TrackingOpt = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="another sweep (name or folder): adds `imbench diff`"),
    ] = None,
) -> None:
    """Write a self-contained report.html (tables, CD diagrams, curves, reliability plots)."""
    from imbench.history import find_sweep, sweep_config, sweep_ref
    from imbench.report import output_dir, write_report

    sweep_dir = find_sweep(sweep, out)
    console.print(f"sweep: {sweep_dir.name} ({sweep_dir})", highlight=False)
    cfg = sweep_config(SweepFolder(sweep_dir), out, tracking_uri)
    other = sweep_ref(against, out).path if against else None
    into = output_dir(sweep_dir)
    page, figures, summary = write_report(
        sweep_dir, metric=metric, baseline=baseline, into=into, against=other
    )
    console.print(f"report: {page} ({len(figures)} figures)")
    tables = [p for p in (SweepFolder(into).decision_curves,) if p.exists()]
    _attach(cfg, summary, [page, *figures, *tables], "report")


@app.command()
def explore(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    baseline: Annotated[str, typer.Option("--baseline")] = "none",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="the HTML file to write")
    ] = None,
) -> None:
    """Write explore.html: filter a sweep by classifier, ratio, metric and regime band."""
    from imbench.explore import write_explore
    from imbench.history import find_sweep
    from imbench.report import output_dir

    sweep_dir = find_sweep(sweep, out)
    folder = SweepFolder(sweep_dir)
    if not folder.has_scores():
        raise typer.BadParameter(f"sweep {sweep_dir.name!r} has no finished scores yet")
    strategies = sorted(set(folder.read_cells()["strategy"].astype(str)))
    if baseline not in strategies:
        shown = ", ".join(strategies[:12]) + (", ..." if len(strategies) > 12 else "")
        raise typer.BadParameter(
            f"--baseline {baseline!r} is not a strategy of sweep {sweep_dir.name!r} ({shown})"
        )
    page = write_explore(folder, output or output_dir(sweep_dir) / "explore.html", baseline)
    console.print(f"explore: {page} (opens offline)", highlight=False)


@app.command()
def findings(
    sweep: SweepArg = None,
    out: OutOpt = Path("results"),
    baseline: Annotated[str, typer.Option("--baseline")] = "none",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the verdict as Markdown here")
    ] = None,
) -> None:
    """The verdict of a sweep alone, per question, classifier and ratio (Markdown with -o)."""
    from imbench.cli.render import print_verdict
    from imbench.history import find_sweep
    from imbench.verdict import findings_page, sweep_findings

    sweep_dir = find_sweep(sweep, out)
    console.print(f"sweep: {sweep_dir.name} ({sweep_dir})", highlight=False)
    found = sweep_findings(SweepFolder(sweep_dir), baseline=baseline)
    if output is None:
        print_verdict(found, limit=5)
        return
    output.write_text(findings_page(found, sweep_dir, output, baseline=baseline))
    console.print(f"findings: {output}")


@app.command()
def diff(
    sweep_a: Annotated[str, typer.Argument(help="sweep name under --out, or a sweep folder")],
    sweep_b: Annotated[str, typer.Argument(help="the sweep to compare with A (changes: B - A)")],
    out: Annotated[Path, typer.Option("--out", help="results root of sweep names")] = Path(
        "results"
    ),
    metric: MetricOpt = "pr_auc",
    classifier: ClassifierOpt = None,
    ratio: RatioOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | markdown | json")] = "table",
    tracking_uri: TrackingOpt = None,
) -> None:
    """Compare two sweeps: cells only in one, each strategy's change with a paired test
    and its rank change, cells moved beyond fold noise, and what differs in packages,
    config and data. Logged to MLflow (experiment imbench-diff) linking both sweeps."""
    from imbench.diff import diff_sweeps
    from imbench.flows.tracking import log_diff
    from imbench.history import sweep_ref

    check_format(fmt)
    a, b = sweep_ref(sweep_a, out), sweep_ref(sweep_b, out)
    result = diff_sweeps(a, b, metric=metric, classifier=classifier, ratio=_ratio(ratio))
    print_diff(result, fmt)
    try:
        uri = log_diff(result, a, b, tracking_uri)
        err.print(f"MLflow: experiment imbench-diff at {uri}", highlight=False)
    except Exception as exc:  # noqa: BLE001 - the diff stands without tracking
        warn(f"not logged to MLflow: {exc}")


@app.command()
def audit(
    dataset: Annotated[str, typer.Option("-d", "--dataset", help="dataset to audit")],
    strategy: Annotated[str, typer.Option("-s", "--strategy")] = "smote",
    classifier: Annotated[str, typer.Option("-c", "--classifier")] = "lr",
    ratio: Annotated[str, typer.Option("-r", "--ratio", help="'native' or IR")] = "native",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: OutOpt = Path("results"),
) -> None:
    """Run the honest protocol next to the classic leakage mistakes and show their optimism."""
    from imbench.audit import audit_cell
    from imbench.resolve import build_config
    from imbench.results import audit_table
    from imbench.store import atomic_write_parquet

    cfg = build_config(
        default_config_dict(),
        {
            "datasets": [dataset],
            "strategies": [strategy],
            "classifiers": [classifier],
            "ratios": [parse_ratio(ratio)],
        },
    )
    result = audit_cell(cfg, seed=seed)
    print_audit(result, cfg.strategies[0], cfg.classifiers[0])
    target = audit_table(out, result.slug)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(result.frame, target)
    console.print(f"saved: {target}")


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
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="the sweep the prior comes from (default: field, else reference, under "
            "--out); none: no prior",
        ),
    ] = None,
    out: OutOpt = Path("results"),
    tracking_uri: TrackingOpt = None,
) -> None:
    """Say what the reference found on data like DATA (its regime bands), then run the
    imbalance playbook on it: diagnose, then class weights, threshold, resampling and
    calibration, each kept only if it pays (paired test over outer folds)."""
    from imbench.advise import ADVISE_METRICS, advise_data, to_markdown
    from imbench.flows.tracking import log_advice_run
    from imbench.results import advice_summary, slug
    from imbench.store import atomic_write_bytes

    if metric not in ADVISE_METRICS:
        raise ConfigError(f"metric: {metric!r} is not one of {', '.join(ADVISE_METRICS)}")
    protocol = {
        "outer_repeats": repeats,
        "beta": beta,
        "fp_cost": fp_cost,
        "fn_cost": fn_cost,
        "capacity": capacity,
    }
    from imbench.cli.render_compare import print_prior

    prior_of = _prior_source(reference, out)
    shown: list[str] = []

    def show_prior(ds: Any) -> None:
        shown.extend(print_prior(prior_of, ds, metric=metric, beta=beta, classifier=classifier))

    name, result = advise_data(
        data, metric=metric, classifier=classifier, protocol=protocol, seed=seed, alpha=alpha,
        on_loaded=show_prior,
    )  # fmt: skip
    print_advice(result, name)
    target = advice_summary(out, slug(name, result.metric, classifier))
    target.parent.mkdir(parents=True, exist_ok=True)
    section = ["## The reference's prior", "", *shown] if shown else []
    prior_md = "".join(f"\n{line}" for line in section)
    atomic_write_bytes(target, (to_markdown(result, name) + prior_md + "\n").encode())
    console.print(f"summary: {target}")
    try:
        uri = log_advice_run(result, name, classifier, [target], out, tracking_uri)
        console.print(f"MLflow: experiment imbench-advise at {uri}")
    except Exception as exc:  # noqa: BLE001 - the advice stands without tracking
        err.print(f"[yellow]not logged to MLflow: {escape(str(exc))}[/]")


def _prior_source(reference: str | None, out: Path) -> Any:
    """The reference sweep's folder for advise's prior, or the line that says why there
    is none ("" for ``--reference none``). A named sweep that is not there fails before
    any compute."""
    from imbench.history import sweep_ref
    from imbench.reference_prior import reference_sweep

    if reference is not None and reference.lower() == "none":
        return ""
    if reference is not None:
        return sweep_ref(reference, out)
    return reference_sweep(out) or (
        f"no reference sweep under {out} (field or reference; --reference names another): no prior"
    )
