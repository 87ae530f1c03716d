"""The contract suite for one registry entry (``imbench check NAME``).

What the built-ins are tested for, run on a user's strategy or classifier on a
small imbalanced fixture: it builds for every grid point, clones faithfully,
fits and scores rows, its sampler (or, for a classifier, its fit) sees
training rows only (a spy records the rows it is given inside the real nested
cross-validation), it learns a signal that is there, and it scores at chance
when the labels are permuted.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score

from imbench.classifiers import CLASSIFIERS, Classifier, FittedDelegate
from imbench.errors import CannotRun, ConfigError
from imbench.protocol import ProtocolSettings, inner_splits, joint_grid, nested_cv, outer_splits
from imbench.strategies import SAMPLER, STRATEGIES, Strategy, build_pipeline

SETTINGS = ProtocolSettings.with_protocol(outer_folds=3, inner_folds=3)
SPLIT_SEED = 11
N_ROWS, MINORITY = 400, 0.1
N_PERMUTED = 1000  # chance is judged on more rows: 4 null SE of ROC-AUC is then 0.12
_SEEN: list[np.ndarray] = []  # what the spy was given, in call order


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: does not apply to this entry
    detail: str


def fixture(seed: int = 0, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """400 rows, 10 % minority, 6 features (4 informative); column 0 holds row ids
    (standardized by the pipeline), which the spy reads back."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        weights=[1 - MINORITY],
        flip_y=0.0,
        class_sep=1.5,
        random_state=seed,
    )
    X[:, 0] = np.arange(len(y))
    return X, y


def check_entry(name: str) -> tuple[str, list[Check]]:
    """Run the suite on the strategy or classifier ``name`` (paired with lr, or with
    no treatment); ``(kind, checks)``."""
    if name in STRATEGIES:
        return "strategy", run_checks(STRATEGIES[name], CLASSIFIERS["lr"], subject="strategy")
    if name in CLASSIFIERS:
        return "classifier", run_checks(STRATEGIES["none"], CLASSIFIERS[name], subject="classifier")
    close = difflib.get_close_matches(name, [*STRATEGIES, *CLASSIFIERS], n=2)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ConfigError(f"no strategy or classifier {name!r}{hint}; `imbench list` shows them")


def run_checks(strategy: Strategy, classifier: Classifier, *, subject: str) -> list[Check]:
    X, y = fixture()
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("builds", lambda: _builds(strategy, classifier)),
        ("clones", lambda: _clones(strategy, classifier)),
        ("fits and scores", lambda: _fits(strategy, classifier, X, y)),
        ("sees training rows only", lambda: _spy(strategy, classifier, X, y, subject)),
        ("learns a real signal", lambda: _learns(strategy, classifier, X, y)),
        ("chance on permuted labels", lambda: _permuted(strategy, classifier, X, y)),
    ]
    checks = []
    for name, run in steps:
        started = time.perf_counter()
        try:
            check = run()
        except CannotRun as exc:
            check = Check(name, None, f"cannot run on the fixture: {exc}")
        except Exception as exc:  # noqa: BLE001 - the entry's own error is the finding
            check = Check(name, False, f"{type(exc).__name__}: {exc}")
        checks.append(
            replace(check, detail=f"{check.detail} ({time.perf_counter() - started:.1f} s)")
        )
    return checks


def _pipeline(strategy: Strategy, classifier: Classifier, params: dict[str, Any]) -> Any:
    return build_pipeline(strategy, classifier, params=params, seed=0, cost_ratio=5.0)


def _builds(strategy: Strategy, classifier: Classifier) -> Check:
    grid = joint_grid(strategy, classifier)
    for params in grid:
        _pipeline(strategy, classifier, params)
    return Check("builds", True, f"{len(grid)} grid point(s)")


def _clones(strategy: Strategy, classifier: Classifier) -> Check:
    for params in joint_grid(strategy, classifier):
        pipe = _pipeline(strategy, classifier, params)
        if repr(clone(pipe).get_params(deep=True)) != repr(pipe.get_params(deep=True)):
            return Check("clones", False, f"clone changes its parameters at {params}")
    return Check("clones", True, "sklearn.clone keeps every parameter")


def _fits(strategy: Strategy, classifier: Classifier, X: np.ndarray, y: np.ndarray) -> Check:
    train = np.arange(len(y)) % 3 != 0
    params = joint_grid(strategy, classifier)[0]
    model = _pipeline(strategy, classifier, params).fit(X[train], y[train])
    scores = model.predict_proba(X[~train])
    if scores.shape != (int((~train).sum()), 2):
        return Check("fits and scores", False, f"predict_proba gave shape {scores.shape}")
    minority = scores[:, 1]
    if not np.all(np.isfinite(minority)) or minority.min() < 0 or minority.max() > 1:
        return Check("fits and scores", False, "scores are not finite numbers in [0, 1]")
    return Check("fits and scores", True, f"{len(minority)} rows scored in [0, 1]")


class _SpySampler(BaseEstimator):
    """Records column 0 of the rows it is asked to resample, then resamples."""

    def __init__(self, sampler: Any = None) -> None:
        self.sampler = sampler

    def fit_resample(self, X: Any, y: Any, **params: Any) -> Any:
        _SEEN.append(np.array(X[:, 0], dtype=float))
        return clone(self.sampler).fit_resample(X, y, **params)


class _SpyFit(FittedDelegate):
    """Records column 0 of the rows it is fitted on, then fits its estimator."""

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _SpyFit:
        _SEEN.append(np.array(np.asarray(X)[:, 0], dtype=float))
        self.estimator_ = clone(self.estimator)
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_.fit(X, y, **kw)
        self.classes_ = self.estimator_.classes_
        return self


def _spied(strategy: Strategy, classifier: Classifier, subject: str) -> tuple[Strategy, Classifier]:
    if subject == "strategy" and strategy.make_sampler is not None:
        make = strategy.make_sampler
        grid = tuple(
            {
                (f"{SAMPLER}sampler__{k.removeprefix(SAMPLER)}" if k.startswith(SAMPLER) else k): v
                for k, v in point.items()
            }
            for point in strategy.grid
        )
        return replace(strategy, make_sampler=lambda s: _SpySampler(make(s)), grid=grid), classifier
    make_clf = classifier.make
    grid = tuple({f"estimator__{k}": v for k, v in p.items()} for p in classifier.grid)
    spy = replace(
        classifier, make=lambda s: _SpyFit(make_clf(s)), grid=grid, accepts_class_weight=False
    )
    return strategy, spy


def _standardized(values: np.ndarray) -> np.ndarray:
    return np.sort((values - values.mean()) / values.std())


def _spy(
    strategy: Strategy, classifier: Classifier, X: np.ndarray, y: np.ndarray, subject: str
) -> Check:
    name = "sees training rows only"
    spied_strategy, spied_clf = _spied(strategy, classifier, subject)
    what = "sampler" if spied_strategy is not strategy else "classifier's fit"
    exact = spied_strategy is not strategy or (strategy.make_sampler is None and not strategy.wrap)
    if strategy.make_sampler is not None and subject == "classifier":
        return Check(name, None, "the classifier is fitted on resampled rows here")
    _SEEN.clear()
    nested_cv(
        X, y, spied_strategy, spied_clf, settings=SETTINGS, split_seed=SPLIT_SEED, model_seed=0
    )
    seen, _SEEN[:] = list(_SEEN), []
    ids = np.arange(len(y), dtype=float)
    allowed = []
    for fold, (train, _test) in enumerate(outer_splits(y, SETTINGS, SPLIT_SEED)):
        allowed += [train[itr] for itr, _ in inner_splits(y[train], SETTINGS, SPLIT_SEED, fold)]
        allowed.append(train)
    if not seen:
        return Check(name, False, f"the spy never saw the {what} called")
    for rows in seen:
        if not any(_matches(np.sort(rows), _standardized(ids[s]), exact) for s in allowed):
            return Check(name, False, f"the {what} was given rows outside every training set")
    expected = SETTINGS.outer_folds * (
        SETTINGS.inner_folds * len(joint_grid(strategy, classifier)) + 1
    )
    if exact and len(seen) != expected:
        return Check(name, False, f"{len(seen)} {what} calls, expected {expected}")
    return Check(name, True, f"{len(seen)} {what} calls, each on training rows only")


def _matches(rows: np.ndarray, allowed: np.ndarray, exact: bool) -> bool:
    if exact:
        return len(rows) == len(allowed) and bool(np.allclose(rows, allowed))
    return bool(np.isin(np.round(rows, 9), np.round(allowed, 9)).all())


def _pooled_auc(strategy: Strategy, classifier: Classifier, X: np.ndarray, y: np.ndarray) -> float:
    outcomes = nested_cv(
        X, y, strategy, classifier, settings=SETTINGS, split_seed=SPLIT_SEED, model_seed=0
    )
    return float(
        roc_auc_score(
            np.concatenate([o.y_test for o in outcomes]),
            np.concatenate([o.proba for o in outcomes]),
        )
    )


def _learns(strategy: Strategy, classifier: Classifier, X: np.ndarray, y: np.ndarray) -> Check:
    auc = _pooled_auc(strategy, classifier, X[:, 1:], y)
    return Check("learns a real signal", auc > 0.7, f"outer-test ROC-AUC {auc:.3f} (needs > 0.7)")


def _permuted(strategy: Strategy, classifier: Classifier, X: np.ndarray, y: np.ndarray) -> Check:
    """No signal in, none out: ROC-AUC within 4 null standard errors of 0.5."""
    X, y = fixture(n=N_PERMUTED)
    y_perm = np.random.default_rng(1).permutation(y)
    auc = _pooled_auc(strategy, classifier, X[:, 1:], y_perm)
    n1 = int(y_perm.sum())
    n0 = len(y_perm) - n1
    se = float(np.sqrt((n0 + n1 + 1) / (12 * n0 * n1)))
    ok = abs(auc - 0.5) <= 4 * se
    return Check(
        "chance on permuted labels",
        ok,
        f"outer-test ROC-AUC {auc:.3f}, chance 0.5 ± {4 * se:.3f} (4 SE)",
    )
