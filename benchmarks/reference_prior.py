"""advise's prior, judged as a model selection: leave one family of the reference out.

    python benchmarks/reference_prior.py        # on results/field: docs/reference-prior.md
    python benchmarks/reference_prior.py --sweep reference --out /tmp/reference-prior.md

`imbench advise` opens with what the reference rates best in each regime band the
user's data falls in. That pick is a model selection, so it is judged on data it
did not see: each family of the reference is held out in turn, the bands and the
ratings are fitted on the other families, and each held-out dataset (at native
imbalance) is scored with its band's pick on its own results. Per classifier,
metric and regime (`all`: no regime, one pick from every other family) the page
gives N, how often the pick beats `none` and is the dataset's best strategy, the
mean gain over `none` with a 95 % bootstrap interval over families, and the mean
regret to the dataset's best strategy (an oracle no selection can reach).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REGIMES = ["all", "ir", "rows", "minority", "features"]


def family_interval(frame: pd.DataFrame, column: str, draws: int = 1000) -> tuple[float, float]:
    """95 % bootstrap interval of the mean of ``column``, resampling families."""
    rng = np.random.default_rng(0)
    groups = [g[column].to_numpy(float) for _, g in frame.groupby("family")]
    means = []
    for _ in range(draws):
        pick = rng.integers(0, len(groups), len(groups))
        means.append(np.concatenate([groups[i] for i in pick]).mean())
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> int:
    from imbench.reference_prior import held_out_picks
    from imbench.results import LOWER_IS_BETTER, SweepFolder
    from imbench.verdict import decision_metric

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", default="field")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reference-prior.md")
    args = parser.parse_args()

    started = time.perf_counter()
    folder = SweepFolder(args.results / args.sweep)
    folds, cells = folder.read_folds(), folder.read_cells()
    protocol = folder.read_config().get("protocol", {})
    metrics = ["pr_auc", decision_metric(protocol.get("threshold_objective", "f1")), "brier"]
    rows = []
    for clf in sorted(folds["classifier"].unique()):
        for metric in metrics:
            for by in REGIMES:
                held = held_out_picks(folds, cells, metric=metric, classifier=clf, by=by)
                if held.empty:
                    continue
                sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
                held["gain"] = sign * (held["pick_score"] - held["anchor_score"])
                held["regret"] = sign * (held["best_score"] - held["pick_score"])
                lo, hi = family_interval(held, "gain")
                rows.append({
                    "classifier": clf, "metric": metric, "regime": by,
                    "datasets": len(held), "families": held["family"].nunique(),
                    "picks": ", ".join(held["pick"].value_counts().index[:3]),
                    "beats_none": float((held["gain"] > 1e-12).mean()),
                    "is_best": float(held["pick_is_best"].mean()),
                    "gain": float(held["gain"].mean()), "gain_lo": lo, "gain_hi": hi,
                    "regret": float(held["regret"].mean()),
                })  # fmt: skip
                print(f"{clf} {metric} {by}: N={len(held)} gain {rows[-1]['gain']:+.4f} "
                      f"[{lo:+.4f}, {hi:+.4f}]", flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    wall = time.perf_counter() - started
    write_page(args.out, table, args.sweep, wall)
    print(f"wrote {args.out} ({wall:.0f} s)")
    return 0


def write_page(path: Path, table: pd.DataFrame, sweep: str, wall: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        "# advise's prior, held out by family",
        "",
        f"Written by `python benchmarks/reference_prior.py` on {stamp} from `results/{sweep}` "
        f"({wall:.0f} s); rerun it after a new piece of the sweep lands.",
        "",
        "`imbench advise` opens with the reference's pick in each regime band the data",
        "falls in. Here that pick is judged on data it did not see: each family is held",
        "out in turn, bands and ratings are fitted on the other families, and each",
        "held-out dataset (native imbalance) is scored with its band's pick on its own",
        "results. *gain*: the pick's metric minus `none`'s (sign-flipped for Brier, so",
        "higher is better everywhere), mean over held-out datasets with a 95 % bootstrap",
        "interval over families; *beats none* and *is best*: shares of held-out",
        "datasets; *regret*: the mean distance to the dataset's best strategy, which",
        "only an oracle picks. Regime `all` is one pick from every other family; a",
        "regime earns its place only where it beats that row.",
        "",
        "| classifier | metric | regime | N (datasets / families) | usual picks | beats none "
        "| is best | gain [95 % CI] | regret |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for r in table.itertuples():
        lines.append(
            f"| {r.classifier} | {r.metric} | {r.regime} | {r.datasets} / {r.families} | "
            f"{r.picks} | {r.beats_none:.2f} | {r.is_best:.2f} | {r.gain:+.4f} "
            f"[{r.gain_lo:+.4f}, {r.gain_hi:+.4f}] | {r.regret:.4f} |"
        )
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
