"""Bradley-Terry ratings of strategies, anchored at a baseline, with family intervals.

Every block -- one dataset at one imbalance ratio and one seed, its scores averaged
over the outer folds -- is a tournament: each pair of strategies that both ran in
it plays one game, won by the better score (a tie is half a game each). A
Bradley-Terry model fitted to all the games (``choix``'s I-LSR) gives each
strategy a strength; ratings are on the Elo scale, anchored so that the baseline
(``none``) is 1000: 400 points more means winning 10 games to 1 against it.

Datasets derived from one source (a *family*: ecoli, yeast, abalone, ...) share
rows, so they are not independent evidence: the 95 % intervals are a bootstrap
that resamples families, with every block of a drawn family, and N is stated in
datasets, families and seeds.

How stable the ranking is, is measured rather than assumed:

* split-half: the families are split at random into two halves, each half's
  ratings are fitted, and the two rankings' Kendall tau is reported (median and
  5-95 % range over splits);
* the curve: the same agreement between two disjoint samples of m families, as m
  grows -- the N at which two independent benchmarks of that size would agree;
* seeds: the agreement between the rankings of single seeds on the same datasets.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imbench.results import LOWER_IS_BETTER

ANCHOR = 1000.0
SCALE = 400.0 / math.log(10.0)  # natural-log strength -> Elo points
N_BOOTSTRAP = 200
N_SPLITS = 50
BLOCK = ["dataset", "imbalance_ratio", "seed"]
_ALPHA = 1e-3  # I-LSR's regularisation: an unbeaten strategy keeps a finite rating


@dataclass
class Ratings:
    """One metric x classifier (x regime) rating table and what it rests on."""

    metric: str
    classifier: str
    anchor: str
    table: pd.DataFrame  # strategy, rating, lo, hi, p_beats_anchor, games, blocks
    win_rate: pd.DataFrame  # row strategy's share of games won against column strategy
    n_datasets: int
    n_families: int
    n_seeds: int
    n_blocks: int
    stability: dict[str, float] = field(default_factory=dict)
    curve: list[tuple[int, float]] = field(default_factory=list)  # (families, median tau)

    @property
    def n_text(self) -> str:
        return (
            f"N = {self.n_datasets} datasets in {self.n_families} families, "
            f"{self.n_seeds} seed{'s' if self.n_seeds != 1 else ''}, {self.n_blocks} blocks"
        )


def block_scores(folds: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Blocks x strategies: the metric averaged over outer folds, higher is better."""
    means = folds.groupby([*BLOCK, "strategy"], observed=True)[metric].mean()
    table = means.unstack("strategy")
    return -table if metric in LOWER_IS_BETTER else table


def games(scores: np.ndarray) -> np.ndarray:
    """wins[i, j]: games strategy i won against j over the given blocks (ties halved)."""
    a = scores[:, :, None]
    b = scores[:, None, :]
    both = ~(np.isnan(a) | np.isnan(b))
    wins = ((a > b) & both).sum(axis=0) + 0.5 * ((a == b) & both).sum(axis=0)
    np.fill_diagonal(wins, 0.0)
    return wins.astype(float)


def strengths(wins: np.ndarray) -> np.ndarray:
    """Bradley-Terry log-strengths of a games matrix (NaN where a strategy played none)."""
    import choix

    played = (wins + wins.T).sum(axis=1) > 0
    out = np.full(len(wins), np.nan)
    if played.sum() < 2:
        return out
    sub = wins[np.ix_(played, played)]
    out[played] = choix.ilsr_pairwise_dense(sub, alpha=_ALPHA, max_iter=1000, tol=1e-10)
    return out


def _elo(theta: np.ndarray, anchor: int) -> np.ndarray:
    return ANCHOR + SCALE * (theta - theta[anchor])


def rate(
    folds: pd.DataFrame,
    *,
    metric: str,
    classifier: str,
    families: dict[str, str],
    anchor: str = "none",
    n_bootstrap: int = N_BOOTSTRAP,
    n_splits: int = N_SPLITS,
    seed: int = 0,
) -> Ratings | None:
    """The ratings of one classifier's strategies on ``metric`` (None without the anchor)."""
    rows = folds[folds["classifier"] == classifier]
    if rows.empty or metric not in rows:
        return None
    scores = block_scores(rows, metric)
    if anchor not in scores.columns or scores.shape[1] < 2:
        return None
    names = list(scores.columns)
    k = names.index(anchor)
    fam = scores.index.get_level_values("dataset").map(lambda d: families.get(d, d))
    fam_names = sorted(set(fam))
    values = scores.to_numpy(float)
    per_family = np.stack([games(values[np.asarray(fam == f)]) for f in fam_names])
    wins = per_family.sum(axis=0)
    rating = _elo(strengths(wins), k)

    rng = np.random.default_rng(seed)
    boot = np.full((n_bootstrap, len(names)), np.nan)
    for b in range(n_bootstrap):
        counts = rng.multinomial(len(fam_names), np.full(len(fam_names), 1 / len(fam_names)))
        theta = strengths(np.tensordot(counts, per_family, axes=1))
        if not np.isnan(theta[k]):
            boot[b] = _elo(theta, k)
    with warnings.catch_warnings():  # a strategy absent from every drawn family: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(boot, [2.5, 97.5], axis=0)

    played = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(played > 0, wins / played, np.nan)
    table = pd.DataFrame(
        {
            "strategy": names,
            "rating": rating,
            "lo": lo,
            "hi": hi,
            "p_beats_anchor": 1.0 / (1.0 + np.exp(-(rating - ANCHOR) / SCALE)),
            "win_rate_vs_anchor": share[:, k],
            "games": played.sum(axis=1),
            "blocks": scores.notna().sum(axis=0).to_numpy(),
        }
    )
    table["same_as"] = _identical(values, names)
    table = table.sort_values(["rating", "strategy"], ascending=[False, True], ignore_index=True)
    win_rate = pd.DataFrame(share, index=names, columns=names).loc[table["strategy"],
                                                                    table["strategy"]]  # fmt: skip
    datasets = scores.index.get_level_values("dataset")
    out = Ratings(
        metric=metric,
        classifier=classifier,
        anchor=anchor,
        table=table,
        win_rate=win_rate,
        n_datasets=datasets.nunique(),
        n_families=len(fam_names),
        n_seeds=scores.index.get_level_values("seed").nunique(),
        n_blocks=len(scores),
    )
    out.stability, out.curve = _stability(per_family, values, scores, n_splits, rng)
    return out


def _identical(values: np.ndarray, names: list[str]) -> list[str]:
    """Per strategy, the strategies with the same score in every block (a strategy and
    its ``+threshold`` variant on a ranking metric: the metric cannot tell them apart)."""
    out = []
    for i in range(len(names)):
        same = [
            names[j]
            for j in range(len(names))
            if j != i and np.array_equal(values[:, i], values[:, j], equal_nan=True)
        ]
        out.append(", ".join(same))
    return out


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 3:
        return float("nan")
    return float(kendalltau(a[ok], b[ok]).statistic)


def _stability(
    per_family: np.ndarray,
    values: np.ndarray,
    scores: pd.DataFrame,
    n_splits: int,
    rng: np.random.Generator,
) -> tuple[dict[str, float], list[tuple[int, float]]]:
    n = len(per_family)
    out: dict[str, float] = {}
    curve: list[tuple[int, float]] = []
    if n >= 4:
        sizes = sorted({max(2, n // 2), *(m for m in (2, 5, 10, 20, 40) if m <= n // 2)})
        for m in sizes:
            taus = []
            for _ in range(n_splits):
                order = rng.permutation(n)
                one = strengths(per_family[order[:m]].sum(axis=0))
                two = strengths(per_family[order[m : 2 * m]].sum(axis=0))
                taus.append(_tau(one, two))
            taus_a = np.asarray(taus)
            if np.isnan(taus_a).all():
                continue
            curve.append((m, float(np.nanmedian(taus_a))))
            if m == max(2, n // 2):
                out["split_half_tau"] = float(np.nanmedian(taus_a))
                out["split_half_tau_p05"] = float(np.nanpercentile(taus_a, 5))
                out["split_half_tau_p95"] = float(np.nanpercentile(taus_a, 95))
    seeds = scores.index.get_level_values("seed")
    distinct = sorted(set(seeds))
    if len(distinct) >= 2:
        per_seed = [strengths(games(values[np.asarray(seeds == s)])) for s in distinct]
        pairs = [
            _tau(per_seed[i], per_seed[j])
            for i in range(len(distinct))
            for j in range(i + 1, len(distinct))
        ]
        out["seed_tau"] = float(np.nanmedian(pairs))
    return out, curve


def families_needed(curve: list[tuple[int, float]], tau: float = 0.8) -> int | None:
    """The fewest families at which two disjoint samples' rankings agree to ``tau``."""
    return next((m for m, t in curve if t >= tau), None)
