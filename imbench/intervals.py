"""Uncertainty over outer folds: Nadeau and Bengio's corrected resampled t.

Outer folds share training rows, so the plain standard error of a mean over folds
is too narrow; the corrected variance is (1/k + n_test/n_train) times the folds'
variance (Nadeau & Bengio 2003). ``advise`` tests its steps with it, and the
per-dataset leaderboard puts an interval on each dataset's mean with it. SciPy
is imported where a quantile is needed: reading a leaderboard does not load it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["bounded_interval", "corrected_ttest", "fold_interval"]


def corrected_ttest(diff: np.ndarray, test_share: float) -> tuple[float, float, float]:
    """Mean difference, one-sided p (improvement) and the corrected standard error.

    Parameters
    ----------
    diff
        Paired differences, one per outer fold (k folds x r repeats).
    test_share
        The share of rows in a test fold (1/k for k-fold).

    Returns
    -------
    tuple
        (mean, p, se): p is the one-sided p-value of "the mean difference > 0".
    """
    from scipy import stats as ss

    n = len(diff)
    mean = float(np.mean(diff))
    var = float(np.var(diff, ddof=1)) if n > 1 else 0.0
    se = math.sqrt((1.0 / n + test_share / (1.0 - test_share)) * var)
    if se == 0.0:
        return mean, (0.0 if mean > 0 else 1.0), 0.0
    p = float(ss.t.sf(mean / se, df=n - 1))
    return mean, p, se


# metric ranges, for intervals that stay inside them
_UNIT = frozenset(
    {
        "pr_auc",
        "roc_auc",
        "brier",
        "ece",
        "f1",
        "f2",
        "balanced_accuracy",
        "g_mean",
        "precision",
        "recall",
        "precision_at_k",
        "min_precision_met",
        "threshold",
    }
)
_SIGNED = frozenset({"mcc"})
_POSITIVE = frozenset({"log_loss", "expected_cost"})
_EDGE = 1e-6


def bounded_interval(metric: str, mean: float, half_width: float) -> tuple[float, float]:
    """``mean`` +- ``half_width`` mapped so it stays inside the metric's range.

    The interval is built on a scale where the metric is unbounded -- logit for
    metrics in [0, 1], Fisher's z for MCC in [-1, 1], log for metrics >= 0 -- with
    the half-width carried there by the delta method, then mapped back. It keeps
    the mean inside it, is close to the plain interval away from the edges, and
    never leaves the range (an F1 interval of -0.27 to 1.08 becomes one inside
    [0, 1]). Other metrics get the plain interval.
    """
    if not half_width > 0:
        return mean, mean
    if metric in _UNIT:
        m = min(max(mean, _EDGE), 1 - _EDGE)
        centre, slope = math.log(m / (1 - m)), 1 / (m * (1 - m))
        lo, hi = centre - half_width * slope, centre + half_width * slope
        return 1 / (1 + math.exp(-lo)), 1 / (1 + math.exp(-hi))
    if metric in _SIGNED:
        m = min(max(mean, -1 + _EDGE), 1 - _EDGE)
        centre, slope = math.atanh(m), 1 / (1 - m * m)
        return math.tanh(centre - half_width * slope), math.tanh(centre + half_width * slope)
    if metric in _POSITIVE:
        m = max(mean, _EDGE)
        return m * math.exp(-half_width / m), m * math.exp(half_width / m)
    return mean - half_width, mean + half_width


def fold_interval(folds: pd.DataFrame, metric: str, level: float = 0.95) -> pd.DataFrame:
    """Per classifier x ratio x dataset x strategy: a ``level`` interval of ``metric``'s
    mean over the outer folds (and seeds), from the t distribution with the corrected
    variance (1/k + n_test/n_train), kept inside the metric's range
    (``bounded_interval``). Columns ``{metric}_lo``, ``{metric}_hi``; NaN with fewer
    than 2 folds."""
    from scipy import stats as ss

    keys = ["classifier", "imbalance_ratio", "dataset", "strategy"]
    rows = []
    for key, g in folds.groupby(keys, sort=False):
        values = g[metric].dropna().to_numpy(dtype=float)
        k = len(values)
        lo = hi = float("nan")
        if k > 1:
            share = float((g["n_test"] / g["n_train"]).mean())
            se = float(np.sqrt((1.0 / k + share) * np.var(values, ddof=1)))
            half = float(ss.t.ppf(0.5 + level / 2, df=k - 1)) * se
            lo, hi = bounded_interval(metric, float(values.mean()), half)
        rows.append({**dict(zip(keys, key, strict=True)), f"{metric}_lo": lo, f"{metric}_hi": hi})
    return pd.DataFrame(rows, columns=[*keys, f"{metric}_lo", f"{metric}_hi"])
