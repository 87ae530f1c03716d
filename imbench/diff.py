"""Two sweeps side by side: what only one has, what changed, and whether it is real.

Cells are aligned on (dataset, ratio, strategy, classifier). A dataset whose
fingerprint differs between the sweeps (same name, other data) is flagged and
left out of every comparison. Per strategy x classifier x ratio the two means
over the shared datasets are tested with the paired Wilcoxon signed-rank test
``compare --pairs`` uses (``stats.paired``), Holm-corrected within each
classifier x ratio; ranks are recomputed on the shared datasets. A cell differs
"beyond fold noise" when its mean moved by more than twice the standard error of
the change (fold by fold when both sweeps used the same folds). Provenance and
config are compared key by key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from imbench.errors import ConfigError
from imbench.leaderboard import per_dataset, ratio_key
from imbench.results import LOWER_IS_BETTER, METRICS, SweepFolder
from imbench.stats import holm, paired

KEY = ["dataset", "imbalance_ratio", "strategy", "classifier"]
BLOCK = ["classifier", "imbalance_ratio"]
# config keys that say where or how fast a sweep ran, not what it computed
NOT_COMPARED = {"out", "tracking_uri", "workers", "dask_address", "name"}
NOISE_SE = 2.0  # a cell's change beyond this many standard errors is not fold noise
TINY = 1e-9  # changes below this are float noise, never "beyond fold noise"

STRATEGY_COLUMNS = [
    "classifier",
    "imbalance_ratio",
    "strategy",
    "n_datasets",
    "mean_a",
    "mean_b",
    "change",
    "wins",
    "ties",
    "losses",
    "p_value",
    "p_holm",
    "rank_a",
    "rank_b",
    "rank_change",
]
CELL_COLUMNS = [*KEY, "mean_a", "mean_b", "change", "noise", "paired_folds"]


@dataclass
class SweepDiff:
    a: str
    b: str
    metric: str
    strategies: pd.DataFrame  # STRATEGY_COLUMNS
    cells: pd.DataFrame  # CELL_COLUMNS: cells beyond fold noise
    only_a: pd.DataFrame  # KEY
    only_b: pd.DataFrame
    changed_data: list[str]  # datasets whose fingerprints differ
    setup: list[tuple[str, str, str]]  # (what, in a, in b) for provenance/config keys
    n_shared_cells: int = 0
    bit_identical: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def no_difference(self) -> bool:
        real = self.strategies["p_holm"] < 0.05 if not self.strategies.empty else []
        return (
            not len(self.cells)
            and not any(real)
            and self.only_a.empty
            and self.only_b.empty
            and not self.changed_data
        )

    def verdict(self) -> str:
        if self.bit_identical and not self.setup:
            return (
                f"no difference: bit-identical ({self.n_shared_cells} cells, every fold score "
                "equal; same config and package versions)"
            )
        if self.bit_identical:
            return (
                f"no difference in scores: bit-identical ({self.n_shared_cells} cells), "
                f"though {len(self.setup)} setup item(s) differ"
            )
        if self.no_difference:
            return (
                f"no difference beyond noise: no cell moved beyond fold noise and no strategy "
                f"changed significantly (Holm p < 0.05) on {self.metric}"
            )
        real = int((self.strategies["p_holm"] < 0.05).sum()) if not self.strategies.empty else 0
        return (
            f"{len(self.cells)} of {self.n_shared_cells} shared cells moved beyond fold noise; "
            f"{real} strategy change(s) significant (Holm p < 0.05) on {self.metric}"
        )

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The diff's tables with their titles, as a document shows them (the markdown
        output, the report): setup that differs, strategies, cells beyond fold noise."""
        out = []
        if self.setup:
            setup = pd.DataFrame(self.setup, columns=["what", self.a, self.b])
            out.append(("Setup that differs", setup))
        out.append((f"Strategies: {self.metric}, {self.a} -> {self.b}", self.strategies))
        if not self.cells.empty:
            title = f"{len(self.cells)} cells moved beyond fold noise (2 SE)"
            out.append((title, self.cells))
        return out

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in frame.to_dict("records")
            ]

        return {
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "verdict": self.verdict(),
            "bit_identical": self.bit_identical,
            "no_difference": self.no_difference,
            "n_shared_cells": self.n_shared_cells,
            "changed_data": self.changed_data,
            "setup": [{"what": w, "a": x, "b": y} for w, x, y in self.setup],
            "strategies": records(self.strategies),
            "cells": records(self.cells),
            "only_a": records(self.only_a),
            "only_b": records(self.only_b),
        }


def _flat(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flat(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: str(value)}


def setup_differences(a: SweepFolder, b: SweepFolder) -> list[tuple[str, str, str]]:
    """Provenance (packages, python, platform, config hash, declared and plugin entries)
    and config keys that differ."""
    rows: list[tuple[str, str, str]] = []
    ca = {k: v for k, v in _config(a).items() if k not in NOT_COMPARED}
    cb = {k: v for k, v in _config(b).items() if k not in NOT_COMPARED}
    fa, fb = _flat("", ca), _flat("", cb)
    for key in sorted(set(fa) | set(fb)):
        if fa.get(key) != fb.get(key):
            rows.append((f"config {key}", fa.get(key, "-"), fb.get(key, "-")))
    pa, pb = a.read_provenance(), b.read_provenance()
    # the hash covers the sweep's name too: it is news only when the config differs
    keys = ("config_hash", "python", "platform") if rows else ("python", "platform")
    for key in keys:
        if pa.get(key) != pb.get(key):
            rows.append((key, str(pa.get(key, "-")), str(pb.get(key, "-"))))
    packs_a, packs_b = pa.get("packages", {}), pb.get("packages", {})
    for name in sorted(set(packs_a) | set(packs_b)):
        if packs_a.get(name) != packs_b.get(name):
            rows.append((f"package {name}", packs_a.get(name, "-"), packs_b.get(name, "-")))
    meth_a, meth_b = pa.get("methods", {}), pb.get("methods", {})  # declared/plugin entries
    for name in sorted(set(meth_a) | set(meth_b)):
        if meth_a.get(name) != meth_b.get(name):
            rows.append((name, meth_a.get(name, "-"), meth_b.get(name, "-")))
    return rows


def _config(folder: SweepFolder) -> dict[str, Any]:
    return folder.read_config() if folder.config.exists() else {}


def _changed_data(cells_a: pd.DataFrame, cells_b: pd.DataFrame) -> list[str]:
    fa = cells_a.groupby("dataset")["fingerprint"].first()
    fb = cells_b.groupby("dataset")["fingerprint"].first()
    shared = fa.index.intersection(fb.index)
    return sorted(d for d in shared if fa[d] != fb[d])


def _cell_noise(fa: pd.DataFrame, fb: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per shared cell: both means, the change and its noise (standard error)."""
    keys = ["seed", "fold"]
    rows = []
    ga, gb = fa.groupby(KEY), fb.groupby(KEY)
    for key, xa in ga:
        if key not in gb.groups:
            continue
        xb = gb.get_group(key)
        sa = xa.set_index(keys)[metric].sort_index()
        sb = xb.set_index(keys)[metric].sort_index()
        same_folds = sa.index.equals(sb.index)
        if same_folds:  # the same outer folds: the change fold by fold
            d = (sb - sa).to_numpy()
            noise = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
        else:
            va = sa.var(ddof=1) / len(sa) if len(sa) > 1 else 0.0
            vb = sb.var(ddof=1) / len(sb) if len(sb) > 1 else 0.0
            noise = float(math.sqrt(va + vb))
        rows.append(
            {
                **dict(zip(KEY, key, strict=True)),
                "mean_a": float(sa.mean()),
                "mean_b": float(sb.mean()),
                "change": float(sb.mean() - sa.mean()),
                "noise": noise,
                "paired_folds": same_folds,
            }
        )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _strategy_changes(fa: pd.DataFrame, fb: pd.DataFrame, metric: str) -> pd.DataFrame:
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    da, db = per_dataset(fa), per_dataset(fb)
    rows = []
    for (clf, ir), xa in da.groupby(BLOCK, sort=False):
        xb = db[(db["classifier"] == clf) & (db["imbalance_ratio"] == ir)]
        if xb.empty:
            continue
        wa = xa.pivot_table(index="dataset", columns="strategy", values=metric)
        wb = xb.pivot_table(index="dataset", columns="strategy", values=metric)
        strategies = [s for s in wa.columns if s in wb.columns]
        datasets = wa.index.intersection(wb.index)
        wa, wb = wa.loc[datasets, strategies], wb.loc[datasets, strategies]
        complete = wa.notna().all(axis=1) & wb.notna().all(axis=1)
        ranks_a = wa[complete].rank(axis=1, ascending=sign < 0).mean()
        ranks_b = wb[complete].rank(axis=1, ascending=sign < 0).mean()
        block = []
        for s in strategies:
            both = pd.concat([wa[s].rename("a"), wb[s].rename("b")], axis=1).dropna()
            test = paired(both["b"], both["a"], sign=sign)  # > 0: b is better
            block.append(
                {
                    "classifier": clf,
                    "imbalance_ratio": ir,
                    "strategy": s,
                    "n_datasets": test["n_datasets"],
                    "mean_a": test["mean_other"],
                    "mean_b": test["mean"],
                    "change": test["difference"],
                    "wins": test["wins"],
                    "ties": test["ties"],
                    "losses": test["losses"],
                    "p_value": test["p_value"],
                    "rank_a": float(ranks_a.get(s, math.nan)),
                    "rank_b": float(ranks_b.get(s, math.nan)),
                }
            )
        adjusted = holm([r["p_value"] for r in block])
        for r, q in zip(block, adjusted, strict=True):
            r["p_holm"] = float(q)
            r["rank_change"] = r["rank_b"] - r["rank_a"]
        rows.extend(block)
    frame = pd.DataFrame(rows, columns=STRATEGY_COLUMNS)
    if frame.empty:
        return frame
    frame["_r"] = frame["imbalance_ratio"].map(ratio_key)
    frame = frame.sort_values(["classifier", "_r", "rank_b"]).drop(columns="_r")
    return frame.reset_index(drop=True)


def diff_sweeps(
    a: SweepFolder,
    b: SweepFolder,
    *,
    metric: str = "pr_auc",
    classifier: str | None = None,
    ratio: str | None = None,
) -> SweepDiff:
    """Compare sweep ``b`` with sweep ``a`` (changes are b - a)."""
    if metric not in METRICS:
        raise ConfigError(f"metric: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    for folder in (a, b):
        if not folder.has_scores():
            raise ConfigError(f"no finished sweep at {folder.path}")
    cells_a, cells_b = a.read_cells(), b.read_cells()
    folds_a, folds_b = a.read_folds(), b.read_folds()

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if classifier:
            frame = frame[frame["classifier"] == classifier]
        if ratio:
            frame = frame[frame["imbalance_ratio"] == ratio]
        return frame

    cells_a, cells_b, folds_a, folds_b = map(keep, (cells_a, cells_b, folds_a, folds_b))
    if cells_a.empty or cells_b.empty:
        raise ConfigError(
            f"nothing to compare for classifier={classifier or 'any'}, ratio={ratio or 'any'}"
        )
    changed = _changed_data(cells_a, cells_b)
    ka = cells_a[KEY].drop_duplicates()
    kb = cells_b[KEY].drop_duplicates()
    both = ka.merge(kb, on=KEY, how="outer", indicator=True)
    only_a = both[both["_merge"] == "left_only"][KEY].reset_index(drop=True)
    only_b = both[both["_merge"] == "right_only"][KEY].reset_index(drop=True)
    # cells that ran (ok) in both sweeps, on the same data
    ok_a = cells_a[cells_a["status"] == "ok"][KEY].drop_duplicates()
    ok_b = cells_b[cells_b["status"] == "ok"][KEY].drop_duplicates()
    shared = ok_a.merge(ok_b, on=KEY)
    shared = shared[~shared["dataset"].isin(changed)]
    fa = folds_a.merge(shared, on=KEY)
    fb = folds_b.merge(shared, on=KEY)
    noise = _cell_noise(fa, fb, metric)
    beyond = noise[
        (noise["change"].abs() > NOISE_SE * noise["noise"]) & (noise["change"].abs() > TINY)
    ]
    bit_identical = _bit_identical(fa, fb) and only_a.empty and only_b.empty and not changed
    notes = []
    if changed:
        notes.append(f"left out of every comparison, their data changed: {', '.join(changed)}")
    return SweepDiff(
        a=a.name,
        b=b.name,
        metric=metric,
        strategies=_strategy_changes(fa, fb, metric),
        cells=beyond.sort_values("change", key=abs, ascending=False).reset_index(drop=True),
        only_a=only_a,
        only_b=only_b,
        changed_data=changed,
        setup=setup_differences(a, b),
        n_shared_cells=len(shared),
        bit_identical=bit_identical,
        notes=notes,
    )


def _bit_identical(fa: pd.DataFrame, fb: pd.DataFrame) -> bool:
    if fa.empty or len(fa) != len(fb):
        return False
    order = [*KEY, "seed", "fold"]
    columns = [m for m in METRICS if m in fa.columns and m in fb.columns]
    xa = fa.sort_values(order)[order + columns].reset_index(drop=True)
    xb = fb.sort_values(order)[order + columns].reset_index(drop=True)
    return bool(xa.equals(xb))
