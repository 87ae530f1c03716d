"""Ratings and regimes on the terminal: the answer first, then the tables."""

from __future__ import annotations

import math
from typing import Any

from rich.markup import escape

from imbench.cli.app import console
from imbench.cli.render import table

_QUESTION = {"pr_auc": "ranking", "roc_auc": "ranking", "brier": "probabilities",
             "ece": "probabilities", "log_loss": "probabilities"}  # fmt: skip


def question(metric: str) -> str:
    return _QUESTION.get(metric, "decisions")


def _rated(row: Any) -> str:
    if math.isnan(row.rating):
        return "-"
    if math.isnan(row.lo):
        return f"{row.rating:.0f}"
    return f"{row.rating:.0f} [{row.lo:.0f}, {row.hi:.0f}]"


def _name(row: Any) -> str:
    return f"{row.strategy} (= {row.same_as})" if row.same_as else str(row.strategy)


def distinct(frame: Any, anchor: str | None = None) -> Any:
    """One row per group of strategies with identical scores: the anchor stands for its
    group, otherwise the first by rating and name."""
    rows = list(frame.itertuples(index=False))
    with_anchor = next((r for r in rows if r.strategy == anchor), None)
    grouped = {anchor, *[s for s in with_anchor.same_as.split(", ") if s]} if with_anchor else set()
    seen: set[str] = set()
    keep = []
    for row in rows:
        if row.strategy in seen:
            continue
        if row.strategy in grouped and with_anchor is not None:
            row = with_anchor
        seen.update([row.strategy, *[s for s in row.same_as.split(", ") if s]])
        keep.append(row)
    return keep


def leaders(r: Any, anchor: str, n: int = 3) -> list[Any]:
    """The top ``n`` distinct strategies whose interval lies above the anchor's 1000."""
    return [row for row in distinct(r.table, anchor) if row.strategy != anchor and row.lo > 1000][
        :n
    ]


def answer_line(r: Any) -> str:
    """One sentence: who is rated above the anchor with an interval clear of it."""
    top = leaders(r, r.anchor)
    if not top:
        return (
            f"no strategy is rated above {r.anchor} with a 95 % interval clear of it ({r.n_text})"
        )
    names = "; ".join(f"{escape(_name(row))} {_rated(row)}" for row in top)
    return f"rated above {r.anchor} (= 1000): {names} ({r.n_text})"


def print_ratings(ratings: list[Any], *, top: int = 10, matrix: int = 6) -> None:
    """Per metric x classifier: the answer, the ratings, the win-rate matrix, stability."""
    if not ratings:
        console.print("no ratings: no classifier block holds the anchor strategy")
        return
    console.print(
        "[bold]answer[/] (Bradley-Terry ratings, Elo scale, anchored at "
        f"{ratings[0].anchor} = 1000; 95 % intervals: bootstrap over families):",
        highlight=False,
    )
    for r in ratings:
        console.print(f"  {question(r.metric)} ({r.metric}), {r.classifier}: {answer_line(r)}",
                      highlight=False)  # fmt: skip
    for r in ratings:
        rows = distinct(r.table, r.anchor)
        shown = rows[:top] + [row for row in rows[top:] if row.strategy == r.anchor]
        console.print(
            table(
                f"{r.metric}, {r.classifier}: {r.n_text}",
                ["strategy", "rating [95% CI]", "P(beats " + r.anchor + ")", "win rate", "blocks"],
                [
                    [
                        escape(_name(row)),
                        _rated(row),
                        f"{row.p_beats_anchor:.2f}",
                        f"{row.win_rate_vs_anchor:.2f}"
                        if not math.isnan(row.win_rate_vs_anchor)
                        else "-",
                        str(row.blocks),
                    ]  # fmt: skip
                    for row in shown
                ],
                left=("strategy",),
            )
        )
        if len(rows) > len(shown):
            console.print(f"  ({len(rows) - len(shown)} more: --top {len(rows)})")
        names = [row.strategy for row in rows[:matrix]]
        if len(names) >= 2:
            wr = r.win_rate.loc[names, names]
            console.print(
                table(
                    f"win rate: row beats column ({r.metric}, {r.classifier})",
                    ["", *names],
                    [
                        [n, *("" if a == n else f"{wr.loc[n, a]:.2f}" for a in names)]
                        for n in names
                    ],  # fmt: skip
                    left=("",),
                )
            )
        console.print(f"  stability: {stability_line(r)}", highlight=False)


def stability_line(r: Any) -> str:
    from imbench.ratings import families_needed

    s = r.stability
    parts = []
    if "split_half_tau" in s:
        parts.append(
            f"two random halves of the families rank alike to Kendall tau "
            f"{s['split_half_tau']:.2f} (5-95 %: {s['split_half_tau_p05']:.2f} to "
            f"{s['split_half_tau_p95']:.2f})"
        )
    if r.curve:
        curve = ", ".join(f"{m} families: {t:.2f}" for m, t in r.curve)
        need = families_needed(r.curve)
        parts.append(
            f"two disjoint samples agree to tau {curve}; "
            + (f"tau >= 0.8 from {need} families" if need else "tau 0.8 not reached")
        )
    if "seed_tau" in s:
        parts.append(f"single seeds agree to tau {s['seed_tau']:.2f}")
    return "; ".join(parts) or "too few families to measure"


def print_regimes(answers: list[Any], *, by: str, metric: str, anchor: str) -> None:
    """The answer by regime: per band its N and each classifier's leaders."""
    if not answers:
        console.print(f"no regimes: no scored cells to band by {by}")
        return
    classifiers = sorted({c for a in answers for c in a.ratings})
    console.print(
        f"[bold]answer by {by}[/] ({question(metric)}: {metric}; strategies rated above "
        f"{anchor} = 1000 with a 95 % family-bootstrap interval clear of it; bands from "
        "the data):",
        highlight=False,
    )
    rows = []
    for a in answers:
        cells = []
        for clf in classifiers:
            r = a.ratings.get(clf)
            top = leaders(r, anchor, 2) if r else []
            cells.append("; ".join(f"{escape(row.strategy)} {_rated(row)}" for row in top)
                         or (f"no strategy above {anchor}" if r else "-"))  # fmt: skip
        rows.append([escape(a.label), f"{a.n_datasets} / {a.n_families}", *cells])
    console.print(
        table(
            f"by {by}: N = datasets / families per band",
            [by, "N", *classifiers],
            rows,
            left=(by, *classifiers),
        )
    )
