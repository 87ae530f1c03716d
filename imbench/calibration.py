"""Calibration: the ``+calibrated`` map and the calibration metrics of every cell.

The map is fitted on the inner out-of-fold scores of the selected configuration:
rows of the original (never resampled) outer-train distribution, each scored by
a model that did not see it. It is then applied to the outer test scores of the
model refitted on the whole outer-train part -- the scheme of scikit-learn's
``CalibratedClassifierCV(ensemble=False)``, without a single extra fit.

A calibration map never reverses a ranking. Platt's slope is unconstrained, and
on inner predictions it can come out negative (lr on winequality-white-3_vs_7:
-0.21, which turned ROC-AUC 0.78 into 0.22) or the inner scores can be constant
(hgb after undersampling a tiny minority), which flattens every output. So:

* ``sigmoid``: p = expit(a * logit(s) + b) with a > 0 -- strictly increasing,
  ROC-AUC unchanged (up to float ties where expit saturates);
* ``isotonic``: non-decreasing by construction; it can only merge scores into ties;
* when the inner fit is degenerate (a <= 0, constant inner scores, an isotonic
  map that is constant) the safe map is a **logit shift**, expit(logit(s) + b)
  with b fitted by maximum likelihood: strictly increasing, it moves the
  scores to the inner prevalence without touching their order; when the inner
  labels hold one class there is nothing to fit and the map is the identity.
  Which map was used is recorded per fold (``CalibrationMap.fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

CalibrationMethod = Literal["sigmoid", "isotonic", "prior"]
N_BINS = 10
_EPS = 1e-15  # logit clip: scores closer to 0 or 1 than this tie


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class CalibrationMap:
    """A monotone non-decreasing map from scores to probabilities.

    ``kind`` is the map applied: ``sigmoid`` (Platt), ``isotonic``,
    ``logit_shift`` or ``identity``; ``fallback`` says why the requested
    method was replaced ("" when it was not).
    """

    kind: str
    fallback: str = ""
    slope: float = 1.0
    intercept: float = 0.0
    iso: Any = None

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return np.asarray(scores, dtype=float)
        if self.kind == "isotonic":
            return np.asarray(self.iso.predict(scores), dtype=float)
        return expit(self.slope * _logit(scores) + self.intercept)


def _logit_shift(y: np.ndarray, scores: np.ndarray, why: str) -> CalibrationMap:
    z = _logit(scores)

    def nll(b: float) -> float:
        t = z + b  # log-loss of expit(t), stable for any t
        return float(np.sum(np.logaddexp(0.0, t) - y * t))

    b = float(minimize_scalar(nll, bounds=(-50.0, 50.0), method="bounded").x)
    return CalibrationMap("logit_shift", why, 1.0, b)


def prior_shift(y: np.ndarray, trained_prevalence: float | None) -> CalibrationMap:
    """The closed-form correction of scores from the minority prevalence the model
    trained on to the prevalence of the rows ``y`` (Elkan 2001; for the majority
    undersampled at rate beta, Dal Pozzolo et al. 2015: p = beta p_s / (beta p_s - p_s
    + 1)): the logit moves by logit(pi) - logit(pi_s). Nothing is fitted. ``None``
    (a strategy whose training prevalence has no closed form) leaves scores as they
    are, saying so."""
    if trained_prevalence is None:
        return CalibrationMap(
            "identity", "prior: this strategy's training prevalence is not known in closed form"
        )
    pi = float(np.mean(np.asarray(y, dtype=float)))
    if not 0.0 < pi < 1.0 or not 0.0 < trained_prevalence < 1.0:
        return CalibrationMap("identity", "prior: a prevalence of 0 or 1: identity map")
    shift = float(_logit(np.array([pi]))[0] - _logit(np.array([trained_prevalence]))[0])
    return CalibrationMap("prior", slope=1.0, intercept=shift)


def fit_calibrator(
    y: np.ndarray,
    scores: np.ndarray,
    method: CalibrationMethod,
    trained_prevalence: float | None = None,
) -> CalibrationMap:
    """A monotone map from scores to probabilities, fitted on (y, scores); see the module
    doc. ``prior`` fits nothing: it needs the prevalence the model trained on."""
    if method == "prior":
        return prior_shift(y, trained_prevalence)
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if np.unique(y).size < 2:
        return CalibrationMap("identity", "inner labels hold one class: identity map")
    if np.ptp(scores) == 0.0:
        return _logit_shift(y, scores, "constant inner scores: logit shift")
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
        if np.ptp(iso.predict(scores)) == 0.0:
            return _logit_shift(y, scores, "constant isotonic map: logit shift")
        return CalibrationMap("isotonic", iso=iso)
    # Platt scaling: a one-feature logistic regression on the score's logit.
    platt = LogisticRegression(C=1e6).fit(_logit(scores).reshape(-1, 1), y)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    if not slope > 0.0:
        return _logit_shift(y, scores, f"Platt slope {slope:.3g} <= 0: logit shift")
    return CalibrationMap("sigmoid", slope=slope, intercept=intercept)


def reliability_bins(y: np.ndarray, proba: np.ndarray, n_bins: int = N_BINS) -> dict[str, list]:
    """Per equal-width bin: row count, sum of predicted probability, sum of positives.

    Sums (not means) so that bins pool across folds and datasets by addition.
    """
    idx = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    return {
        "rel_count": np.bincount(idx, minlength=n_bins).astype(float).tolist(),
        "rel_sum_proba": np.bincount(idx, weights=proba, minlength=n_bins).tolist(),
        "rel_sum_pos": np.bincount(idx, weights=y.astype(float), minlength=n_bins).tolist(),
    }


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, n_bins: int = N_BINS) -> float:
    """Row-weighted mean |mean predicted - observed rate| over equal-width bins."""
    bins = reliability_bins(y, proba, n_bins)
    count = np.asarray(bins["rel_count"])
    gap = np.abs(np.asarray(bins["rel_sum_proba"]) - np.asarray(bins["rel_sum_pos"]))
    return float(gap.sum() / count.sum())


def calibration_line(y: np.ndarray, proba: np.ndarray, max_iter: int = 50) -> dict[str, float]:
    """Cox's calibration slope and intercept on held-out rows: the maximum-likelihood
    fit of logit P(y=1) = intercept + slope * logit(p). Well calibrated: slope 1,
    intercept 0; slope < 1 means scores too extreme (over-fitted), > 1 too timid;
    resampling typically moves the intercept (prevalence shift). NaN where the fit does
    not exist (one class, constant scores, perfect separation)."""
    y = np.asarray(y, dtype=np.float64)
    x = _logit(np.asarray(proba, dtype=np.float64))
    nan = {"cal_slope": float("nan"), "cal_intercept": float("nan")}
    if y.min() == y.max() or np.ptp(x) == 0:
        return nan
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    current = loglik(beta)
    for _ in range(max_iter):  # Newton-Raphson with step halving
        p = expit(X @ beta)
        grad = X.T @ (y - p)
        hess = X.T @ (X * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return nan
        t = 1.0
        while t > 1e-8 and loglik(beta + t * step) < current - 1e-12:
            t /= 2
        beta, previous, current = beta + t * step, current, loglik(beta + t * step)
        if abs(current - previous) < 1e-10 and np.max(np.abs(t * step)) < 1e-8:
            break
    else:
        return nan  # no maximum: the scores separate the classes
    if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 1e3:
        return nan
    return {"cal_slope": float(beta[1]), "cal_intercept": float(beta[0])}
