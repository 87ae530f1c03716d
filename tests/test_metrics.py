"""imbench's label metrics equal scikit-learn's bit for bit (they are computed from one
confusion matrix for speed, with scikit-learn's formulas)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    balanced_accuracy_score,
    fbeta_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)

from imbench.metrics import label_scores

labels = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=300)


@settings(max_examples=300, deadline=None)
@given(labels)
def test_label_scores_equal_scikit_learn_exactly(pairs):
    y = np.array([a for a, _ in pairs])
    pred = np.array([b for _, b in pairs])
    got = label_scores(y, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = {
            "mcc": matthews_corrcoef(y, pred),
            "f1": fbeta_score(y, pred, beta=1.0, zero_division=0),
            "f2": fbeta_score(y, pred, beta=2.0, zero_division=0),
            "balanced_accuracy": balanced_accuracy_score(y, pred),
            "precision": precision_score(y, pred, zero_division=0),
            "recall": recall_score(y, pred, zero_division=0),
        }
    for name, value in want.items():
        assert got[name] == float(value), (name, got[name], float(value))


scores = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.9, 1.0])
              | st.floats(0, 1)),
    min_size=2, max_size=300,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(scores)
def test_ranking_scores_equal_scikit_learn(pairs):
    """Ties included (the sampled values repeat): AP and ROC-AUC step at distinct scores."""
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    from imbench.metrics import ranking_scores

    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    if y.min() == y.max():
        return  # one class: scikit-learn's own code answers
    got = ranking_scores(y, p)
    want = {
        "pr_auc": average_precision_score(y, p),
        "roc_auc": roc_auc_score(y, p),
        "brier": brier_score_loss(y, p),
        "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]),
    }
    for name, value in want.items():
        assert abs(got[name] - float(value)) <= 1e-12 * max(1.0, abs(float(value))), name
