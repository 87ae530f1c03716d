"""The rest of imbalanced-learn's public samplers and ensembles, as strategies named
``imb_<class name, lower case>``, and its balanced random forest as the classifier
``imb_brf``.

Loaded by ``plugins = ["imbench.plugins.imblearn"]``. imbench's built-ins already
cover RandomOverSampler (``ros``), SMOTE (``smote``; SMOTENC and SMOTEN on
categorical data), BorderlineSMOTE (``borderline_smote``), ADASYN, RandomUnderSampler
(``rus``), TomekLinks (``tomek``), SMOTEENN, SMOTETomek and EasyEnsembleClassifier
(``easy_ensemble``); this plugin adds every other class in the public ``__all__`` of
``imblearn.over_sampling``, ``under_sampling``, ``combine`` and ``ensemble``, on the
library's defaults (seeded with the cell's seed, one job). A sampler with a
k-nearest-neighbour search needs its k + 1 minority rows per inner training fold.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from imbench.classifiers import Classifier, register_classifier
from imbench.hashing import stable_hash
from imbench.methods import Seeded, Wraps, neighbours_needed
from imbench.packages import package_version
from imbench.strategies import Strategy, register_strategy

__all__ = ["BUILT_IN", "PREFIX", "register"]

PREFIX = "imb_"
MODULES = ("over_sampling", "under_sampling", "combine", "ensemble")
# classes imbench ships as built-ins (with their grids and categorical handling)
BUILT_IN = frozenset(
    {"RandomOverSampler", "SMOTE", "SMOTENC", "SMOTEN", "BorderlineSMOTE", "ADASYN",
     "RandomUnderSampler", "TomekLinks", "SMOTEENN", "SMOTETomek", "EasyEnsembleClassifier"}
)  # fmt: skip
# samplers whose default sampling_strategy ("auto") balances the classes: a model
# after them trains on a prevalence of one half (for calibration = "prior")
BALANCING = frozenset({"KMeansSMOTE", "SVMSMOTE", "ClusterCentroids", "NearMiss"})


@dataclass(frozen=True)
class _Fixed(Seeded):
    """``cls(**params)``, seeded and with one job where it takes them."""

    def __call__(self, seed: int) -> Any:
        est = super().__call__(seed)
        if "n_jobs" in est.get_params(deep=False):
            est.set_params(n_jobs=1)
        return est


def _strategy(cls: Any, version: str) -> Strategy | None:
    name = PREFIX + cls.__name__.lower()
    spec = stable_hash(["imblearn", version, cls.__name__])
    description = f"imblearn.{cls.__module__.split('.')[1]}.{cls.__name__} ({version})"
    instance = cls()
    if hasattr(cls, "fit_resample"):
        return Strategy(
            name,
            make_sampler=_Fixed(cls, {}),
            on_categorical="unsupported",
            min_minority_train=neighbours_needed(instance, ()),
            description=description,
            spec=spec,
            trains_on="balanced" if cls.__name__ in BALANCING else None,
        )
    if "estimator" in instance.get_params(deep=False):
        return Strategy(
            name, wrap=Wraps(_Fixed(cls, {})), cost=7.0, description=description, spec=spec
        )
    return None


def register() -> tuple[list[Strategy], list[Classifier]]:
    """Register the samplers and ensembles the built-ins do not cover."""
    version = package_version("imblearn")
    strategies = []
    for module in MODULES:
        mod = importlib.import_module(f"imblearn.{module}")
        for class_name in mod.__all__:
            if class_name in BUILT_IN:
                continue
            strategy = _strategy(getattr(mod, class_name), version)
            if strategy is not None:
                strategies.append(register_strategy(strategy))
    from imblearn.ensemble import BalancedRandomForestClassifier

    forest = Classifier(
        "imb_brf",
        _Fixed(BalancedRandomForestClassifier, {"n_estimators": 100}),
        ({"min_samples_leaf": 1}, {"min_samples_leaf": 5}),
        cost=20,
        description=f"imblearn BalancedRandomForestClassifier, 100 trees ({version})",
        spec=stable_hash(["imblearn", version, "BalancedRandomForestClassifier"]),
    )
    return strategies, [register_classifier(forest)]


register()
