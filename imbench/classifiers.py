"""Classifier registry: a name, an unfitted estimator for a seed, a small grid."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
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
