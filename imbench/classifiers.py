"""Classifier registry: a name, an unfitted estimator for a seed, a small grid."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from imblearn.ensemble import BalancedRandomForestClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression

from imbench.errors import ConfigError


@dataclass(frozen=True)
class Classifier:
    name: str
    make: Callable[[int], Any]
    grid: tuple[dict[str, Any], ...]
    accepts_class_weight: bool = True
    description: str = ""


CLASSIFIERS: dict[str, Classifier] = {}


def register_classifier(clf: Classifier) -> Classifier:
    CLASSIFIERS[clf.name] = clf
    return clf


def get_classifier(name: str) -> Classifier:
    try:
        return CLASSIFIERS[name.strip()]
    except KeyError:
        close = difflib.get_close_matches(name, list(CLASSIFIERS), n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"classifiers: unknown classifier {name!r}{hint}; known: {', '.join(CLASSIFIERS)}"
        ) from None


class AnomalyScorer(ClassifierMixin, BaseEstimator):
    """The anomaly-detection reframe: an IsolationForest fitted on the majority (normal)
    training rows; the minority-class score is its anomaly score s(x) in (0, 1]
    (Liu et al. 2008), thresholded like any other score."""

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: Any = "auto",
        max_features: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> AnomalyScorer:
        y = np.asarray(y)
        normal = y == 0
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            max_features=self.max_features,
            random_state=self.random_state,
        )
        weights = None if sample_weight is None else np.asarray(sample_weight)[normal]
        self.forest_.fit(np.asarray(X)[normal], sample_weight=weights)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        anomaly = np.clip(-self.forest_.score_samples(X), 0.0, 1.0)
        return np.column_stack([1.0 - anomaly, anomaly])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


register_classifier(
    Classifier(
        "lr",
        lambda seed: LogisticRegression(max_iter=2000, random_state=seed),
        ({"C": 0.1}, {"C": 1.0}),
        description="logistic regression (lbfgs), C grid",
    )
)
register_classifier(
    Classifier(
        "rf",
        lambda seed: RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed),
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 5}),
        description="random forest, 100 trees, leaf-size grid",
    )
)
register_classifier(
    Classifier(
        "hgb",
        lambda seed: HistGradientBoostingClassifier(
            max_iter=100, early_stopping=False, random_state=seed
        ),
        ({"learning_rate": 0.05}, {"learning_rate": 0.2}),
        description="histogram gradient boosting, 100 iterations, learning-rate grid",
    )
)
register_classifier(
    Classifier(
        "brf",
        lambda seed: BalancedRandomForestClassifier(
            n_estimators=100,
            sampling_strategy="all",
            replacement=True,
            bootstrap=False,
            n_jobs=1,
            random_state=seed,
        ),
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 5}),
        description="balanced random forest (each tree on a balanced bootstrap), leaf-size grid",
    )
)
register_classifier(
    Classifier(
        "iforest",
        lambda seed: AnomalyScorer(random_state=seed),
        ({"max_features": 1.0}, {"max_features": 0.5}),
        accepts_class_weight=False,
        description="anomaly reframe: IsolationForest on majority rows, anomaly score as score",
    )
)
