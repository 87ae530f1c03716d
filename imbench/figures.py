"""Figures of a sweep as PNG bytes (matplotlib, no display needed).

Every function takes frames from the store and returns ``(title, png_bytes)``
pairs, so the report embeds them and MLflow logs the same images.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scikit_posthocs as sp  # noqa: E402

from imbench.calibration import N_BINS  # noqa: E402
from imbench.leaderboard import per_dataset, ratio_key  # noqa: E402
from imbench.metrics import LOWER_IS_BETTER  # noqa: E402
from imbench.stats import Block  # noqa: E402
from imbench.strategies import parse_strategy  # noqa: E402

Figure = tuple[str, bytes]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


_MARKERS = "osD^v<>Pp*Xh"
_LINES = ("-", "--", ":", "-.")


def style(i: int) -> dict[str, Any]:
    """A distinct look for the i-th strategy: 20 colours (tab20) x markers x line styles,
    so 14 or 30 strategies never share a look (matplotlib's default cycle has 10)."""
    colours = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]  # a ListedColormap
    return {
        "color": colours[i % 20],
        "marker": _MARKERS[i % len(_MARKERS)],
        "linestyle": _LINES[(i // 20) % len(_LINES)],
    }


def ratio_order(labels: list[str]) -> list[str]:
    """``native`` first, then target ratios ascending."""
    return sorted(set(labels), key=ratio_key)


def cd_title(metric: str, classifier: str, ratio: str, n: int | None = None) -> str:
    over = f" over {n} datasets" if n else ""
    return (
        f"Mean rank of each strategy on {metric}{over} ({classifier}, ratio {ratio}); "
        "a bar joins strategies the Nemenyi test cannot tell apart"
    )


def cd_diagram(block: Block) -> Figure | None:
    """Critical-difference diagram: mean ranks, bars join strategies Nemenyi cannot split."""
    n, k = block.scores.shape
    if n < 3 or k < 3:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * k + 1.2))
    sp.critical_difference_diagram(block.mean_ranks, block.nemenyi, ax=ax)
    title = cd_title(block.metric, block.classifier, block.imbalance_ratio, n)
    ax.set_title(title, fontsize=9)
    return title, _png(fig)


def _end_labels(ax: Any, x: float, ends: dict[float, list[tuple[str, int]]]) -> None:
    """Direct labels at the lines' right ends, spread apart so that none overlaps
    (each joined to its line's end by a thin leader); lines ending on one value
    share a label."""
    if not ends:
        return
    low, high = ax.get_ylim()
    gap = (high - low) * 0.04
    placed: list[float] = []
    for value in sorted(ends):
        placed.append(max(value, placed[-1] + gap) if placed else value)
    # centre the spread labels on the ends they label, inside the axes
    shift = (np.mean(sorted(ends)) - np.mean(placed)) if len(placed) > 1 else 0.0
    placed = [min(max(y + shift, low), high) for y in placed]
    for value, y in zip(sorted(ends), placed, strict=True):
        names = ends[value]
        ax.annotate(
            ", ".join(n for n, _ in names),
            xy=(x, value),
            xytext=(x + 0.25, y),
            fontsize=6,
            va="center",
            color=style(names[0][1])["color"],
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.6"},
        )


def ratio_curves(folds: pd.DataFrame, metric: str) -> list[Figure]:
    """Mean metric over datasets against the target imbalance ratio, one line per strategy."""
    scores = per_dataset(folds)
    out = []
    for clf, group in scores.groupby("classifier", sort=True):
        order = ratio_order(group["imbalance_ratio"].tolist())
        table = group.pivot_table(index="imbalance_ratio", columns="strategy", values=metric)
        table = table.reindex(order)
        fig, ax = plt.subplots(figsize=(9, 5))
        last = len(order) - 1
        ends: dict[float, list[tuple[str, int]]] = {}
        for i, strategy in enumerate(table.columns):
            ax.plot(range(len(order)), table[strategy], label=strategy, **style(i))
            end = table[strategy].iloc[-1]
            if np.isfinite(end):  # strategies ending on the same value share one label
                ends.setdefault(round(float(end), 4), []).append((strategy, i))
        _end_labels(ax, last, ends)
        ax.set_xticks(range(len(order)), order)
        ax.set_xlim(-0.2, last + 0.8)
        ax.set_xlabel("imbalance ratio (majority:minority; native = as shipped)")
        direction = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
        ax.set_ylabel(f"mean {metric} over datasets ({direction})")
        ax.legend(fontsize=7, ncol=2, loc="best")
        title = f"Mean {metric} of each strategy as the imbalance grows, for {clf}"
        ax.set_title(title, fontsize=10)
        out.append((title, _png(fig)))
    return out


def heatmap(folds: pd.DataFrame, metric: str, baseline: str = "none") -> list[Figure]:
    """Strategy x dataset, per classifier and ratio. Absolute scores mostly show how hard
    each dataset is; so each cell is the strategy's difference to ``baseline`` on that
    dataset (better = warm, whatever the metric's direction), or, without the baseline
    in a block, the strategy's rank on that dataset."""
    scores = per_dataset(folds)
    out = []
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    for (clf, ir), group in scores.groupby(["classifier", "imbalance_ratio"], sort=True):
        table = group.pivot_table(index="strategy", columns="dataset", values=metric)
        fig, ax = plt.subplots(
            figsize=(max(5, 0.55 * table.shape[1] + 3), max(3, 0.32 * table.shape[0] + 1.5))
        )
        if baseline in table.index:
            values = sign * (table - table.loc[baseline])
            lim = float(np.nanmax(np.abs(values.to_numpy(dtype=float)))) or 1.0
            im = ax.imshow(
                values.to_numpy(dtype=float), aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim
            )
            label = f"{metric} gain over {baseline} (> 0: better)"
            what = f"how much each strategy gains over {baseline}"
        else:
            ranks = table.rank(axis=0, ascending=metric in LOWER_IS_BETTER)
            im = ax.imshow(ranks.to_numpy(dtype=float), aspect="auto", cmap="viridis_r")
            label = f"rank on {metric} (1 = best)"
            what = "each strategy's rank"
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(table.shape[0]), table.index, fontsize=7)
        fig.colorbar(im, ax=ax, label=label)
        title = f"On each dataset, {what} on {metric}: {clf}, ratio {ir}"
        ax.set_title(title, fontsize=9)
        out.append((title, _png(fig)))
    return out


def pooled_reliability(folds: pd.DataFrame) -> pd.DataFrame:
    """Per strategy x classifier: pooled mean predicted and observed rate per bin."""
    rows = []
    for (strategy, clf), group in folds.groupby(["strategy", "classifier"], sort=True):
        if "rel_count" not in group or group["rel_count"].isna().any():
            continue
        count = np.sum(np.stack(group["rel_count"].to_numpy()), axis=0)
        proba = np.sum(np.stack(group["rel_sum_proba"].to_numpy()), axis=0)
        pos = np.sum(np.stack(group["rel_sum_pos"].to_numpy()), axis=0)
        for b in range(N_BINS):
            if count[b] > 0:
                rows.append(
                    {
                        "strategy": strategy,
                        "classifier": clf,
                        "bin": b,
                        "count": count[b],
                        "mean_predicted": proba[b] / count[b],
                        "observed_rate": pos[b] / count[b],
                    }
                )
    return pd.DataFrame(rows)


def reliability(folds: pd.DataFrame) -> list[Figure]:
    """Reliability diagram per classifier: observed minority rate vs mean predicted."""
    # +threshold variants share their probabilities with the untuned strategy
    tuned = folds["strategy"].map(lambda s: parse_strategy(s, strict=False).tune_threshold)
    pooled = pooled_reliability(folds[~tuned])
    out: list[tuple[str, bytes]] = []
    if pooled.empty:
        return out
    for clf, group in pooled.groupby("classifier", sort=True):
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
        for i, (strategy, g) in enumerate(group.groupby("strategy", sort=True)):
            ax.plot(g["mean_predicted"], g["observed_rate"], label=strategy, **style(i))
        ax.set_xlabel("mean predicted probability of the minority class")
        ax.set_ylabel("observed minority rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, ncol=2)
        title = f"Do predicted probabilities match observed rates? {clf}, pooled outer test folds"
        ax.set_title(title, fontsize=10)
        out.append((title, _png(fig)))
    return out


def decision_curves(curves: pd.DataFrame) -> list[Figure]:
    """Net benefit against the threshold probability, one panel per classifier x ratio,
    with treat-all and treat-none for reference (``imbench.decision``)."""
    out: list[Figure] = []
    if curves.empty:
        return out
    for (clf, ir), group in curves.groupby(["classifier", "imbalance_ratio"], sort=True):
        fig, ax = plt.subplots(figsize=(8, 5))
        top = 0.0
        for i, (strategy, g) in enumerate(group.groupby("strategy", sort=True)):
            ax.plot(g["threshold"], g["net_benefit"], label=strategy, **style(i))
            top = max(top, float(g["net_benefit"].max()))
        everyone = group.drop_duplicates("threshold")
        ax.plot(
            everyone["threshold"],
            everyone["treat_all"],
            color="grey",
            linestyle="--",
            label="treat all",
        )
        ax.axhline(0.0, color="black", linewidth=0.8, label="treat none")
        ax.set_ylim(-0.05 * max(top, 0.01), top * 1.1 + 1e-3)
        ax.set_xlabel("threshold probability pt (a false alarm costs pt/(1-pt) of a caught row)")
        ax.set_ylabel("net benefit, mean over datasets")
        ax.legend(fontsize=7, ncol=2)
        n = int(group["n_datasets"].max())
        title = f"Decision curves: net benefit of acting on each strategy, {clf}, ratio {ir}"
        ax.set_title(f"{title} (N={n})", fontsize=10)
        out.append((title, _png(fig)))
    return out
