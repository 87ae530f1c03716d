"""Honest nested cross-validation for one (dataset, strategy, classifier, seed).

For each outer fold: an inner stratified K-fold on the outer-train rows scores
every grid point by PR-AUC; the best configuration is refitted once on the whole
outer-train part and the outer test fold is scored once. The best one's inner
out-of-fold predictions are kept: they alone fit the calibration map
(``+calibrated``) and choose the decision threshold (``+threshold``), see
``FoldOutcome.variant``. The outer test rows never reach a fit, a model
selection, a calibrator or a threshold.

Fits per call: outer folds x (inner folds x grid size + 1). Variants that
differ only by their modifiers share them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from cachetools import LRUCache
from sklearn import config_context
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from imbench.calibration import CalibrationMap, CalibrationMethod, fit_calibrator
from imbench.classifiers import Classifier
from imbench.config import ProtocolConfig, SweepConfig
from imbench.declared import Methods
from imbench.errors import CannotRun
from imbench.metrics import DEFAULT_THRESHOLD
from imbench.objectives import ThresholdObjective, average_precision
from imbench.seeding import derive_seed
from imbench.strategies import (
    Features,
    Strategy,
    StrategySpec,
    build_pipeline,
    no_effect_reason,
    unsupported_reason,
)


@dataclass(frozen=True)
class ProtocolSettings:
    """What evaluating a unit needs beyond its data: the sweep's ``[protocol]`` as
    configured, its cost ratio and its declared methods (installed by each worker).

    The settings themselves are defined once, in ``imbench.config.ProtocolConfig``;
    the properties here are the ones the protocol reads on every fold.
    """

    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    cost_ratio: float = 10.0
    methods: Methods = field(default_factory=Methods)

    @classmethod
    def of(cls, cfg: SweepConfig) -> ProtocolSettings:
        """The settings of a sweep (its methods with their package versions)."""
        return cls(cfg.protocol, cfg.cost_ratio, cfg.methods().with_versions())

    @classmethod
    def with_protocol(cls, **protocol: Any) -> ProtocolSettings:
        """Defaults but for these ``[protocol]`` values (``outer_folds=3``)."""
        return cls(ProtocolConfig(**protocol))

    def with_settings(self, **protocol: Any) -> ProtocolSettings:
        """These settings with some ``[protocol]`` values changed (validated)."""
        changed = self.protocol.model_validate({**self.protocol.model_dump(), **protocol})
        return replace(self, protocol=changed)

    @property
    def outer_folds(self) -> int:
        return self.protocol.outer_folds

    @property
    def outer_repeats(self) -> int:
        return self.protocol.outer_repeats

    @property
    def n_outer_folds(self) -> int:
        """A unit's outer test folds: outer folds x repeats."""
        return self.protocol.outer_folds * self.protocol.outer_repeats

    @property
    def inner_folds(self) -> int:
        return self.protocol.inner_folds

    @property
    def calibration(self) -> CalibrationMethod:
        return self.protocol.calibration

    @property
    def cell_timeout_s(self) -> float | None:
        return self.protocol.cell_timeout_s

    @property
    def objective(self) -> ThresholdObjective:
        """The ``+threshold`` objective with its parameters."""
        p = self.protocol
        return ThresholdObjective(
            kind=p.threshold_objective,
            beta=p.beta,
            fp_cost=p.fp_cost,
            fn_cost=p.fn_cost,
            capacity=p.capacity,
            min_precision=p.min_precision,
        )


@dataclass
class FoldOutcome:
    """What the outer test fold sees: its scores and the choices made without it."""

    fold: int
    test_index: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    proba: np.ndarray = field(repr=False)
    params: dict[str, Any]
    inner_pr_auc: float
    y_train: np.ndarray = field(repr=False)
    oof: np.ndarray = field(repr=False)
    fit_seconds: float
    n_train: int
    n_train_minority: int
    n_fits: int
    _maps: dict[str, CalibrationMap] = field(default_factory=dict, repr=False, compare=False)

    def calibration(
        self, method: CalibrationMethod, trained_prevalence: float | None = None
    ) -> CalibrationMap:
        """The ``+calibrated`` map, fitted on the inner out-of-fold predictions only
        (``prior``: from the prevalence the model trained on, ``trained_prevalence``)."""
        if method not in self._maps:
            self._maps[method] = fit_calibrator(self.y_train, self.oof, method, trained_prevalence)
        return self._maps[method]

    def calibration_of(self, spec: StrategySpec, settings: ProtocolSettings) -> CalibrationMap:
        """The ``+calibrated`` map of this unit's strategy under ``settings``."""
        prevalence = trained_prevalence(spec.base, self.y_train, settings.cost_ratio)
        return self.calibration(settings.calibration, prevalence)

    def variant(self, spec: StrategySpec, settings: ProtocolSettings) -> tuple[np.ndarray, float]:
        """Outer-test probabilities and threshold of one modifier combination.

        Both the calibration map and the threshold come from the inner
        out-of-fold predictions (``y_train``, ``oof``) only.
        """
        proba, inner = self.proba, self.oof
        if spec.calibrated:
            calibrate = self.calibration_of(spec, settings)
            proba, inner = calibrate(proba), calibrate(inner)
        threshold = settings.objective.choose(self.y_train, inner) if spec.tune_threshold else None
        return proba, DEFAULT_THRESHOLD if threshold is None else threshold


def trained_prevalence(strategy: Strategy, y_train: np.ndarray, cost_ratio: float) -> float | None:
    """The minority prevalence a strategy's classifier effectively trains on, from the
    training rows' own (``Strategy.trains_on``); None where no closed form says."""
    pi = float(np.mean(y_train))
    if strategy.trains_on == "data":
        return pi
    if strategy.trains_on == "balanced":
        return 0.5
    if strategy.trains_on == "cost":
        return cost_ratio * pi / (cost_ratio * pi + 1.0 - pi)
    return None


Splits = list[tuple[np.ndarray, np.ndarray]]

# A worker evaluates many parts of one dataset (strategies x outer folds share its
# folds), and each part asked for the same splits twice (feasibility, then the
# fits): on large data recomputing StratifiedKFold was a visible share of a worker's
# CPU. Splits depend only on the labels and the seed, so they are kept per process,
# read-only, bounded in bytes (1 000 000 rows: the outer splits take 40 MB).
SPLIT_CACHE_BYTES = 64_000_000


def _nbytes(splits: Splits) -> int:
    return sum(train.nbytes + test.nbytes for train, test in splits)


_splits: LRUCache[tuple[Any, ...], Splits] = LRUCache(maxsize=SPLIT_CACHE_BYTES, getsizeof=_nbytes)


def _labels_key(y: np.ndarray) -> tuple[Any, ...]:
    labels = np.ascontiguousarray(y)
    digest = hashlib.blake2b(labels.tobytes(), digest_size=16).hexdigest()
    return (labels.dtype.str, labels.shape, digest)


def _cached_splits(key: tuple[Any, ...], make: Callable[[], Splits]) -> Splits:
    found = _splits.get(key)
    if found is None:
        found = make()
        for pair in found:
            for index in pair:
                index.flags.writeable = False
        if _nbytes(found) <= SPLIT_CACHE_BYTES:
            _splits[key] = found
    return list(found)


def outer_splits(y: np.ndarray, settings: ProtocolSettings, seed: int) -> Splits:
    """The outer folds: (train, test) row indices, read-only."""
    folds, repeats = settings.outer_folds, settings.outer_repeats

    def make() -> Splits:
        cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y))

    return _cached_splits(("outer", folds, repeats, seed, *_labels_key(y)), make)


def inner_splits(y_train: np.ndarray, settings: ProtocolSettings, seed: int, fold: int) -> Splits:
    """The inner folds of outer fold ``fold`` (indices into its training rows), read-only."""
    folds, inner_seed = settings.inner_folds, derive_seed(seed, fold)

    def make() -> Splits:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=inner_seed)
        return list(cv.split(np.zeros(len(y_train)), y_train))

    return _cached_splits(("inner", folds, inner_seed, *_labels_key(y_train)), make)


def check_feasible(
    y: np.ndarray,
    strategy: Strategy,
    settings: ProtocolSettings,
    split_seed: int,
    features: Features | None = None,
    folds: tuple[int, ...] | None = None,
) -> None:
    """Raise CannotRun before any fit if the folds are too small for the strategy, or
    the strategy cannot handle the data's categorical features. ``folds``: check only
    these outer folds (a unit's part runs only those; the part holding a fold that is
    too small says so, and the flow skips the whole unit)."""
    reason = unsupported_reason(strategy, features)
    if reason:
        raise CannotRun(reason)
    n_min = int(y.sum())
    if n_min < settings.outer_folds:
        raise CannotRun(f"{n_min} minority rows < {settings.outer_folds} outer folds")
    smallest = None
    for fold, (train, _) in enumerate(outer_splits(y, settings, split_seed)):
        if folds is not None and fold not in folds:
            continue
        if int(y[train].sum()) < settings.inner_folds:
            raise CannotRun(
                f"outer fold {fold} has < {settings.inner_folds} minority rows for inner CV"
            )
        for itrain, _ in inner_splits(y[train], settings, split_seed, fold):
            count = int(y[train][itrain].sum())
            smallest = count if smallest is None else min(smallest, count)
    if smallest is not None and smallest < strategy.min_minority_train:
        raise CannotRun(
            f"{strategy.name} needs >= {strategy.min_minority_train} minority rows in every "
            f"inner training fold; the smallest has {smallest}"
        )


def joint_grid(strategy: Strategy, classifier: Classifier) -> list[dict[str, Any]]:
    """The configurations the inner loop compares: every classifier point with every
    strategy point (``sampler__k_neighbors``), searched jointly, so a sampler's
    parameters are chosen on inner folds like the classifier's."""
    return [{**c, **s} for c in (classifier.grid or ({},)) for s in (strategy.grid or ({},))]


def fits_per_unit(strategy: Strategy, classifier: Classifier, settings: ProtocolSettings) -> int:
    """outer folds x (inner folds x grid + 1): what one unit of shared fits costs."""
    inner = settings.inner_folds * len(joint_grid(strategy, classifier))
    return settings.n_outer_folds * (inner + 1)


def _proba(model: Any, X: np.ndarray) -> np.ndarray:
    return model.predict_proba(X)[:, 1]


def select(
    X: np.ndarray,
    y: np.ndarray,
    grid: list[dict[str, Any]],
    make: Callable[[dict[str, Any]], Any],
    inner: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[float, int, np.ndarray]:
    """The inner loop: the grid point with the best mean inner PR-AUC, that score, and
    its out-of-fold scores (what a threshold and a calibration map are chosen on)."""
    best: tuple[float, int, np.ndarray] | None = None
    for gi, params in enumerate(grid):
        oof = np.empty(len(y))
        fold_scores = []
        for itrain, itest in inner:
            model = make(params).fit(X[itrain], y[itrain])
            oof[itest] = _proba(model, X[itest])
            fold_scores.append(average_precision(y[itest], oof[itest]))
        score = float(np.mean(fold_scores))
        if best is None or score > best[0]:
            best = (score, gi, oof)
    assert best is not None
    return best


def nested_cv(
    X: np.ndarray,
    y: np.ndarray,
    strategy: Strategy,
    classifier: Classifier,
    *,
    settings: ProtocolSettings,
    split_seed: int,
    model_seed: int,
    categorical: tuple[int, ...] = (),
    folds: tuple[int, ...] | None = None,
) -> list[FoldOutcome]:
    """Run the protocol; one FoldOutcome per outer fold (of ``folds`` only, when
    given: a fold's outcome does not depend on which other folds run)."""
    features = Features(X.shape[1], tuple(categorical), bool(np.isnan(X).any()))
    no_effect = no_effect_reason(strategy, classifier)
    if no_effect:
        raise CannotRun(no_effect)
    check_feasible(y, strategy, settings, split_seed, features, folds)
    grid = joint_grid(strategy, classifier)

    def make(params: dict[str, Any]) -> Any:
        return build_pipeline(
            strategy,
            classifier,
            params=params,
            seed=model_seed,
            cost_ratio=settings.cost_ratio,
            features=None if features.plain else features,
        )

    # Finite data stays finite through the built-in steps (scaling, resampling), so
    # scikit-learn's finiteness scan of each step's input (a visible share of a
    # small sweep's fits) is skipped; data with missing values, and a declared or plugin
    # strategy (whose sampler might make non-finite rows), keep the checks.
    finite = not strategy.spec and bool(np.isfinite(X).all())
    with config_context(assume_finite=finite):
        outcomes = []
        for fold, (train, test) in enumerate(outer_splits(y, settings, split_seed)):
            if folds is not None and fold not in folds:
                continue
            started = time.perf_counter()
            X_tr, y_tr = X[train], y[train]
            inner = inner_splits(y_tr, settings, split_seed, fold)
            inner_score, best_index, best_oof = select(X_tr, y_tr, grid, make, inner)
            final = make(grid[best_index]).fit(X_tr, y_tr)
            proba = _proba(final, X[test])
            outcomes.append(
                FoldOutcome(
                    fold=fold,
                    test_index=test,
                    y_test=y[test],
                    proba=proba,
                    params=dict(grid[best_index]),
                    inner_pr_auc=inner_score,
                    y_train=y_tr,
                    oof=best_oof,
                    fit_seconds=time.perf_counter() - started,
                    n_train=len(train),
                    n_train_minority=int(y_tr.sum()),
                    n_fits=len(inner) * len(grid) + 1,
                )
            )
        return outcomes
