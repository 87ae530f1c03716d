"""Tables of the comparing commands: statistics, planned pairs, diffs, advice,
audits and contract checks. Nothing here computes a result."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.markup import escape
from rich.table import Table

from imbench.cli.app import console, err
from imbench.cli.render import table


def print_stats(stats: Any, metric: str) -> None:
    """Friedman / Nemenyi / Wilcoxon-Holm (and Bayesian) results per block."""
    for (clf, ir), block in stats.groupby(["classifier", "imbalance_ratio"], sort=True):
        ranks = block[block["test"] == "rank"]
        n = int(ranks["n_datasets"].iloc[0])
        cd = ranks["critical_difference"].iloc[0]
        friedman = block[block["test"] == "friedman"]
        head = f"{metric}, classifier={clf}, ratio={ir}: N={n} datasets, CD={cd:.2f}"
        if not friedman.empty:
            head += f", Friedman p={friedman['p_value'].iloc[0]:.3g}"
        out = Table(title=head)
        for col in ("mean rank", "strategy", "mean", "differs from (Wilcoxon-Holm p<0.05)"):
            out.add_column(col)
        pairs = block[(block["test"] == "wilcoxon_holm") & (block["p_value"] < 0.05)]
        bayes = block[block["test"] == "bayes_signed_rank"].set_index("strategy")
        if not bayes.empty:
            out.add_column(f"vs {bayes['other'].iloc[0]}: P(better/rope/worse)")
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
            out.add_row(*cells)
        console.print(out)


def print_pairs(name: str, tables: list[Any], n_pairs: int) -> None:
    """Planned comparisons, one table per metric x classifier x ratio."""
    console.print(
        f"{name}: planned comparisons A vs B on the datasets where both ran "
        f"(N each); w/t/l = datasets where A is better / tied / worse; Wilcoxon signed-rank, "
        f"Holm over the {n_pairs} planned pairs of each metric x classifier x ratio"
    )
    columns = ("A", "B", "N", "A mean", "B mean", "A - B", "w/t/l", "p", "p (Holm)")
    for frame in tables:
        for (m, clf, ir), block in frame.groupby(
            ["metric", "classifier", "imbalance_ratio"], sort=False
        ):
            rows = [
                [
                    r.strategy,
                    r.other,
                    str(r.n_datasets),
                    f"{r.mean:.4f}",
                    f"{r.mean_other:.4f}",
                    f"{r.difference:+.4f}",
                    f"{r.wins}/{r.ties}/{r.losses}",
                    f"{r.p_value:.3g}",
                    f"{r.p_holm:.3g}",
                ]
                for r in block.itertuples()
            ]
            console.print(
                table(f"{m}, classifier={clf}, ratio={ir}", columns, rows, left=("A", "B"))
            )


def print_diff(result: Any, fmt: str) -> None:
    """``imbench diff``: a verdict, notes, setup, strategies and moved cells."""
    from imbench.leaderboard import to_markdown

    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(result.strategies.to_csv(index=False))
        return
    if fmt == "markdown":
        parts = [
            f"# {result.a} -> {result.b} ({result.metric}, changes are B - A)",
            "",
            result.verdict(),
            "",
        ]
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
        rows = [list(map(escape, row)) for row in result.setup]
        console.print(
            table("setup that differs", ("what", "A", "B"), rows, left=("what", "A", "B"))
        )
    columns = (
        "classifier",
        "ratio",
        "strategy",
        "N",
        "A",
        "B",
        "change",
        "w/t/l",
        "p (Holm)",
        "rank A -> B",
    )
    rows = [
        [
            r.classifier,
            str(r.imbalance_ratio),
            r.strategy,
            str(r.n_datasets),
            f"{r.mean_a:.3f}",
            f"{r.mean_b:.3f}",
            f"{r.change:+.4f}",
            f"{r.wins}/{r.ties}/{r.losses}",
            f"{r.p_holm:.3f}",
            f"{r.rank_a:.2f} -> {r.rank_b:.2f}",
        ]
        for r in result.strategies.itertuples()
    ]
    title = f"strategies: {result.metric} A -> B over shared datasets"
    console.print(table(title, columns, rows, left=("strategy",)))
    if not result.cells.empty:
        moved = ("dataset", "ratio", "strategy", "classifier", "A", "B", "change", "SE")
        rows = [
            [
                escape(r.dataset),
                str(r.imbalance_ratio),
                r.strategy,
                r.classifier,
                f"{r.mean_a:.3f}",
                f"{r.mean_b:.3f}",
                f"{r.change:+.4f}",
                f"{r.noise:.4f}",
            ]
            for r in result.cells.head(20).itertuples()
        ]
        title = f"{len(result.cells)} cells moved beyond fold noise (2 SE)"
        console.print(table(title, moved, rows, left=moved))
        if len(result.cells) > 20:
            console.print(f"... {len(result.cells) - 20} more (--format csv|json for all)")


def print_prior(source: Any, ds: Any, *, metric: str, beta: float, classifier: str) -> list[str]:
    """``imbench advise``'s first answer: the reference's pick in each regime band the
    data falls in (``source``: a sweep folder, or the line that says why there is none).
    Returns the lines shown."""
    from imbench.reference_prior import prior_metric, reference_prior

    if isinstance(source, str):
        if source:
            console.print(source, highlight=False)
        return [source] if source else []
    n_min = int(ds.y.sum())
    data = {"rows": float(len(ds.y)), "minority": float(n_min), "features": float(ds.X.shape[1]),
            "ir": (len(ds.y) - n_min) / n_min if n_min else math.inf}  # fmt: skip
    prior = reference_prior(source, data, metric=prior_metric(metric, beta),
                            classifier=classifier, dataset=ds.name)  # fmt: skip
    lines = [prior] if isinstance(prior, str) else prior.lines()
    for line in lines:
        console.print(escape(line), highlight=False)
    return lines


def print_advice(result: Any, name: str) -> None:
    """``imbench advise``: the diagnosis, the path, every candidate, the pick."""
    from imbench.advise import (
        CANDIDATE_COLUMNS,
        STEP_COLUMNS,
        candidate_rows,
        step_rows,
    )

    diag = result.diagnosis
    console.print(
        f"[bold]{name}[/]: {diag.rows} rows, {diag.minority} minority ({diag.prevalence:.2%}, "
        f"IR {diag.imbalance_ratio:.1f}); SMOTE {'feasible' if diag.smote_ok else 'NOT feasible'}; "
        f"{diag.anomaly_note}; baseline ROC-AUC {diag.roc_auc:.3f} vs PR-AUC {diag.pr_auc:.3f} "
        f"(chance {diag.prevalence:.3f})"
    )
    _advice_verdict(result)
    console.print(f"rule: {result.rule}")
    console.print(
        table(
            f"playbook path on {result.metric}",
            STEP_COLUMNS,
            step_rows(result),
            left=tuple(STEP_COLUMNS),
        )
    )
    title = f"every candidate: {result.metric} over all outer folds, Brier, ECE"
    console.print(
        table(title, CANDIDATE_COLUMNS, candidate_rows(result), left=tuple(CANDIDATE_COLUMNS))
    )
    console.print("the evidence, step by step, is above; the verdict again:")
    _advice_verdict(result)


def _advice_verdict(result: Any) -> None:
    """The answer of ``advise`` in words: what to use, at which threshold, and the
    honest estimate of the procedure that chose it."""
    from imbench.advise import estimate_line

    q25, q50, q75 = result.threshold
    usable = "usable as probabilities" if result.calibrated_enough else "not calibrated"
    console.print(
        f"[bold green]verdict: use {result.recommendation}[/] at threshold {q50:.3f} "
        f"(folds {q25:.3f}-{q75:.3f}); ECE {result.ece:.3f}, Brier {result.brier:.3f}: {usable}"
    )
    console.print(f"for probabilities: {result.probabilities} (the calibration step, on Brier)")
    console.print(estimate_line(result))


def print_audit(result: Any, strategy: str, classifier: str) -> None:
    """``imbench audit``: each protocol's scores and its optimism over honest."""
    from imbench.audit import AUDIT_METRICS

    title = (
        f"audit: {result.dataset} ({result.n_rows} rows, {result.n_minority} minority, "
        f"ratio={result.ratio}), {strategy}, {classifier}: mean over outer folds (optimism "
        "vs honest)"
    )
    rows = []
    for row in result.frame.to_dict("records"):
        cells = [
            "n/a" if math.isnan(row[m]) else f"{row[m]:.3f} ({row[m + '_optimism']:+.3f})"
            for m in AUDIT_METRICS
        ]
        rows.append([row["protocol"], *cells, row["note"]])
    columns = ("protocol", *AUDIT_METRICS, "note")
    console.print(table(title, columns, rows, left=("protocol", "note")))


def print_checks(kind: str, name: str, checks: list[Any], setup: str) -> None:
    """``imbench check``: each contract check with its result."""
    out = Table(title=f"{kind} {name}: {setup}")
    for col in ("check", "result", "detail"):
        out.add_column(col, overflow="fold")
    marks = {True: "[green]ok[/]", False: "[bold red]FAIL[/]", None: "[yellow]n/a[/]"}
    for c in checks:
        out.add_row(c.name, marks[c.ok], escape(c.detail))
    console.print(out)
