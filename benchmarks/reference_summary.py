"""Print what the reference benchmark shows, from its committed files.

    python benchmarks/reference_summary.py [results/reference]

Reads folds-free outputs only (leaderboard.parquet, stats.parquet), so it runs
on the committed results without the raw folds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

QUESTIONS = {
    "class weights vs SMOTE": ("balanced", "smote"),
    "threshold on top of none": ("none", "threshold"),
    "threshold on top of class weights": ("balanced", "balanced+threshold"),
    "threshold on top of SMOTE": ("smote", "smote+threshold"),
    "SMOTE+threshold vs class weights+threshold": ("balanced+threshold", "smote+threshold"),
}


def main(root: Path) -> None:
    board = pd.read_parquet(root / "leaderboard.parquet")
    stats = pd.read_parquet(root / "stats.parquet")
    pd.set_option("display.width", 200)
    for metric in sorted(stats["metric"].unique()):
        s = stats[stats["metric"] == metric]
        print(f"\n=== {metric} ===")
        for (clf, ir), block in s.groupby(["classifier", "imbalance_ratio"], sort=True):
            ranks = block[block["test"] == "rank"].sort_values("mean_rank")
            fried = block[block["test"] == "friedman"]
            n = int(ranks["n_datasets"].iloc[0])
            p = f"{fried['p_value'].iloc[0]:.2g}" if len(fried) else "n/a"
            top = ", ".join(
                f"{r.strategy} ({r.mean_rank:.1f}, {r.mean:.3f})"
                for r in ranks.head(5).itertuples()
            )
            bottom = ", ".join(
                f"{r.strategy} ({r.mean_rank:.1f})" for r in ranks.tail(3).itertuples()
            )
            cd = ranks["critical_difference"].iloc[0]
            print(f"{clf} ratio={ir} N={n} Friedman p={p} CD={cd:.2f}")
            print(f"  best: {top}\n  worst: {bottom}")
            wil = block[block["test"] == "wilcoxon_holm"]
            for question, (a, b) in QUESTIONS.items():
                row = wil[
                    ((wil["strategy"] == a) & (wil["other"] == b))
                    | ((wil["strategy"] == b) & (wil["other"] == a))
                ]
                if row.empty or a not in set(ranks["strategy"]) or b not in set(ranks["strategy"]):
                    continue
                ma = ranks.set_index("strategy").loc[a, "mean"]
                mb = ranks.set_index("strategy").loc[b, "mean"]
                print(f"  {question}: {ma:.3f} -> {mb:.3f} (Holm p={row['p_value'].iloc[0]:.2g})")
    cal = board[
        board["strategy"].isin(
            [
                "none",
                "balanced",
                "smote",
                "rus",
                "ros",
                "smote+calibrated",
                "calibrated",
                "balanced+calibrated",
                "rus+calibrated",
                "ros+calibrated",
            ]
        )
    ]
    print("\n=== calibration (mean over datasets) ===")
    print(
        cal.pivot_table(
            index="strategy", columns=["classifier", "imbalance_ratio"], values="ece_mean"
        )
        .round(3)
        .to_string()
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/reference"))
