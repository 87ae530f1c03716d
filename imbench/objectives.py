"""Threshold objectives: how ``+threshold`` picks its cut-off on inner out-of-fold
scores, and the operating metrics every cell reports at its threshold.

A threshold is always chosen from inner out-of-fold predictions of outer-train
rows (protocol.py); nothing here sees an outer test fold except the reporting
functions, which only score a threshold that was fixed before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

ObjectiveKind = Literal["f1", "fbeta", "mcc", "cost", "capacity", "min_precision"]
OBJECTIVES: tuple[str, ...] = ("f1", "fbeta", "mcc", "cost", "capacity", "min_precision")
# A cut-off no score reaches: "flag nothing" (probabilities can be exactly 1.0).
NEVER = float(np.nextafter(1.0, 2.0))


@dataclass(frozen=True)
class ThresholdObjective:
    kind: ObjectiveKind = "f1"
    beta: float = 1.0
    fp_cost: float = 1.0
    fn_cost: float = 10.0
    capacity: float = 0.05
    min_precision: float = 0.5

    def choose(self, y: np.ndarray, scores: np.ndarray) -> float:
        """The cut-off (flag when score >= it) that is best on (y, scores)."""
        if self.kind in ("f1", "fbeta"):
            return best_fbeta_threshold(y, scores, beta=1.0 if self.kind == "f1" else self.beta)
        if self.kind == "mcc":
            return best_mcc_threshold(y, scores)
        if self.kind == "cost":
            return min_cost_threshold(y, scores, fp_cost=self.fp_cost, fn_cost=self.fn_cost)
        if self.kind == "capacity":
            return capacity_threshold(scores, self.capacity)
        return min_precision_threshold(y, scores, self.min_precision)

    def report(self, y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
        """Operating metrics of a fixed threshold on a test fold."""
        pred = scores >= threshold
        fp = int(np.sum(pred & (y == 0)))
        fn = int(np.sum(~pred & (y == 1)))
        tp = int(np.sum(pred & (y == 1)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        met = float(precision >= self.min_precision) if self.kind == "min_precision" else math.nan
        return {
            "expected_cost": (self.fp_cost * fp + self.fn_cost * fn) / len(y),
            "precision_at_k": precision_at_k(y, scores, self.capacity),
            "min_precision_met": met,
        }


def best_fbeta_threshold(y: np.ndarray, scores: np.ndarray, *, beta: float = 1.0) -> float:
    """The cut-off that maximises F-beta."""
    precision, recall, thresholds = pr_points(y, scores)
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (1 + b2) * precision * recall / (b2 * precision + recall)
    f = np.nan_to_num(f[:-1])
    return float(thresholds[int(np.argmax(f))])


def curve_counts(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """True and false positives when flagging every row scored at or above each distinct
    score, highest first, and those scores: scikit-learn's
    ``confusion_matrix_at_thresholds`` for 0/1 labels, from one sorted pass."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")[::-1]
    ranked = scores[order]
    labels = (np.asarray(y)[order] == 1).astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    tps = np.cumsum(labels)[last]
    return tps, 1 + last.astype(np.float64) - tps, ranked[last]


def roc_points(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sklearn.metrics.roc_curve(y, scores, drop_intermediate=False)`` for 0/1 labels
    without its input validation (a large share of every threshold choice): the
    same counts divided the same way, so the same floats (``tests/test_objectives.py``)."""
    tps, fps, cuts = curve_counts(y, scores)
    tps, fps, thresholds = np.r_[0.0, tps], np.r_[0.0, fps], np.r_[np.inf, cuts]
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
        tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, thresholds


def pr_points(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sklearn.metrics.precision_recall_curve(y, scores)`` (no dropped points) for 0/1
    labels, from ``curve_counts``; equal float for float."""
    tps, fps, cuts = curve_counts(y, scores)
    ps = tps + fps
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(ps != 0, np.divide(tps, ps), 0.0)
    recall = np.full(tps.shape, 1.0) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], cuts[::-1]


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    """``sklearn.metrics.average_precision_score(y, scores)`` for 0/1 labels with both
    classes present, from ``pr_points`` and summed in scikit-learn's order, so the same
    float (``tests/test_objectives.py``). The inner loop scores every grid point of
    every inner fold with it; scikit-learn's input validation dominated each call."""
    n_pos = int(np.sum(y == 1))
    if n_pos in (0, len(y)):  # one class: scikit-learn's own answer and warning
        from sklearn.metrics import average_precision_score

        return float(average_precision_score(y, scores))
    precision, recall, _ = pr_points(y, scores)
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def best_mcc_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The cut-off that maximises the Matthews correlation coefficient."""
    fpr, tpr, thresholds = roc_points(y, scores)
    n_pos = float(np.sum(y == 1))
    n_neg = len(y) - n_pos
    tp, fp = tpr * n_pos, fpr * n_neg
    fn, tn = n_pos - tp, n_neg - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = np.nan_to_num(mcc, nan=0.0)
    best = int(np.argmax(mcc))
    return NEVER if not np.isfinite(thresholds[best]) else float(thresholds[best])


def min_cost_threshold(
    y: np.ndarray, scores: np.ndarray, *, fp_cost: float, fn_cost: float
) -> float:
    """The cut-off with the least total cost fp_cost*FP + fn_cost*FN (flagging none included)."""
    fpr, tpr, thresholds = roc_points(y, scores)
    n_pos = int(np.sum(y == 1))
    n_neg = len(y) - n_pos
    cost = fp_cost * fpr * n_neg + fn_cost * (1 - tpr) * n_pos
    best = int(np.argmin(cost))
    return NEVER if not np.isfinite(thresholds[best]) else float(thresholds[best])


def capacity_threshold(scores: np.ndarray, capacity: float) -> float:
    """The cut-off that flags the top ``capacity`` share of rows (at least one)."""
    k = max(1, math.ceil(capacity * len(scores)))
    return float(np.sort(scores)[::-1][min(k, len(scores)) - 1])


def min_precision_threshold(y: np.ndarray, scores: np.ndarray, target: float) -> float:
    """Highest recall whose precision reaches ``target``; if none does, the most precise."""
    precision, recall, thresholds = pr_points(y, scores)
    precision, recall = precision[:-1], recall[:-1]
    ok = precision >= target
    if not ok.any():
        return float(thresholds[int(np.argmax(precision))])
    candidates = np.flatnonzero(ok)
    best = candidates[np.argmax(recall[candidates])]
    return float(thresholds[best])


def precision_at_k(y: np.ndarray, scores: np.ndarray, capacity: float) -> float:
    """Precision among the top ``ceil(capacity * n)`` scored rows (ties broken by order)."""
    k = max(1, math.ceil(capacity * len(scores)))
    top = np.argsort(-scores, kind="stable")[:k]
    return float(np.mean(y[top] == 1))
