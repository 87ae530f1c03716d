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

Beside it, the full playbook: `advise`'s steps (class weights, threshold,
resampling, each kept only if the corrected t-test says it pays) replayed on each
held-out dataset's own outer folds in the sweep (`imbench.advise.playbook_choice`),
and how often the prior's pick is the playbook's.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


# the sweep's fold metric -> the advise metric whose playbook it replays
PLAYBOOK_METRIC = {"pr_auc": "pr_auc", "f1": "fbeta", "mcc": "mcc", "expected_cost": "cost"}


def playbook_picks(folds: pd.DataFrame, classifier: str, metric: str) -> dict[str, str]:
    """Per dataset at native imbalance: the playbook's pick replayed on its outer folds."""
    from imbench.advise import playbook_choice

    sub = folds[(folds["classifier"] == classifier) & (folds["imbalance_ratio"] == "native")]
    picks = {}
    for name, g in sub.groupby("dataset", observed=True):
        wide = g.pivot_table(index=["seed", "fold"], columns="strategy", values=metric,
                             observed=True).dropna(axis=1)  # fmt: skip
        if "none" not in wide:
            continue
        share = float((g["n_test"] / (g["n_train"] + g["n_test"])).mean())
        picks[str(name)] = playbook_choice(
            {str(c): wide[c].to_numpy() for c in wide.columns}, PLAYBOOK_METRIC[metric],
            test_share=share, resampler="smote" if "smote" in wide else "ros",
        )  # fmt: skip
    return picks


def main() -> int:
    from imbench.reference_prior import held_out_picks
    from imbench.results import SweepFolder
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
            playbook = playbook_picks(folds, clf, metric) if metric in PLAYBOOK_METRIC else {}
            for by in REGIMES:
                held = held_out_picks(folds, cells, metric=metric, classifier=clf, by=by)
                if held.empty:
                    continue
                held["playbook"] = held["dataset"].map(playbook)
                # held_out_picks' scores are higher-is-better already (-Brier)
                held["gain"] = held["pick_score"] - held["anchor_score"]
                held["regret"] = held["best_score"] - held["pick_score"]
                lo, hi = family_interval(held, "gain")
                rows.append({
                    "classifier": clf, "metric": metric, "regime": by,
                    "datasets": len(held), "families": held["family"].nunique(),
                    "not_ran": int((~held["pick_ran"]).sum()),
                    "picks": ", ".join(held["pick"].value_counts().index[:3]),
                    "beats_none": float((held["gain"] > 1e-12).mean()),
                    "is_best": float(held["pick_is_best"].mean()),
                    "gain": float(held["gain"].mean()), "gain_lo": lo, "gain_hi": hi,
                    "regret": float(held["regret"].mean()),
                    "playbook_n": int(held["playbook"].notna().sum()),
                    "agrees": float((held["pick"] == held["playbook"])[held["playbook"].notna()]
                                    .mean()) if held["playbook"].notna().any() else np.nan,
                    "playbook_picks": ", ".join(held["playbook"].value_counts().index[:3]),
                })  # fmt: skip
                print(f"{clf} {metric} {by}: N={len(held)} gain {rows[-1]['gain']:+.4f} "
                      f"[{lo:+.4f}, {hi:+.4f}]", flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    wall = time.perf_counter() - started
    write_page(args.out, table, args.sweep, wall)
    print(f"wrote {args.out} ({wall:.0f} s)")
    return 0


def _ci(r: Any) -> str:
    return f"{r.gain:+.4f} [{r.gain_lo:+.4f}, {r.gain_hi:+.4f}]"


def verdict(table: pd.DataFrame) -> list[str]:
    """One line per classifier x metric, from the table: what the held-out pick from
    every other family (`all`) gains over `none`, and whether a regime beats that."""
    lines = []
    for (clf, metric), g in table.groupby(["classifier", "metric"], sort=True):
        base = g[g["regime"] == "all"]
        if base.empty:
            continue
        a = next(base.itertuples())
        if a.gain_lo > 0:
            head = (f"the pick (usually {a.picks}) beats `none` on {a.beats_none:.0%} of "
                    f"held-out datasets, gain {_ci(a)}")  # fmt: skip
        elif a.picks == "none":
            head = "the pick is `none`: the reference has nothing to add on this metric"
        else:
            head = f"the pick (usually {a.picks}) gains {_ci(a)}, not clear of zero"
        rest = g[g["regime"] != "all"].sort_values("gain", ascending=False)
        if rest.empty:
            tail = ""
        else:
            b = next(rest.itertuples())
            if b.gain <= a.gain + 1e-12:
                tail = f"; no regime beats that (best: {b.regime}, {_ci(b)})"
            elif b.gain_lo > a.gain_hi:
                tail = f"; the {b.regime} regime beats it clearly, {_ci(b)}"
            else:
                tail = (f"; the {b.regime} regime beats it by its mean only, {_ci(b)} "
                        "(the intervals overlap)")  # fmt: skip
        if a.playbook_n:
            tail += (f"; the playbook makes the `all` pick's choice on {a.agrees:.0%} of "
                     f"{a.playbook_n}")  # fmt: skip
        lines.append(f"- **{clf}, {metric}** (N {a.datasets} / {a.families}): {head}{tail}.")
    return lines


def write_page(path: Path, table: pd.DataFrame, sweep: str, wall: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        "# advise's prior, held out by family",
        "",
        f"Written by `python benchmarks/reference_prior.py` on {stamp} from `results/{sweep}` "
        f"({wall:.0f} s); rerun it after a new piece of the sweep lands.",
        "",
        "## The answer",
        "",
        *verdict(table),
        "",
        "## How it is judged",
        "",
        "`imbench advise` opens with the reference's pick in each regime band the data",
        "falls in. Here that pick is judged on data it did not see: each family is held",
        "out in turn, bands and ratings are fitted on the other families, and each",
        "held-out dataset (native imbalance) is scored with its band's pick on its own",
        "results. *gain*: the pick's metric minus `none`'s (sign-flipped for Brier, so",
        "higher is better everywhere), mean over held-out datasets with a 95 % bootstrap",
        "interval over families; *beats none* and *is best*: shares of held-out",
        "datasets; *pick skipped*: held-out datasets where the pick could not run (it is",
        "scored as `none` there, what its user falls back to; those datasets stay in N);",
        "*regret*: the mean distance to the dataset's best strategy, which",
        "only an oracle picks. Regime `all` is one pick from every other family; a",
        "regime earns its place only where it beats that row.",
        "",
        "*= playbook*: the share of held-out datasets where the pick is what `advise`'s",
        "playbook (class weights, then threshold, then SMOTE or random oversampling, each",
        "kept only when the corrected t-test over the 5 × 3 outer folds says it pays)",
        "chooses when replayed on that dataset's folds in the sweep; the playbook reaches",
        "only those strategies, the prior any of the sweep's. Not for Brier: the sweep",
        "has no calibrated cells to replay its calibration step on.",
        "",
        "| classifier | metric | regime | N (datasets / families) | usual picks | pick skipped "
        "| beats none | is best | gain [95 % CI] | regret | = playbook (N) "
        "| playbook's usual picks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for r in table.itertuples():
        lines.append(
            f"| {r.classifier} | {r.metric} | {r.regime} | {r.datasets} / {r.families} | "
            f"{r.picks} | {r.not_ran} | {r.beats_none:.2f} | {r.is_best:.2f} | {r.gain:+.4f} "
            f"[{r.gain_lo:+.4f}, {r.gain_hi:+.4f}] | {r.regret:.4f} | "
            + (f"{r.agrees:.2f} ({r.playbook_n}) | {r.playbook_picks} |" if r.playbook_n else
               "– | – |")
        )  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
