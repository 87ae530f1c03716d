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

__all__ = ["corrected_ttest", "fold_interval"]


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


def fold_interval(folds: pd.DataFrame, metric: str, level: float = 0.95) -> pd.DataFrame:
    """Per classifier x ratio x dataset x strategy: a ``level`` interval of ``metric``'s
    mean over the outer folds (and seeds), from the t distribution with the corrected
    variance (1/k + n_test/n_train). Columns ``{metric}_lo``, ``{metric}_hi``; NaN with
    fewer than 2 folds."""
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
            lo, hi = float(values.mean()) - half, float(values.mean()) + half
        rows.append({**dict(zip(keys, key, strict=True)), f"{metric}_lo": lo, f"{metric}_hi": hi})
    return pd.DataFrame(rows, columns=[*keys, f"{metric}_lo", f"{metric}_hi"])
