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
