"""Classifier registry: a name, an unfitted estimator for a seed, a small grid."""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from imbench.errors import ConfigError
from imbench.packages import origin, stamped

__all__ = ["CLASSIFIERS", "Classifier", "get_classifier", "register_classifier"]


@dataclass(frozen=True)
class Classifier:
    """A classifier: a registry entry, and the plugin contract.

    Parameters
    ----------
    name
        The registry name; cells and leaderboards use it.
    make
        ``make(seed)`` returns an unfitted scikit-learn-compatible binary classifier
        (``fit``, ``get_params``/``set_params``, ``clone``-able) seeded by ``seed``.
    grid
        Parameter points tried on the inner folds (bare parameter names), jointly
        with the strategy's grid; the best by inner PR-AUC is refitted.
    accepts_class_weight, accepts_sample_weight
        How ``balanced`` and ``cost`` reach it: a ``class_weight`` parameter, else
        ``sample_weight`` in ``fit``; with neither, those cells are skipped.
    description
        One line for ``imbench list``.
    native_weighting
        The classifier's own imbalance knob, ``(estimator, "balanced" | "cost",
        cost_ratio) -> estimator`` (XGBoost's ``scale_pos_weight``).
    cost
        Rough fit time relative to ``lr``, for batching only.
    fits_majority_only
        It fits on majority rows only (the anomaly reframe): class weights and
        oversampling cannot change it, so those cells are skipped.
    scores
        ``predict_proba`` (column 1 is the minority score) or ``decision_function``
        (mapped to (0, 1) by a logistic, so 0.5 is its own default decision).
    spec
        Its identity in cell ids (``""`` for built-ins), see ``Strategy``.
    accepts_sparse
        ``fit`` and its scores take a SciPy sparse matrix: one-hot encoded
        categorical columns reach it sparse (where under 30 % of the encoded matrix
        is non-zero), not as a dense copy that grows with rows x categories.
    """

    name: str
    make: Callable[[int], Any]
    grid: tuple[dict[str, Any], ...]
    accepts_class_weight: bool = True
    description: str = ""
    # the classifier's own imbalance knob: (estimator, "balanced" | "cost", cost_ratio) -> est
    native_weighting: Callable[[Any, str, float], Any] | None = None
    cost: float = 1.0  # rough fit time relative to lr, for batching (plan.py)
    # fits on majority rows only (the anomaly reframe): class weights and oversampling
    # cannot change it, so those cells are skipped with that reason
    fits_majority_only: bool = False
    accepts_sample_weight: bool = True
    scores: Literal["predict_proba", "decision_function"] = "predict_proba"
    spec: str = ""
    accepts_sparse: bool = False


CLASSIFIERS: dict[str, Classifier] = {}


def register_classifier(clf: Classifier) -> Classifier:
    """Add ``clf`` to the registry; a plugin calls this when imported.

    Parameters
    ----------
    clf
        The entry. One without a ``spec`` gets one naming the module it comes from
        (the plugin being loaded, else the module defining ``make``) and that module's
        package version, so its cells recompute when the package changes.

    Returns
    -------
    Classifier
        The entry as registered (with its ``spec``).
    """
    return _add(stamped(clf, origin(clf.make)))


def _add(clf: Classifier) -> Classifier:
    CLASSIFIERS[clf.name] = clf
    return clf


# registered only when their library is installed: what to install otherwise
OPTIONAL_CLASSIFIERS = {
    "xgb": 'pip install -e ".[gbdt]" (xgboost)',
    "lgbm": 'pip install -e ".[gbdt]" (lightgbm)',
    "catboost": 'pip install -e ".[gbdt]" (catboost)',
}


def _sample_weight(sample_weight: Any, n: int) -> np.ndarray:
    """``sample_weight`` as n float weights: a scalar for every row, or one per row."""
    if np.isscalar(sample_weight):
        return np.full(n, sample_weight, dtype=np.float64)
    weights = check_array(
        sample_weight, ensure_2d=False, dtype=[np.float64, np.float32], input_name="sample_weight"
    )
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(
            f"sample_weight.shape == {weights.shape}, expected ({n},): one weight per row"
        )
    if not np.any(weights):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


def get_classifier(name: str) -> Classifier:
    try:
        return CLASSIFIERS[name.strip()]
    except KeyError:
        if name.strip() in OPTIONAL_CLASSIFIERS:
            raise ConfigError(
                f"classifiers: {name.strip()!r} needs its library: "
                f"{OPTIONAL_CLASSIFIERS[name.strip()]}"
            ) from None
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # a normal class and an anomalous one
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> AnomalyScorer:
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) > 2:
            raise ValueError(
                f"Only binary classification is supported: got {len(self.classes_)} classes"
            )
        if len(self.classes_) < 2:
            raise ValueError("AnomalyScorer needs a normal and an anomalous class; got 1 class")
        normal = y == self.classes_[0]
        weights = None
        if sample_weight is not None:
            weights = _sample_weight(sample_weight, len(X))
            if len(np.unique(y[weights > 0])) < 2:
                raise ValueError("AnomalyScorer: only 1 class has a positive sample weight")
            weights = weights[normal]
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            max_features=self.max_features,
            random_state=self.random_state,
        )
        self.forest_.fit(X[normal], sample_weight=weights)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        anomaly = np.clip(-self.forest_.score_samples(X), 0.0, 1.0)
        return np.column_stack([1.0 - anomaly, anomaly])

    def predict(self, X: Any) -> np.ndarray:
        anomalous = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[anomalous.astype(int)]


_add(
    Classifier(
        "lr",
        lambda seed: LogisticRegression(max_iter=2000, random_state=seed),
        ({"C": 0.1}, {"C": 1.0}),
        description="logistic regression (lbfgs), C grid",
        accepts_sparse=True,
    )
)
_add(
    Classifier(
        "rf",
        lambda seed: RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed),
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 5}),
        cost=20,
        description="random forest, 100 trees, leaf-size grid",
    )
)
_add(
    Classifier(
        "hgb",
        lambda seed: HistGradientBoostingClassifier(
            max_iter=100, early_stopping=False, random_state=seed
        ),
        ({"learning_rate": 0.05}, {"learning_rate": 0.2}),
        cost=14,
        description="histogram gradient boosting, 100 iterations, learning-rate grid",
    )
)

# k-NN and a single tree: the learners that resampling studies (smote-variants'
# ranking among them) find it helps most, so their claims can be checked here
_add(
    Classifier(
        "knn",
        lambda seed: KNeighborsClassifier(n_jobs=1),
        ({"n_neighbors": 5}, {"n_neighbors": 15}),
        accepts_class_weight=False,
        accepts_sample_weight=False,  # balanced and cost cells are skipped, with that reason
        description="k nearest neighbours (scaled features), k grid; no class weights",
    )
)
_add(
    Classifier(
        "dt",
        lambda seed: DecisionTreeClassifier(random_state=seed),
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 10}),
        description="one decision tree, leaf-size grid",
    )
)


def _balanced_random_forest(seed: int) -> Any:
    # imbalanced-learn is imported where an estimator is made: reading the registry
    # (validating a config, answering a finished sweep) does not need it
    from imblearn.ensemble import BalancedRandomForestClassifier

    return BalancedRandomForestClassifier(
        n_estimators=100,
        sampling_strategy="all",
        replacement=True,
        bootstrap=False,
        n_jobs=1,
        random_state=seed,
    )


_add(
    Classifier(
        "brf",
        _balanced_random_forest,
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 5}),
        cost=15,
        description="balanced random forest (each tree on a balanced bootstrap), leaf-size grid",
    )
)
_add(
    Classifier(
        "iforest",
        lambda seed: AnomalyScorer(random_state=seed),
        ({"max_features": 1.0}, {"max_features": 0.5}),
        accepts_class_weight=False,
        cost=5,
        fits_majority_only=True,
        description="anomaly reframe: IsolationForest on majority rows, anomaly score as score",
    )
)


# --- gradient boosting extras (pip install imbench[gbdt]) -----------------------------


class FittedDelegate(ClassifierMixin, BaseEstimator):
    """A wrapper that fits a configured copy of ``estimator`` as ``estimator_`` and
    predicts through it. It accepts what its estimator accepts (sparse input, NaN)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            inner = get_tags(self.estimator)
            tags.input_tags.sparse = inner.input_tags.sparse
            tags.input_tags.allow_nan = inner.input_tags.allow_nan
            tags.classifier_tags = inner.classifier_tags
            tags.classifier_tags.multi_label = False  # a wrapper takes one column of labels
        if self._binary_only():
            tags.classifier_tags.multi_class = False
        return tags

    def _binary_only(self) -> bool:
        """True when this wrapper's knob is defined for a negative and a positive class."""
        return False

    def _fit_data(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Validate X and y as the estimator will, and record n_features_in_."""
        tags = self.__sklearn_tags__()
        X, y = validate_data(
            self, X, y, accept_sparse=tags.input_tags.sparse,
            ensure_all_finite=not tags.input_tags.allow_nan, dtype=None,
        )  # fmt: skip
        check_classification_targets(y)
        if self._binary_only() and len(np.unique(y)) > 2:
            raise ValueError(
                f"Only binary classification is supported by {type(self).__name__}: "
                f"got {len(np.unique(y))} classes"
            )
        return X, np.asarray(y)

    def _checked(self, X: Any) -> Any:
        """Fitted, and X as wide as the data it was fitted on."""
        check_is_fitted(self)
        tags = self.__sklearn_tags__()
        return validate_data(
            self, X, reset=False, accept_sparse=tags.input_tags.sparse,
            ensure_all_finite=not tags.input_tags.allow_nan, dtype=None,
        )  # fmt: skip

    def predict_proba(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.estimator_.predict(X)

    @available_if(lambda self: hasattr(self.estimator, "decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.estimator_.decision_function(X)


class DecisionScores(FittedDelegate):
    """A classifier that scores by ``decision_function`` (an SVM, a ridge classifier)
    made to give ``predict_proba``: the logistic of its decision value, so the default
    threshold 0.5 is its own decision boundary. Not a calibration: ``+calibrated``
    fits a map on inner folds, and Brier / ECE measure what this one leaves."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionScores:
        X, y = self._fit_data(X, y)
        self.estimator_ = clone(self.estimator)
        if sample_weight is None:
            self.estimator_.fit(X, y)
        else:
            self.estimator_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def _binary_only(self) -> bool:
        return True

    def predict_proba(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        score = expit(np.asarray(self.estimator_.decision_function(X), dtype=float))
        return np.column_stack([1.0 - score, score])


class ScalePosWeight(FittedDelegate):
    """Sets ``scale_pos_weight`` at fit time: n_negative / n_positive of the rows it is
    fitted on (``balanced``), or a fixed cost ratio."""

    def __init__(self, estimator: Any = None, weight: Any = "balanced") -> None:
        self.estimator = estimator
        self.weight = weight

    def _binary_only(self) -> bool:
        return True

    def fit(self, X: Any, y: Any) -> ScalePosWeight:
        X, y = self._fit_data(X, y)
        # gradient-boosting libraries want labels 0..k-1: encode, and decode in predict
        self.classes_, y = np.unique(y, return_inverse=True)
        n_pos = max(int(y.sum()), 1)
        value = (len(y) - n_pos) / n_pos if self.weight == "balanced" else float(self.weight)
        self.estimator_ = clone(self.estimator).set_params(scale_pos_weight=value)
        self.estimator_.fit(X, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.classes_[np.asarray(self.estimator_.predict(X), dtype=int)]


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _xgb(seed: int) -> Any:
    from xgboost import XGBClassifier

    return XGBClassifier(
        n_estimators=100, max_depth=4, tree_method="hist", n_jobs=1, random_state=seed, verbosity=0
    )


def _lgbm(seed: int) -> Any:
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=100, n_jobs=1, random_state=seed, verbose=-1)


def _catboost(seed: int) -> Any:
    from catboost import CatBoostClassifier

    return CatBoostClassifier(
        iterations=100,
        depth=6,
        thread_count=1,
        random_seed=seed,
        verbose=0,
        allow_writing_files=False,
    )


def _lgbm_weighting(est: Any, kind: str, cost_ratio: float) -> Any:
    if kind == "balanced":
        return est.set_params(is_unbalance=True)
    return est.set_params(scale_pos_weight=cost_ratio)


def _catboost_weighting(est: Any, kind: str, cost_ratio: float) -> Any:
    if kind == "balanced":
        return est.set_params(auto_class_weights="Balanced")
    return est.set_params(scale_pos_weight=cost_ratio)


if installed("xgboost"):
    _add(
        Classifier(
            "xgb",
            _xgb,
            ({"learning_rate": 0.05}, {"learning_rate": 0.2}),
            accepts_class_weight=False,
            native_weighting=lambda est, kind, c: ScalePosWeight(
                est, "balanced" if kind == "balanced" else c
            ),
            cost=6,
            description="XGBoost, 100 trees of depth 4; weights via scale_pos_weight",
        )
    )
if installed("lightgbm"):
    _add(
        Classifier(
            "lgbm",
            _lgbm,
            ({"learning_rate": 0.05}, {"learning_rate": 0.2}),
            accepts_class_weight=False,
            native_weighting=_lgbm_weighting,
            cost=6,
            description="LightGBM, 100 trees; weights via is_unbalance / scale_pos_weight",
        )
    )
if installed("catboost"):
    _add(
        Classifier(
            "catboost",
            _catboost,
            ({"learning_rate": 0.05}, {"learning_rate": 0.2}),
            accepts_class_weight=False,
            native_weighting=_catboost_weighting,
            cost=15,
            description="CatBoost, 100 iterations; auto_class_weights / scale_pos_weight",
        )
    )
