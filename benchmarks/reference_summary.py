"""Print what the reference benchmark shows, from its committed files.

    python benchmarks/reference_summary.py [results/reference]

1. per metric x classifier x ratio: N, Friedman p, Nemenyi CD and the five
   best strategies by mean rank among all strategies (stats.parquet);
2. the playbook's questions as planned paired comparisons: per question, the
   datasets where both strategies ran, mean difference, wins/ties/losses and a
   Wilcoxon signed-rank p with Holm's correction over the questions of the same
   metric x classifier x ratio (folds.parquet). Holm over all 435 pairs of 30
   strategies (stats.parquet's wilcoxon_holm) is the right correction for
   "which pairs differ at all", and too blunt for a handful of questions asked
   in advance;
3. calibration: mean ECE per strategy (leaderboard.parquet).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from scipy.stats import wilcoxon
from statsmodels.stats.multitest import multipletests

from imbench.leaderboard import per_dataset
from imbench.metrics import LOWER_IS_BETTER

QUESTIONS = {
    "class weights vs none": ("none", "balanced"),
    "threshold vs none": ("none", "threshold"),
    "threshold on top of class weights": ("balanced", "balanced+threshold"),
    "SMOTE vs class weights": ("balanced", "smote"),
    "SMOTE+threshold vs class weights+threshold": ("balanced+threshold", "smote+threshold"),
    "SMOTEENN vs SMOTE": ("smote", "smoteenn"),
    "SMOTETomek vs SMOTE": ("smote", "smotetomek"),
    "EasyEnsemble vs class weights": ("balanced", "easy_ensemble"),
    "undersampling vs class weights": ("balanced", "rus"),
}
METRICS = ("mcc", "f1", "pr_auc", "brier")
TIE = 1e-12  # per-dataset differences smaller than this are ties
ECE_STRATEGIES = (
    "none",
    "calibrated",
    "balanced",
    "balanced+calibrated",
    "ros",
    "ros+calibrated",
    "smote",
    "smote+calibrated",
    "rus",
    "rus+calibrated",
)


def leaders(stats: pd.DataFrame) -> None:
    for metric in METRICS:
        s = stats[stats["metric"] == metric]
        if s.empty:
            continue
        print(f"\n=== {metric}: best by mean rank among all strategies ===")
        for (clf, ir), block in s.groupby(["classifier", "imbalance_ratio"], sort=True):
            ranks = block[block["test"] == "rank"].sort_values("mean_rank")
            fried = block[block["test"] == "friedman"]
            p = f"{fried['p_value'].iloc[0]:.2g}" if len(fried) else "n/a"
            top = ", ".join(
                f"{r.strategy} {r.mean_rank:.1f} ({r.mean:.3f})" for r in ranks.head(5).itertuples()
            )
            n, cd = int(ranks["n_datasets"].iloc[0]), ranks["critical_difference"].iloc[0]
            print(f"{clf:>4} {ir:>6} N={n:<3} Friedman p={p:<8} CD={cd:.1f}: {top}")


def planned(folds: pd.DataFrame) -> pd.DataFrame:
    """The playbook's questions, each on the datasets where both strategies ran."""
    scores = per_dataset(folds)
    rows = []
    for metric in METRICS:
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        for (clf, ir), group in scores.groupby(["classifier", "imbalance_ratio"], sort=True):
            wide = group.pivot_table(index="dataset", columns="strategy", values=metric)
            block = []
            for question, (a, b) in QUESTIONS.items():
                if a not in wide or b not in wide:
                    continue
                pair = wide[[a, b]].dropna()
                diff = sign * (pair[b] - pair[a])  # > 0: b is better
                better, worse = diff > TIE, diff < -TIE
                nonzero = diff[better | worse]
                p = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 5 else 1.0
                block.append(
                    dict(
                        metric=metric,
                        classifier=clf,
                        ratio=ir,
                        question=question,
                        n=len(pair),
                        a=pair[a].mean(),
                        b=pair[b].mean(),
                        wins=int(better.sum()),
                        ties=len(pair) - len(nonzero),
                        losses=int(worse.sum()),
                        p=p,
                    )
                )
            if block:
                adjusted = multipletests([r["p"] for r in block], method="holm")[1]
                for r, q in zip(block, adjusted, strict=True):
                    r["p_holm"] = float(q)
                rows.extend(block)
    return pd.DataFrame(rows)


def main(root: Path) -> None:
    pd.set_option("display.width", 220)
    pd.set_option("display.max_rows", 500)
    leaders(pd.read_parquet(root / "stats.parquet"))
    if (root / "folds.parquet").exists():
        table = planned(pd.read_parquet(root / "folds.parquet"))
        print("\n=== the playbook's questions (b vs a; wins = datasets where b is better) ===")
        for (metric, clf), t in table.groupby(["metric", "classifier"], sort=False):
            print(f"\n{metric} / {clf}")
            t = t.assign(
                **{"a -> b": t["a"].map("{:.3f}".format) + " -> " + t["b"].map("{:.3f}".format)}
            )
            t["w/t/l"] = t[["wins", "ties", "losses"]].astype(str).agg("/".join, axis=1)
            print(
                t[["ratio", "question", "n", "a -> b", "w/t/l", "p_holm"]]
                .round(4)
                .to_string(index=False)
            )
    board = pd.read_parquet(root / "leaderboard.parquet")
    cal = board[board["strategy"].isin(ECE_STRATEGIES)]
    print("\n=== calibration: mean ECE over datasets ===")
    print(
        cal.pivot_table(
            index="strategy", columns=["classifier", "imbalance_ratio"], values="ece_mean"
        )
        .reindex(ECE_STRATEGIES)
        .round(3)
        .to_string()
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/reference"))
