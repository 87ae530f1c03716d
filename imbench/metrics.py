"""The metric suite scored on an outer test fold."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    fbeta_score,
    log_loss,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)

from imbench.calibration import expected_calibration_error, reliability_bins
from imbench.objectives import ThresholdObjective
from imbench.results import LOWER_IS_BETTER, METRICS, PRIMARY_METRIC

__all__ = ["LOWER_IS_BETTER", "METRICS", "PRIMARY_METRIC", "score_fold"]

DEFAULT_THRESHOLD = 0.5


def ranking_scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Threshold-free metrics of the scores."""
    return {
        "pr_auc": float(average_precision_score(y, proba)),
        "roc_auc": float(roc_auc_score(y, proba)),
        "brier": float(brier_score_loss(y, proba)),
        "log_loss": float(log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1])),
    }


def label_scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Hard-label metrics of predictions at some threshold."""
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return {
        "mcc": float(matthews_corrcoef(y, pred)),
        "f1": float(fbeta_score(y, pred, beta=1.0, zero_division=0)),
        "f2": float(fbeta_score(y, pred, beta=2.0, zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "g_mean": float(np.sqrt(tpr * tnr)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
    }


def score_fold(
    y: np.ndarray, proba: np.ndarray, threshold: float, objective: ThresholdObjective
) -> dict[str, Any]:
    """Every metric of one outer test fold, at a threshold fixed beforehand."""
    scores: dict[str, Any] = ranking_scores(y, proba)
    scores["ece"] = expected_calibration_error(y, proba)
    scores.update(label_scores(y, (proba >= threshold).astype(int)))
    scores.update(objective.report(y, proba, threshold))
    scores["threshold"] = float(threshold)
    scores.update(reliability_bins(y, proba))
    return scores
