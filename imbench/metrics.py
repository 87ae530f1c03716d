"""The metric suite scored on an outer test fold."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from imbench.calibration import calibration_line, expected_calibration_error, reliability_bins
from imbench.objectives import ThresholdObjective, curve_counts
from imbench.results import LOWER_IS_BETTER, METRICS, PRIMARY_METRIC

__all__ = ["LOWER_IS_BETTER", "METRICS", "PRIMARY_METRIC", "score_fold"]

DEFAULT_THRESHOLD = 0.5


def ranking_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Threshold-free metrics of the scores (scikit-learn's definitions; computed here
    from one sorted pass, equal to ``average_precision_score``, ``roc_auc_score``,
    ``brier_score_loss`` and ``log_loss`` to 1e-12: ``tests/test_metrics.py``)."""
    y = np.asarray(y, dtype=np.float64)
    proba = np.asarray(proba, dtype=np.float64)
    n_pos = y.sum()
    if n_pos == 0 or n_pos == len(y):  # one class: scikit-learn's own answer (or error)
        return {
            "pr_auc": float(average_precision_score(y, proba)),
            "roc_auc": float(roc_auc_score(y, proba)),
            "brier": float(brier_score_loss(y, proba)),
            "log_loss": float(log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1])),
        }
    tps, fps, _ = curve_counts(y, proba)
    recall = tps / tps[-1]
    precision = tps / (tps + fps)
    fpr, tpr = np.r_[0.0, fps / fps[-1]], np.r_[0.0, recall]
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    return {
        "pr_auc": float(np.sum(np.diff(np.r_[0.0, recall]) * precision)),
        "roc_auc": float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)),
        "brier": float(np.mean((y - proba) ** 2)),
        "log_loss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))),
    }


def label_scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Hard-label metrics of predictions at some threshold, from one 2x2 confusion matrix.

    The formulas are scikit-learn's (zero_division=0), evaluated in the same order, so
    the values are equal to ``matthews_corrcoef``, ``fbeta_score``, ... bit for bit
    (``tests/test_metrics.py``); computed directly they cost ~1/50 of the time, and a
    sweep and ``rescore`` score every fold of every cell with them.
    """
    counts = np.bincount(
        2 * np.asarray(y, dtype=np.int64) + np.asarray(pred, dtype=np.int64), minlength=4
    )
    tn, fp, fn, tp = (int(c) for c in counts[:4])
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return {
        "mcc": _mcc(tn, fp, fn, tp),
        "f1": _fbeta(tp, fp, fn, 1.0),
        "f2": _fbeta(tp, fp, fn, 2.0),
        "balanced_accuracy": _balanced_accuracy(tn, fp, fn, tp),
        "g_mean": float(np.sqrt(tpr * tnr)),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
    }


def _mcc(tn: int, fp: int, fn: int, tp: int) -> float:
    """sklearn.metrics.matthews_corrcoef on a 2x2 matrix."""
    c = np.array([[tn, fp], [fn, tp]])
    t_sum = c.sum(axis=1, dtype=np.float64)
    p_sum = c.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(c, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def _fbeta(tp: int, fp: int, fn: int, beta: float) -> float:
    """sklearn.metrics.fbeta_score (binary, zero_division=0)."""
    beta2 = beta**2
    denom = beta2 * np.float64(tp + fn) + np.float64(tp + fp)
    return float((1 + beta2) * np.float64(tp) / denom) if denom else 0.0


def _balanced_accuracy(tn: int, fp: int, fn: int, tp: int) -> float:
    """sklearn.metrics.balanced_accuracy_score: the mean recall of the classes present."""
    recalls = [k / n for k, n in ((tn, tn + fp), (tp, tp + fn)) if n]
    return float(np.mean(recalls)) if recalls else 0.0


def proba_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """The metrics of the probabilities alone (no threshold, no objective): cells that
    share a fold's probabilities (``x`` and ``x+threshold``) share these."""
    scores: dict[str, Any] = ranking_scores(y, proba)
    scores["ece"] = expected_calibration_error(y, proba)
    scores.update(calibration_line(y, proba))
    scores.update(reliability_bins(y, proba))
    return scores


# proba_scores' columns: the metrics (listed before the threshold's in folds.parquet),
# then the reliability bins (listed after)
_PROBA_METRICS = ("pr_auc", "roc_auc", "brier", "log_loss", "ece", "cal_slope", "cal_intercept")
_RELIABILITY = ("rel_count", "rel_sum_proba", "rel_sum_pos")
PROBA_COLUMNS = (*_PROBA_METRICS, *_RELIABILITY)


def score_fold(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    objective: ThresholdObjective,
    known: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every metric of one outer test fold, at a threshold fixed beforehand. ``known``:
    this fold's ``proba_scores`` if computed already on the same probabilities."""
    by_proba = proba_scores(y, proba) if known is None else known
    scores = {k: by_proba[k] for k in _PROBA_METRICS}
    scores.update(label_scores(y, (proba >= threshold).astype(int)))
    scores.update(objective.report(y, proba, threshold))
    scores["threshold"] = float(threshold)
    scores.update({k: by_proba[k] for k in _RELIABILITY})
    return scores
