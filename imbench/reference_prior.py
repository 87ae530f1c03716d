"""What a reference sweep says about data like yours: the prior ``advise`` starts from.

The user's data is placed in the reference's regime bands (``regimes``: imbalance
ratio, rows, minority rows, features, bands chosen from the reference's own data),
and in each band the strategies are rated on the reference's datasets there
(``ratings``: Bradley-Terry, anchored at ``none``, intervals from a bootstrap over
families). A band's *pick* is its top-rated strategy whose interval lies above the
anchor's rating, or the anchor itself when none does: a prior, not a verdict on
the user's data, which the playbook then tests.

``held_out_picks`` judges the prior as the model selection it is: each family of
the reference is held out in turn, the bands and ratings are fitted on the other
families, and the pick for each held-out dataset is scored on that dataset's own
results, beside the anchor and the dataset's best strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imbench.ratings import ANCHOR, Ratings, block_scores, rate
from imbench.regimes import Band, assign, bands, descriptors
from imbench.results import SweepFolder

PRIOR_REGIMES = ("ir", "rows", "minority", "features")
ADVICE_METRIC = {"pr_auc": "pr_auc", "mcc": "mcc", "fbeta": "f1", "cost": "expected_cost",
                 "capacity": "precision_at_k"}  # fmt: skip
PRIOR_BOOTSTRAP = 100


@dataclass(frozen=True)
class BandPick:
    """One regime: the band the data falls in, its N, and what wins there."""

    by: str
    value: float
    label: str
    n_datasets: int
    n_families: int
    pick: str  # the anchor when no strategy's interval clears it
    rating: float
    lo: float
    hi: float
    cleared: bool  # the pick's interval lies above the anchor's rating

    @property
    def text(self) -> str:
        n = f"N = {self.n_datasets} datasets in {self.n_families} families"
        if not self.cleared:
            return f"{self.label} ({n}): no strategy rated above none with its interval clear"
        return (
            f"{self.label} ({n}): {self.pick} rated {self.rating:.0f} "
            f"[{self.lo:.0f}, {self.hi:.0f}] (none = {ANCHOR:.0f})"
        )


@dataclass(frozen=True)
class Prior:
    sweep: str
    metric: str
    classifier: str
    bands: list[BandPick]
    note: str  # what the reference measured that the user's question may not be

    def lines(self) -> list[str]:
        head = (
            f"the reference ({self.sweep}, {self.classifier}, {self.metric}) on data like "
            f"yours, per regime; a prior for the playbook below, not a result on your data:"
        )
        return [head, *(f"  {b.by}: {b.text}" for b in self.bands), f"  ({self.note})"]


def reference_sweep(out: Path, name: str | None = None) -> SweepFolder | None:
    """The named sweep under ``out``, or the one with the most datasets there of the
    committed references (``field``, then ``reference``); None if there is none."""
    names = [name] if name else ["field", "reference"]
    found = [SweepFolder.of(out, n) for n in names if SweepFolder.of(out, n).has_scores()]
    return found[0] if found else None


def prior_metric(metric: str, beta: float = 1.0) -> str:
    """The reference's fold metric for an ``advise`` metric."""
    if metric == "fbeta" and beta == 2.0:
        return "f2"
    return ADVICE_METRIC.get(metric, metric)


def band_pick(
    folds: pd.DataFrame,
    *,
    metric: str,
    classifier: str,
    families: dict[str, str],
    anchor: str = "none",
    n_bootstrap: int = PRIOR_BOOTSTRAP,
) -> tuple[Ratings | None, str, bool]:
    """The ratings of one band and its pick: the top strategy clear of the anchor."""
    r = rate(folds, metric=metric, classifier=classifier, families=families, anchor=anchor,
             n_bootstrap=n_bootstrap, n_splits=0)  # fmt: skip
    if r is None:
        return None, anchor, False
    clear = r.table[(r.table["lo"] > ANCHOR) & (r.table["strategy"] != anchor)]
    if clear.empty:
        return r, anchor, False
    return r, str(clear.sort_values("rating", ascending=False)["strategy"].iloc[0]), True


def reference_prior(
    folder: SweepFolder,
    data: dict[str, float],
    *,
    metric: str,
    classifier: str,
    anchor: str = "none",
    dataset: str | None = None,
) -> Prior | str:
    """The prior for data described by ``data`` (ir, rows, minority, features), or a
    one-line reason why the reference cannot give one. When ``dataset`` (the data's
    name) is a set of the reference, its whole family is left out: a prior fitted on
    the data it advises on would be scored on its own folds."""
    from imbench.verdict import families_of

    folds = folder.read_folds()
    if classifier not in set(folds["classifier"]):
        have = ", ".join(sorted(folds["classifier"].unique()))
        return f"the reference {folder.name!r} has {have}, not {classifier!r}: no prior"
    if metric not in folds.columns:
        return f"the reference {folder.name!r} has no {metric!r} scores: no prior"
    folds = folds[folds["classifier"] == classifier]
    table = descriptors(folder.read_cells())
    families = families_of([*folds["dataset"].unique(), *([dataset] if dataset else [])])
    left_out = ""
    if dataset is not None and dataset in set(folds["dataset"]):
        family = families[dataset]
        kin = sorted(d for d in folds["dataset"].unique() if families.get(d, d) == family)
        folds = folds[~folds["dataset"].isin(kin)]
        table = table[~table["dataset"].isin(kin)]
        left_out = (
            f"{dataset} is in the reference: its family ({family}, {len(kin)} "
            f"set{'s' if len(kin) != 1 else ''}) is left out; "
        )
    picks = []
    for by in PRIOR_REGIMES:
        value = data.get(by)
        if value is None or not math.isfinite(value):
            continue
        band = next((b for b in bands(table[by], by) if b.holds(value)), None)
        if band is None:
            continue
        inside = table.loc[table[by].astype(float).map(band.holds), ["dataset", "imbalance_ratio"]]
        rows = folds.merge(inside, on=["dataset", "imbalance_ratio"])
        r, pick, cleared = band_pick(rows, metric=metric, classifier=classifier,
                                     families=families, anchor=anchor)  # fmt: skip
        if r is None:
            continue
        row = r.table.set_index("strategy").loc[pick]
        picks.append(BandPick(by, float(value), band.label, r.n_datasets, r.n_families, pick,
                              float(row["rating"]), float(row["lo"]), float(row["hi"]),
                              cleared))  # fmt: skip
    protocol = folder.read_config().get("protocol", {}) if folder.config.exists() else {}
    note = left_out + (
        f"the reference tuned thresholds for {protocol.get('threshold_objective', 'f1')}; "
        f"{folds['dataset'].nunique()} datasets, intervals: bootstrap over families"
    )
    return Prior(folder.name, metric, classifier, picks, note)


def held_out_picks(
    folds: pd.DataFrame,
    cells: pd.DataFrame,
    *,
    metric: str,
    classifier: str,
    by: str,
    anchor: str = "none",
    ratio: str = "native",
    n_bootstrap: int = PRIOR_BOOTSTRAP,
) -> pd.DataFrame:
    """Leave one family out: per held-out dataset (at ``ratio``), the pick of its band
    of ``by`` (``all``: no regime) fitted on the other families, scored on the
    dataset's own results.

    One row per held-out dataset: its family and band, the pick, and the metric of
    the pick, of the anchor and of the dataset's best strategy, all higher-is-better
    (``ratings.block_scores`` flips a lower-is-better metric's sign, so a Brier score
    comes as -Brier). A pick that did not run on the dataset (skipped there) is kept
    and scored as the anchor, which is what a user of the pick falls back to;
    ``pick_ran`` says which. Dropping those rows would judge the prior only where
    its pick happened to run."""
    from imbench.verdict import families_of

    folds = folds[folds["classifier"] == classifier]
    families = families_of(folds["dataset"].unique())
    table = descriptors(cells)
    scores = block_scores(folds, metric).groupby(level=["dataset", "imbalance_ratio"]).mean()
    rows = []
    for family in sorted(set(families.values())):
        train_names = {d for d, f in families.items() if f != family}
        train = table[table["dataset"].isin(train_names)].copy()
        if by == "all":  # no regime: one band of every other family
            train["band"] = "all"
            cut = [Band("all", "all", -math.inf, math.inf)]
        else:
            train["band"] = assign(train, by).astype(str)
            cut = bands(train[by], by)
        held = table[(table["dataset"].map(families) == family)
                     & (table["imbalance_ratio"] == ratio)]  # fmt: skip
        picks: dict[str, str] = {}
        for _, d in held.iterrows():
            value = 0.0 if by == "all" else float(d[by])
            band = next((b for b in cut if b.holds(value)), None)
            if band is None or (d["dataset"], ratio) not in scores.index:
                continue
            if band.label not in picks:
                inside = train.loc[train["band"] == band.label, ["dataset", "imbalance_ratio"]]
                _, picks[band.label], _ = band_pick(
                    folds.merge(inside, on=["dataset", "imbalance_ratio"]), metric=metric,
                    classifier=classifier, families=families, anchor=anchor,
                    n_bootstrap=n_bootstrap)  # fmt: skip
            own = scores.loc[(d["dataset"], ratio)].dropna()
            pick = picks[band.label]
            if anchor not in own:
                continue
            ran = pick in own
            rows.append({
                "dataset": d["dataset"], "family": family, "band": band.label, "pick": pick,
                "pick_ran": ran, "pick_score": own[pick] if ran else own[anchor],
                "anchor_score": own[anchor], "best": str(own.idxmax()),
                "best_score": own.max(),
            })  # fmt: skip
    out = pd.DataFrame(rows)
    if not out.empty:
        out["pick_is_best"] = np.isclose(out["pick_score"], out["best_score"])
    return out
