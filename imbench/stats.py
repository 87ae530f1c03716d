"""Which differences between strategies are real: statistics across datasets.

The unit of evidence is a dataset: fold (and seed) scores are averaged per
dataset first (``leaderboard.per_dataset``), never counted as independent
samples. Per block (classifier x imbalance ratio) and metric:

* Friedman test over datasets (scipy);
* Nemenyi post-hoc and the critical difference (scikit-posthocs);
* pairwise Wilcoxon signed-rank tests (scikit-posthocs) with Holm's correction
  (``holm``, checked against statsmodels in the tests);
* optionally a Bayesian signed-rank test of every strategy against a baseline
  with a region of practical equivalence (baycomp).

Lower-is-better metrics (brier, log_loss, ece, expected_cost) rank the other
way: rank 1 is always the best strategy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as ss

from imbench.errors import ConfigError
from imbench.leaderboard import per_dataset
from imbench.results import LOWER_IS_BETTER, METRICS

STATS_COLUMNS = [
    "metric",
    "classifier",
    "imbalance_ratio",
    "test",
    "strategy",
    "other",
    "statistic",
    "p_value",
    "mean_rank",
    "mean",
    "n_datasets",
    "critical_difference",
    "p_better",
    "p_equivalent",
    "p_worse",
]
# Nemenyi's q_alpha at alpha = 0.05 (Demsar 2006, Table 5), by number of strategies.
_Q05 = {
    2: 1.960,
    3: 2.343,
    4: 2.569,
    5: 2.728,
    6: 2.850,
    7: 2.949,
    8: 3.031,
    9: 3.102,
    10: 3.164,
}


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjustment (as statsmodels' ``multipletests(method="holm")``,
    which calls ``gc.collect()`` on every call: seconds in a process holding a large
    sweep). NaN p-values stay NaN and do not count as tests."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m:
        order = finite[np.argsort(p[finite], kind="stable")]
        steps = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
        out[order] = np.minimum(steps, 1.0)
    return out


@dataclass
class Block:
    """The dataset x strategy score matrix of one (classifier, ratio) and its tests."""

    metric: str
    classifier: str
    imbalance_ratio: str
    scores: pd.DataFrame  # datasets x strategies, complete rows only
    dropped: list[str] = field(default_factory=list)  # datasets missing some strategy
    rows: list[dict] = field(default_factory=list)

    @property
    def ranks(self) -> pd.DataFrame:
        ascending = self.metric in LOWER_IS_BETTER
        return self.scores.rank(axis=1, ascending=ascending, method="average")

    @property
    def mean_ranks(self) -> pd.Series:
        return self.ranks.mean().sort_values()

    @property
    def nemenyi(self) -> pd.DataFrame:
        import scikit_posthocs as sp  # with matplotlib: only when a test is run

        return sp.posthoc_nemenyi_friedman(self.scores.reset_index(drop=True))


def critical_difference(k: int, n: int) -> float:
    """Nemenyi's critical difference of mean ranks at alpha = 0.05 (studentized range)."""
    q = _Q05.get(k)
    if q is None:
        q = float(ss.studentized_range.ppf(0.95, k, np.inf)) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


def score_matrix(folds: pd.DataFrame, metric: str) -> dict[tuple[str, str], Block]:
    if metric not in METRICS:
        raise ConfigError(f"metric: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    scores = per_dataset(folds)
    blocks = {}
    for (clf, ir), group in scores.groupby(["classifier", "imbalance_ratio"], sort=True):
        wide = group.pivot_table(index="dataset", columns="strategy", values=metric)
        complete = wide.dropna()
        dropped = sorted(set(wide.index) - set(complete.index))
        blocks[(clf, ir)] = Block(metric, clf, ir, complete, dropped)
    return blocks


def compare(
    folds: pd.DataFrame,
    *,
    metric: str,
    baseline: str | None = None,
    rope: float = 0.01,
    classifier: str | None = None,
    ratio: str | None = None,
) -> tuple[pd.DataFrame, list[Block]]:
    """All tests of every block as one long frame (``STATS_COLUMNS``), plus the blocks."""
    blocks = [
        b
        for (clf, ir), b in score_matrix(folds, metric).items()
        if (classifier is None or clf == classifier) and (ratio is None or ir == ratio)
    ]
    if not blocks:
        raise ConfigError(f"no results for classifier={classifier or 'any'} ratio={ratio or 'any'}")
    for block in blocks:
        _test_block(block, baseline=baseline, rope=rope)
    rows = [r for b in blocks for r in b.rows]
    return pd.DataFrame(rows, columns=STATS_COLUMNS), blocks


def _test_block(block: Block, *, baseline: str | None, rope: float) -> None:
    n, k = block.scores.shape
    base = {
        "metric": block.metric,
        "classifier": block.classifier,
        "imbalance_ratio": block.imbalance_ratio,
        "n_datasets": n,
    }
    if baseline is not None and baseline not in block.scores.columns:
        raise ConfigError(
            f"baseline: {baseline!r} is not a strategy of this sweep; "
            f"known: {', '.join(block.scores.columns)}"
        )
    cd = critical_difference(k, n) if n >= 1 and k >= 2 else float("nan")
    means = block.scores.mean()
    for strategy, rank in block.mean_ranks.items():
        block.rows.append(
            {
                **base,
                "test": "rank",
                "strategy": strategy,
                "mean_rank": rank,
                "mean": means[strategy],
                "critical_difference": cd,
            }
        )
    if n < 3 or k < 3:
        return  # too little for Friedman / post-hoc tests: ranks only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stat, p = ss.friedmanchisquare(*(block.scores[c] for c in block.scores.columns))
    block.rows.append({**base, "test": "friedman", "statistic": stat, "p_value": p})
    nemenyi = block.nemenyi
    for a, b in combinations(block.scores.columns, 2):
        block.rows.append(
            {**base, "test": "nemenyi", "strategy": a, "other": b, "p_value": nemenyi.loc[a, b]}
        )
    for row in _wilcoxon_holm(block.scores):
        block.rows.append({**base, **row})
    if baseline is not None:
        for row in _bayes_vs(block, baseline, rope):
            block.rows.append({**base, **row})


def _wilcoxon_holm(scores: pd.DataFrame) -> list[dict]:
    """Pairwise signed-rank tests, Holm-adjusted. Identical pairs get p = 1."""
    long = scores.reset_index(drop=True).melt(var_name="strategy", value_name="score")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        import scikit_posthocs as sp

        raw = sp.posthoc_wilcoxon(long, val_col="score", group_col="strategy", zero_method="zsplit")
    pairs = list(combinations(scores.columns, 2))
    p_raw = np.array(
        [1.0 if np.allclose(scores[a], scores[b]) else float(raw.loc[a, b]) for a, b in pairs]
    )
    p_raw = np.nan_to_num(p_raw, nan=1.0)
    adjusted = holm(p_raw)
    return [
        {"test": "wilcoxon_holm", "strategy": a, "other": b, "p_value": float(p)}
        for (a, b), p in zip(pairs, adjusted, strict=True)
    ]


def _bayes_vs(block: Block, baseline: str, rope: float) -> list[dict]:
    """P(strategy better / practically equivalent / worse than baseline), per dataset pairs."""
    import baycomp

    rows = []
    lower = block.metric in LOWER_IS_BETTER
    for strategy in block.scores.columns:
        if strategy == baseline:
            continue
        x, y = block.scores[strategy].to_numpy(), block.scores[baseline].to_numpy()
        if np.allclose(x, y):
            better, equal, worse = 0.0, 1.0, 0.0
        else:
            left, equal, right = baycomp.SignedRankTest.probs(
                x, y, rope=rope, nsamples=20000, random_state=0
            )
            better, worse = (right, left) if lower else (left, right)
        rows.append(
            {
                "test": "bayes_signed_rank",
                "strategy": strategy,
                "other": baseline,
                "statistic": rope,
                "p_better": float(better),
                "p_equivalent": float(equal),
                "p_worse": float(worse),
            }
        )
    return rows


PLANNED_COLUMNS = [
    "metric",
    "classifier",
    "imbalance_ratio",
    "strategy",
    "other",
    "n_datasets",
    "mean",
    "mean_other",
    "difference",
    "wins",
    "ties",
    "losses",
    "p_value",
    "p_holm",
]
TIE = 1e-12  # per-dataset differences smaller than this are ties


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``"threshold:none,smote:balanced"`` -> [("threshold", "none"), ("smote", "balanced")]:
    each strategy is compared with the one after its colon."""
    pairs = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        a, sep, b = item.partition(":")
        if not sep or not a.strip() or not b.strip():
            raise ConfigError(f"--pairs: {item!r} is not STRATEGY:REFERENCE (e.g. threshold:none)")
        pairs.append((a.strip(), b.strip()))
    if not pairs:
        raise ConfigError("--pairs: no pair given (e.g. --pairs threshold:none,balanced:none)")
    return pairs


def paired(a: pd.Series, b: pd.Series, *, sign: float = 1.0) -> dict[str, Any]:
    """``a`` against ``b``, paired by index (one score per dataset): N, both means, the
    difference a - b, wins/ties/losses in the metric's direction (``sign`` -1 when lower
    is better) and a Wilcoxon signed-rank p on the non-tied pairs (1.0 when all tie)."""
    diff = sign * (a - b)  # > 0: a is better
    better, worse = diff > TIE, diff < -TIE
    nonzero = diff[better | worse]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(ss.wilcoxon(nonzero).pvalue) if len(nonzero) else 1.0
    return {
        "n_datasets": len(a),
        "mean": float(a.mean()),
        "mean_other": float(b.mean()),
        "difference": float(a.mean() - b.mean()),
        "wins": int(better.sum()),
        "ties": int(len(a) - len(nonzero)),
        "losses": int(worse.sum()),
        "p_value": p,
    }


def planned(
    folds: pd.DataFrame,
    *,
    metric: str,
    pairs: list[tuple[str, str]],
    classifier: str | None = None,
    ratio: str | None = None,
) -> pd.DataFrame:
    """Comparisons asked in advance: per classifier x ratio, each pair on the datasets
    where both strategies ran (N per pair), wins/ties/losses in the metric's direction,
    a Wilcoxon signed-rank p on the non-tied datasets, and Holm's correction over the
    planned pairs of the block (not over every pair of strategies)."""
    if metric not in METRICS:
        raise ConfigError(f"metric: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    known = set(folds["strategy"]) if not folds.empty else set()
    for name in {s for pair in pairs for s in pair} - known:
        raise ConfigError(f"--pairs: {name!r} is not a strategy of this sweep")
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    scores = per_dataset(folds)
    rows: list[dict] = []
    for (clf, ir), group in scores.groupby(["classifier", "imbalance_ratio"], sort=True):
        if (classifier and clf != classifier) or (ratio and ir != ratio):
            continue
        wide = group.pivot_table(index="dataset", columns="strategy", values=metric)
        block = []
        for a, b in pairs:
            if a not in wide or b not in wide:
                continue
            both = wide[[a, b]].dropna()
            block.append(
                {
                    "metric": metric,
                    "classifier": clf,
                    "imbalance_ratio": ir,
                    "strategy": a,
                    "other": b,
                    **paired(both[a], both[b], sign=sign),
                }
            )
        if block:
            adjusted = holm([r["p_value"] for r in block])
            for r, q in zip(block, adjusted, strict=True):
                r["p_holm"] = float(q)
            rows.extend(block)
    if not rows:
        raise ConfigError(
            f"--pairs: no block has both strategies of any pair "
            f"(classifier={classifier or 'any'}, ratio={ratio or 'any'})"
        )
    return pd.DataFrame(rows, columns=PLANNED_COLUMNS)
