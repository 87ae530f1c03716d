"""Regimes: which kind of data a dataset is, so that an answer can depend on it.

A regime is a band of one descriptor of the data as a cell saw it:

* ``ir`` -- the imbalance ratio the cell ran at (majority / minority rows);
* ``rows`` -- its rows;
* ``minority`` -- its minority rows;
* ``features`` -- the dataset's feature columns;
* ``family`` -- the source its KEEL set was derived from (one band per family).

Bands of the numeric descriptors are chosen from the data: the tertiles of the
descriptor over the datasets (one value per dataset and ratio), rounded to two
significant figures, so each band holds about a third of the datasets; fewer
distinct values give fewer bands. Every band is shown with its N in datasets and
in families, since sets derived from one source share rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imbench.errors import ConfigError
from imbench.ratings import Ratings, rate

REGIMES = ("ir", "rows", "minority", "features", "family")
_UNITS = {"ir": "IR", "rows": "rows", "minority": "minority rows", "features": "features"}


@dataclass(frozen=True)
class Band:
    """One regime band: its label and the (dataset, ratio) pairs in it."""

    by: str
    label: str
    low: float
    high: float  # exclusive, except the last band's

    def holds(self, value: float) -> bool:
        return self.low <= value < self.high or (self.high == math.inf and value >= self.low)


def descriptors(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x ratio: ir, rows, minority, features, family.

    From a sweep's ``cells.parquet`` (the rows and minority a cell ran on) and the
    catalogue (features, family); a dataset outside it (a file, a synthetic set) is
    its own family and has no feature count unless the cells carry one.
    """
    from imbench.verdict import families_of

    ok = cells[cells["status"] == "ok"] if "status" in cells else cells
    if ok.empty:
        return pd.DataFrame(columns=["dataset", "imbalance_ratio", *REGIMES])
    table = ok.groupby(["dataset", "imbalance_ratio"], as_index=False).agg(
        rows=("n_rows", "max"), minority=("n_minority", "max"), ir=("actual_ir", "max")
    )
    families = families_of(table["dataset"].unique())
    table["family"] = table["dataset"].map(families)
    table["features"] = table["dataset"].map(_features()).astype(float)
    if "n_features" in ok:
        known = ok.groupby("dataset")["n_features"].max()
        table["features"] = table["features"].fillna(table["dataset"].map(known))
    return table


def _features() -> dict[str, int]:
    try:
        from imbench.catalogue import catalogue

        return catalogue().set_index("name")["features"].astype(int).to_dict()
    except Exception:  # noqa: BLE001 - without the catalogue, features are unknown
        return {}


def bands(values: pd.Series, by: str, k: int = 3) -> list[Band]:
    """Up to ``k`` bands of a numeric descriptor, cut at its quantiles (data-chosen)."""
    if by not in _UNITS:
        raise ConfigError(f"--by {by!r}: choose one of {', '.join(REGIMES)}")
    finite = values.dropna().astype(float)
    if finite.empty:
        return []
    cuts = sorted({_round2(q) for q in np.quantile(finite, [i / k for i in range(1, k)])})
    cuts = [c for c in cuts if finite.min() < c <= finite.max()]
    edges = [-math.inf, *cuts, math.inf]
    out = []
    unit = _UNITS[by]
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        if low == -math.inf and high == math.inf:
            label = f"all {unit}"
        elif low == -math.inf:
            label = f"{unit} < {_fmt(high)}"
        elif high == math.inf:
            label = f"{unit} >= {_fmt(low)}"
        else:
            label = f"{_fmt(low)} <= {unit} < {_fmt(high)}"
        out.append(Band(by, label, low, high))
    return out


def assign(table: pd.DataFrame, by: str, k: int = 3) -> pd.Series:
    """Each descriptor row's band label (``descriptors``'s rows), in band order."""
    if by not in REGIMES:
        raise ConfigError(f"--by {by!r}: choose one of {', '.join(REGIMES)}")
    if by == "family":
        return table["family"].astype(str)
    cut = bands(table[by], by, k)
    labels = [next((b.label for b in cut if b.holds(v)), "unknown") if pd.notna(v) else "unknown"
              for v in table[by].astype(float)]  # fmt: skip
    order = [b.label for b in cut] + ["unknown"]
    return pd.Series(pd.Categorical(labels, categories=order, ordered=True), index=table.index)


def regime_folds(folds: pd.DataFrame, cells: pd.DataFrame, by: str, k: int = 3) -> pd.DataFrame:
    """The fold rows with a ``regime`` column (their dataset x ratio's band)."""
    table = descriptors(cells)
    table["regime"] = assign(table, by, k)
    keyed = table[["dataset", "imbalance_ratio", "regime"]]
    out = folds.merge(keyed, on=["dataset", "imbalance_ratio"], how="left")
    return out[out["regime"].notna()]


def band_n(folds: pd.DataFrame, families: dict[str, str]) -> tuple[int, int]:
    """N of a band: datasets and families."""
    names = folds["dataset"].unique()
    return len(names), len({families.get(n, n) for n in names})


def _round2(x: float) -> float:
    if x <= 0 or not math.isfinite(x):
        return float(x)
    digits = 1 - int(math.floor(math.log10(abs(x))))
    return float(round(x, digits))


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:g}"


@dataclass
class RegimeAnswer:
    """One band's answer: its N and, per classifier, the strategies' ratings."""

    label: str
    n_datasets: int
    n_families: int
    ratings: dict[str, Ratings]


def by_regime(
    folds: pd.DataFrame,
    cells: pd.DataFrame,
    *,
    by: str,
    metric: str,
    anchor: str = "none",
    n_splits: int = 0,
    k: int = 3,
) -> list[RegimeAnswer]:
    """Per band of ``by`` (in band order), each classifier's ratings on ``metric``."""
    from imbench.verdict import families_of

    families = families_of(folds["dataset"].unique())
    keyed = regime_folds(folds, cells, by, k)
    out = []
    groups = keyed.groupby("regime", observed=True, sort=True)
    for label, band in groups:
        n_datasets, n_families = band_n(band, families)
        found = {}
        for clf in sorted(band["classifier"].unique()):
            r = rate(band, metric=metric, classifier=clf, families=families, anchor=anchor,
                     n_splits=n_splits)  # fmt: skip
            if r is not None:
                found[clf] = r
        out.append(RegimeAnswer(str(label), n_datasets, n_families, found))
    if by == "family":  # the largest families first
        out.sort(key=lambda a: (-a.n_datasets, a.label))
    return out
