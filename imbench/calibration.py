"""Calibration: the ``+calibrated`` map and the calibration metrics of every cell.

The map is fitted on the inner out-of-fold scores of the selected configuration:
rows of the original (never resampled) outer-train distribution, each scored by
a model that did not see it. It is then applied to the outer test scores of the
model refitted on the whole outer-train part -- the scheme of scikit-learn's
``CalibratedClassifierCV(ensemble=False)``, without a single extra fit.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

CalibrationMethod = Literal["sigmoid", "isotonic"]
N_BINS = 10
_EPS = 1e-6


class Calibrator(Protocol):
    def __call__(self, scores: np.ndarray) -> np.ndarray: ...


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p)).reshape(-1, 1)


def fit_calibrator(y: np.ndarray, scores: np.ndarray, method: CalibrationMethod) -> Calibrator:
    """A monotone map from scores to probabilities, fitted on (y, scores)."""
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
        return lambda s: np.asarray(iso.predict(s), dtype=float)
    # Platt scaling: a one-feature logistic regression on the score's logit.
    platt = LogisticRegression(C=1e6).fit(_logit(scores), y)
    return lambda s: platt.predict_proba(_logit(s))[:, 1]


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
