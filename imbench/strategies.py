"""Strategy registry: each entry turns a classifier into an imblearn Pipeline.

Samplers always sit inside ``imblearn.pipeline.Pipeline`` after scaling, so they
only ever see the rows the pipeline is fitted on. The ``+threshold`` modifier is
not a different model: it reuses the same fits and tunes the decision threshold
on inner out-of-fold predictions (see protocol.py). ``+calibrated`` likewise
reuses the fits and maps scores to probabilities with a calibrator fitted on
those inner out-of-fold predictions (calibration.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from imblearn.combine import SMOTEENN, SMOTETomek
from imblearn.ensemble import EasyEnsembleClassifier
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler, TomekLinks
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from imbench.classifiers import Classifier
from imbench.errors import ConfigError

MODIFIERS = ("calibrated", "threshold")  # canonical order in names
K_NEIGHBORS = 5


@dataclass(frozen=True)
class Strategy:
    name: str
    make_sampler: Callable[[int], Any] | None = None
    weighting: Literal["balanced", "cost"] | None = None
    wrap: Callable[[Any, int], Any] | None = None  # ensemble around the classifier
    min_minority_train: int = 2
    description: str = ""


@dataclass(frozen=True)
class StrategySpec:
    """A registry entry plus modifiers, e.g. ``smote+calibrated+threshold``."""

    base: Strategy
    tune_threshold: bool = False
    calibrated: bool = False

    @property
    def modifiers(self) -> tuple[str, ...]:
        on = {"calibrated": self.calibrated, "threshold": self.tune_threshold}
        return tuple(m for m in MODIFIERS if on[m])

    @property
    def name(self) -> str:
        """``none`` is left out when a modifier follows: ``threshold``, ``calibrated``."""
        parts = list(self.modifiers)
        if self.base.name != "none" or not parts:
            parts.insert(0, self.base.name)
        return "+".join(parts)


STRATEGIES: dict[str, Strategy] = {}


def register_strategy(strategy: Strategy) -> Strategy:
    STRATEGIES[strategy.name] = strategy
    return strategy


def parse_strategy(name: str) -> StrategySpec:
    """``smote``, ``smote+threshold``, ``smote+calibrated+threshold``, ``threshold``
    (= ``none+threshold``), in any modifier order."""
    tokens = [t.strip() for t in name.strip().split("+")]
    if tokens[0] in MODIFIERS:
        tokens.insert(0, "none")
    base_name, mods = tokens[0], tokens[1:]
    if base_name not in STRATEGIES:
        known = [*STRATEGIES, *MODIFIERS]
        close = difflib.get_close_matches(base_name, known, n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"strategies: unknown strategy {name!r}{hint}; known: {', '.join(STRATEGIES)}, "
            f"with modifiers {', '.join('+' + m for m in MODIFIERS)}"
        )
    for mod in mods:
        if mod not in MODIFIERS:
            close = difflib.get_close_matches(mod, MODIFIERS, n=1)
            hint = f" (did you mean +{close[0]}?)" if close else ""
            raise ConfigError(
                f"strategies: unknown modifier '+{mod}' in {name!r}{hint}; "
                f"known: {', '.join('+' + m for m in MODIFIERS)}"
            )
    if len(set(mods)) != len(mods):
        raise ConfigError(f"strategies: {name!r} repeats a modifier")
    return StrategySpec(
        STRATEGIES[base_name], tune_threshold="threshold" in mods, calibrated="calibrated" in mods
    )


class SampleWeighted(ClassifierMixin, BaseEstimator):
    """Class weights as sample_weight, for classifiers without ``class_weight``."""

    def __init__(self, estimator: Any = None, class_weight: Any = "balanced") -> None:
        self.estimator = estimator
        self.class_weight = class_weight

    def fit(self, X: np.ndarray, y: np.ndarray) -> SampleWeighted:
        self.estimator_ = clone(self.estimator)
        weights = compute_sample_weight(self.class_weight, y)
        self.estimator_.fit(X, y, sample_weight=weights)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator_.predict(X)


def build_pipeline(
    strategy: Strategy,
    classifier: Classifier,
    *,
    params: dict[str, Any],
    seed: int,
    cost_ratio: float,
) -> Pipeline:
    """scale -> [sampler] -> classifier (weighted as the strategy says)."""
    clf = classifier.make(seed).set_params(**params)
    if strategy.weighting is not None:
        weights = "balanced" if strategy.weighting == "balanced" else {0: 1.0, 1: cost_ratio}
        if classifier.accepts_class_weight:
            clf.set_params(class_weight=weights)
        else:
            clf = SampleWeighted(clf, class_weight=weights)
    if strategy.wrap is not None:
        clf = strategy.wrap(clf, seed)
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
    if strategy.make_sampler is not None:
        steps.append(("sample", strategy.make_sampler(seed)))
    steps.append(("clf", clf))
    return Pipeline(steps)


_NEED_K = K_NEIGHBORS + 1
for _s in (
    Strategy("none", description="no treatment"),
    Strategy("balanced", weighting="balanced", description="class_weight='balanced'"),
    Strategy("cost", weighting="cost", description="explicit class weights {0: 1, 1: cost_ratio}"),
    Strategy("ros", lambda s: RandomOverSampler(random_state=s), description="random oversampling"),
    Strategy(
        "smote",
        lambda s: SMOTE(k_neighbors=K_NEIGHBORS, random_state=s),
        min_minority_train=_NEED_K,
        description="SMOTE, k=5",
    ),
    Strategy(
        "borderline_smote",
        lambda s: BorderlineSMOTE(k_neighbors=K_NEIGHBORS, random_state=s),
        min_minority_train=_NEED_K,
        description="Borderline-SMOTE-1, k=5, m=10",
    ),
    Strategy(
        "adasyn",
        lambda s: ADASYN(n_neighbors=K_NEIGHBORS, random_state=s),
        min_minority_train=_NEED_K,
        description="ADASYN, k=5",
    ),
    Strategy(
        "rus", lambda s: RandomUnderSampler(random_state=s), description="random undersampling"
    ),
    Strategy("tomek", lambda s: TomekLinks(), description="Tomek-link cleaning"),
    Strategy(
        "smoteenn",
        lambda s: SMOTEENN(smote=SMOTE(k_neighbors=K_NEIGHBORS, random_state=s), random_state=s),
        min_minority_train=_NEED_K,
        description="SMOTE then Edited Nearest Neighbours",
    ),
    Strategy(
        "smotetomek",
        lambda s: SMOTETomek(smote=SMOTE(k_neighbors=K_NEIGHBORS, random_state=s), random_state=s),
        min_minority_train=_NEED_K,
        description="SMOTE then Tomek links",
    ),
    Strategy(
        "easy_ensemble",
        wrap=lambda clf, s: EasyEnsembleClassifier(n_estimators=10, estimator=clf, random_state=s),
        description="EasyEnsemble: 10 copies of the classifier, each on a balanced undersample",
    ),
):
    register_strategy(_s)
