"""Statistics and a self-contained HTML report for a finished sweep.

``analyse`` writes ``stats.parquet`` (all tests of one metric; other metrics'
rows are kept) and the critical-difference figures; ``write_report`` writes
``report.html`` with every figure embedded as a data URI, so the file opens
offline and loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from imbench.decision import decision_curves
from imbench.errors import ConfigError
from imbench.leaderboard import build_leaderboard
from imbench.metrics import LOWER_IS_BETTER
from imbench.results import AGAINST, CELLS, REPORT, SweepFolder, slug, views
from imbench.stats import STATS_COLUMNS, compare
from imbench.store import atomic_write_bytes, atomic_write_parquet

BOARD_COLUMNS = ["pr_auc", "roc_auc", "mcc", "f1", "brier", "ece", "threshold"]


@dataclass
class Analysis:
    stats: pd.DataFrame  # this metric's rows
    figures: list[Path]
    summary: dict[str, float]  # e.g. Friedman p per block, for MLflow
    titles: list[str] = field(default_factory=list)  # the figures' captions, in words


def read_folds(sweep_dir: Path) -> pd.DataFrame:
    folder = SweepFolder(sweep_dir)
    if not folder.has_scores():
        raise ConfigError(f"no results for sweep {folder.name!r} under {folder.root}")
    return folder.read_folds()


def is_committed(sweep_dir: Path) -> bool:
    """True if the sweep's results are tracked by git (e.g. results/reference): reading
    them must not rewrite them."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "ls-files", "--error-unmatch", CELLS],
            cwd=sweep_dir,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def output_dir(sweep_dir: Path) -> Path:
    """Where analyses of a sweep are written: the sweep folder itself, unless its results
    are committed, then ``<out>/views/<sweep>`` so committed files are never rewritten."""
    return views(sweep_dir.parent, sweep_dir.name) if is_committed(sweep_dir) else sweep_dir


def analyse(
    sweep_dir: Path,
    *,
    metric: str,
    baseline: str | None = None,
    rope: float = 0.01,
    classifier: str | None = None,
    ratio: str | None = None,
    draw: bool = True,
    folds: pd.DataFrame | None = None,
    into: Path | None = None,
) -> Analysis:
    """``folds``: the sweep's folds if the caller holds them (the flow does), so a
    second copy is not read back from ``folds.parquet``. Results go to ``into``
    (default: the sweep folder); stats of other metrics already there are kept."""
    folds = read_folds(sweep_dir) if folds is None else folds
    stats, blocks = compare(
        folds, metric=metric, baseline=baseline, rope=rope, classifier=classifier, ratio=ratio
    )
    into = into or sweep_dir
    into.mkdir(parents=True, exist_ok=True)
    path = SweepFolder(into).stats
    if not path.exists() and SweepFolder(sweep_dir).stats.exists():
        path.write_bytes(SweepFolder(sweep_dir).stats.read_bytes())
    if path.exists():  # replace this metric's blocks, keep the rest
        old = pd.read_parquet(path)
        keys = {(b.metric, b.classifier, b.imbalance_ratio) for b in blocks}
        keep = [
            (m, c, r) not in keys
            for m, c, r in zip(
                old["metric"], old["classifier"], old["imbalance_ratio"], strict=True
            )
        ]
        merged = pd.concat([old[keep], stats], ignore_index=True)
    else:
        merged = stats
    atomic_write_parquet(merged[STATS_COLUMNS], path)
    fig_dir = SweepFolder(into).figures
    fig_dir.mkdir(exist_ok=True)
    paths: list[Path] = []
    titles: list[str] = []
    summary: dict[str, float] = {}
    for block in blocks:
        label = slug(metric, block.classifier, block.imbalance_ratio)
        friedman = stats[
            (stats["test"] == "friedman")
            & (stats["classifier"] == block.classifier)
            & (stats["imbalance_ratio"] == block.imbalance_ratio)
        ]
        if not friedman.empty:
            summary[f"friedman_p.{label}"] = float(friedman["p_value"].iloc[0])
        fig = _figures().cd_diagram(block) if draw else None
        if fig is not None:
            target = fig_dir / f"cd_{label}.png"
            atomic_write_bytes(target, fig[1])
            paths.append(target)
            titles.append(fig[0])
    return Analysis(stats, paths, summary, titles)


def _figures():  # matplotlib only when a figure is drawn
    from imbench import figures

    return figures


def _img(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    alt = html.escape(title)
    return (
        f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, na_rep="")


def _board_sections(board: pd.DataFrame, metric: str) -> str:
    from imbench.leaderboard import ratio_key

    parts = []
    groups = board.groupby(["classifier", "imbalance_ratio"], sort=False)
    # native imbalance first, then the target ratios in increasing order
    for (clf, ir), group in sorted(groups, key=lambda g: (ratio_key(str(g[0][1])), str(g[0][0]))):
        cols = ["strategy", "mean_rank", *(f"{c}_mean" for c in BOARD_COLUMNS), "n_datasets"]
        table = group[cols].rename(columns=lambda c: c.removesuffix("_mean"))
        parts.append(
            f"<h3>classifier={html.escape(clf)}, ratio={html.escape(ir)} "
            f"(ranked by {html.escape(metric)})</h3>{_table(table)}"
        )
    return "\n".join(parts)


def _stats_section(stats: pd.DataFrame) -> str:
    friedman = stats[stats["test"] == "friedman"][
        ["classifier", "imbalance_ratio", "n_datasets", "statistic", "p_value"]
    ]
    pairs = stats[(stats["test"] == "wilcoxon_holm") & (stats["p_value"] < 0.05)][
        ["classifier", "imbalance_ratio", "strategy", "other", "p_value"]
    ]
    bayes = stats[stats["test"] == "bayes_signed_rank"][
        [
            "classifier",
            "imbalance_ratio",
            "strategy",
            "other",
            "p_better",
            "p_equivalent",
            "p_worse",
        ]
    ]
    out = [
        "<h3>Friedman test over datasets</h3>",
        _table(friedman)
        if len(friedman)
        else "<p>"
        "Too few datasets or strategies for a Friedman test (needs at least 3 of each).</p>",
    ]
    out.append("<h3>Pairs that differ (Wilcoxon signed-rank, Holm-adjusted p &lt; 0.05)</h3>")
    out.append(_table(pairs) if len(pairs) else "<p>No pair differs at this level.</p>")
    if len(bayes):
        out.append("<h3>Bayesian signed-rank test against the baseline (ROPE)</h3>")
        out.append(_table(bayes))
    return "\n".join(out)


def _calibration_table(board: pd.DataFrame) -> str:
    cols = [
        "classifier",
        "imbalance_ratio",
        "strategy",
        "brier_mean",
        "log_loss_mean",
        "ece_mean",
        "cal_slope_mean",
        "cal_intercept_mean",
    ]
    table = board[cols].sort_values(["classifier", "imbalance_ratio", "ece_mean"])
    return _table(table.rename(columns=lambda c: c.removesuffix("_mean")))


def _against_section(sweep_dir: Path) -> str:
    """What a sweep run with ``--against`` compares with, and on which subset."""
    path = sweep_dir / AGAINST
    if not path.exists():
        return ""
    a = json.loads(path.read_text())
    return (
        f"<p><b>Against {html.escape(Path(a['reference']).name)}</b> ({html.escape(a['subset'])}: "
        f"{a['n_datasets']} datasets in {a['n_families']} families, seeds {a['seeds']}): "
        f"{html.escape(', '.join(a['new_strategies']))} ran on the reference's grid and "
        "outer folds; the reference's cells are its own, reused, not rerun.</p>"
    )


def _methods_section(folder: SweepFolder, folds: pd.DataFrame) -> str:
    """Brier and ECE of every base strategy's scores under each calibration map."""
    from imbench.recalibration import calibration_methods, wide

    table = wide(calibration_methods(folder, folds))
    if table.empty:
        return (
            "<p>No stored inner predictions (<code>protocol.predictions</code> is not "
            "<code>all</code>, or the sweep ran before they were stored): the calibration "
            "maps cannot be compared.</p>"
        )
    return (
        "<h3>Calibration maps compared</h3><p>Outer-test Brier score and ECE of each base "
        "strategy's scores as they are (<code>none</code>) and after each map: Platt "
        "(<code>sigmoid</code>) and <code>isotonic</code> fitted on the inner out-of-fold "
        "scores only, and <code>prior</code>, the closed-form correction from the "
        "prevalence the classifier trained on to the training rows' (no fit; the identity "
        "where that prevalence has no closed form). Means over datasets; "
        "<code>lowest_brier</code> names the map with the lowest mean Brier, a "
        "description, not a test.</p>" + _table(table)
    )


def write_report(
    sweep_dir: Path,
    *,
    metric: str = "pr_auc",
    baseline: str | None = None,
    rope: float = 0.01,
    into: Path | None = None,
    against: Path | None = None,
) -> tuple[Path, list[Path], dict[str, float]]:
    """Write ``report.html`` and the figures into ``into`` (default: the sweep folder);
    return the report, figure paths, summary. ``against``: another sweep folder, whose
    differences from this one (``imbench diff``) get a section."""
    figures = _figures()
    folds = read_folds(sweep_dir)
    into = into or sweep_dir
    board = build_leaderboard(folds, metric=metric)
    analysis = analyse(sweep_dir, metric=metric, baseline=baseline, rope=rope, into=into)
    curves = decision_curves(SweepFolder(sweep_dir), folds=folds)
    if not curves.empty:  # the table behind the figures, for MLflow and for reuse
        atomic_write_parquet(curves, SweepFolder(into).decision_curves)
    fig_dir = SweepFolder(into).figures
    made: list[tuple[str, bytes]] = []
    sections: list[tuple[str, list[tuple[str, bytes]]]] = []
    cds = [(t, p.read_bytes()) for t, p in zip(analysis.titles, analysis.figures, strict=True)]
    for name, figs in (
        ("Critical-difference diagrams", cds),
        ("Metric against imbalance ratio", figures.ratio_curves(folds, metric)),
        (
            f"Strategy x dataset: gain over {baseline or 'none'}",
            figures.heatmap(folds, metric, baseline or "none"),
        ),
        ("Reliability (calibration)", figures.reliability(folds)),
        ("Decision curves (from the stored predictions)", figures.decision_curves(curves)),
    ):
        sections.append((name, figs))
        made.extend(figs)
    paths = list(analysis.figures)
    for i, (title, png) in enumerate(made[len(analysis.figures) :]):
        target = fig_dir / f"fig{i:02d}_{slug(title)[:80]}.png"
        atomic_write_bytes(target, png)
        paths.append(target)
    folder = SweepFolder(sweep_dir)
    config = folder.read_config() if folder.config.exists() else {}
    direction = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
    body = [
        f"<h1>imbench report: {html.escape(sweep_dir.name)}</h1>",
        _verdict_section(folder, folds, baseline or "none"),
        _against_section(sweep_dir),
        f"<p>Ranked by <b>{html.escape(metric)}</b> ({direction}); fold scores are averaged per "
        "dataset before ranking and testing, so N is the number of datasets.</p>",
        "<details><summary>configuration</summary><pre>"
        f"{html.escape(json.dumps(config, indent=2))}</pre></details>",
        "<h2>Leaderboard</h2>",
        _board_sections(board, metric),
        "<h2>Statistics</h2>",
        _stats_section(analysis.stats),
        "<h2>Calibration: does the strategy distort probabilities?</h2>",
        "<p>Brier score, log-loss and expected calibration error (10 equal-width bins) on "
        "the outer test folds, and Cox's calibration line (the logistic fit of the outcome "
        "on logit(p): slope 1 and intercept 0 when calibrated; a slope below 1 means scores "
        "too extreme, an intercept below 0 too much minority probability); resampling "
        "shifts predicted probabilities towards the minority class unless the scores are "
        "calibrated (<code>+calibrated</code>).</p>",
        _calibration_table(board),
        _methods_section(SweepFolder(sweep_dir), folds),
    ]
    for name, figs in sections:
        body.append(f"<h2>{html.escape(name)}</h2>")
        body.extend([_img(t, p) for t, p in figs] or ["<p>none</p>"])
    if against is not None:
        body.append(_diff_section(sweep_dir, against, metric))
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>imbench: {html.escape(sweep_dir.name)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    target = into / REPORT
    atomic_write_bytes(target, page.encode())
    return target, paths, analysis.summary


def _verdict_section(folder: SweepFolder, folds: pd.DataFrame, baseline: str) -> str:
    """The answer first: per classifier and ratio (native first), who beats the
    baseline on each question, with interval, p and N (``imbench.verdict``)."""
    from imbench.verdict import blocks, sweep_findings

    found = sweep_findings(folder, baseline=baseline, folds=folds)
    if not found:
        return f"<h2>Verdict</h2><p>No block holds {html.escape(baseline)}: nothing to compare.</p>"
    parts = [
        "<h2>Verdict</h2>",
        f"<p>Each strategy against <code>{html.escape(baseline)}</code>. A strategy beats (or "
        f"loses to) it only with a Holm-corrected p below {found[0].alpha} over its block's "
        "strategies; intervals are 95 % intervals of the mean difference. Everything below "
        "this section is the evidence.</p>",
    ]
    for (clf, ratio), group in blocks(found).items():
        where = "native imbalance" if ratio == "native" else f"ratio {ratio}"
        items = "".join(f"<li>{html.escape(f.sentence(limit=5))}</li>" for f in group)
        parts.append(
            f"<h3>{html.escape(clf)}, {html.escape(where)}</h3>"
            f"<p>{html.escape(group[0].evidence())}</p><ul>{items}</ul>"
        )
    return "".join(parts)


def _diff_section(sweep_dir: Path, other: Path, metric: str) -> str:
    """This sweep against another (``imbench diff``): verdict, setup, strategies, cells."""
    from imbench.diff import diff_sweeps

    d = diff_sweeps(SweepFolder(other), SweepFolder(sweep_dir), metric=metric)
    parts = [
        f"<h2>Against {html.escape(d.a)} (changes are {html.escape(d.b)} minus "
        f"{html.escape(d.a)})</h2>",
        f"<p>{html.escape(d.verdict())}</p>",
        *[f"<p><b>{html.escape(note)}</b></p>" for note in d.notes],
    ]
    for title, frame in d.tables():
        parts.append(f"<h3>{html.escape(title)}</h3>")  # 50 rows at most; all: imbench diff
        parts.append(frame.head(50).to_html(index=False, float_format="%.4f", escape=True))
    return "".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:13px;margin-bottom:1em}
th,td{padding:2px 8px;text-align:right}th{background:#eee}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%}figcaption{font-size:12px;color:#555}
"""
