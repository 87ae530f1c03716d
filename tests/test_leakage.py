"""Leakage: samplers see training rows only; the outer test fold never shapes a choice;
no signal in, no score out -- while a leaky protocol is caught."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn import FunctionSampler
from imblearn.over_sampling import SMOTE
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from imbench.classifiers import CLASSIFIERS
from imbench.objectives import OBJECTIVES
from imbench.protocol import ProtocolSettings, inner_splits, nested_cv, outer_splits
from imbench.seeding import derive_seed
from imbench.strategies import STRATEGIES, Strategy, parse_strategy

# its module-scoped fixture is made once: the module stays on one xdist worker
pytestmark = pytest.mark.xdist_group("leakage")

SETTINGS = ProtocolSettings.with_protocol(outer_folds=4, inner_folds=3)


SEEN: list[np.ndarray] = []


def _record(X, y):
    """A spy sampler: passes rows through and records the first column it saw."""
    SEEN.append(np.array(X[:, 0]))
    return X, y


def _standardized(values: np.ndarray) -> np.ndarray:
    return np.sort((values - values.mean()) / values.std())


def test_spy_sampler_sees_only_training_rows(tiny_xy):
    X, y = tiny_xy
    X = X.copy()
    X[:, 0] = np.arange(len(y))  # row ids; the pipeline's scaler standardizes them
    SEEN.clear()
    spy = Strategy("spy", lambda seed: FunctionSampler(func=_record, validate=False))
    lr = CLASSIFIERS["lr"]
    nested_cv(X, y, spy, lr, settings=SETTINGS, split_seed=3, model_seed=0)

    ids = np.arange(len(y), dtype=float)
    per_fold = SETTINGS.inner_folds * len(lr.grid) + 1
    assert len(SEEN) == SETTINGS.outer_folds * per_fold
    for fold, (train, test) in enumerate(outer_splits(y, SETTINGS, 3)):
        calls = SEEN[fold * per_fold : (fold + 1) * per_fold]
        inner_sets = [train[itr] for itr, _ in inner_splits(y[train], SETTINGS, 3, fold)]
        for seen in calls[:-1]:  # inner fits: each one is exactly an inner training set
            assert any(
                len(s) == len(seen) and np.allclose(_standardized(ids[s]), np.sort(seen))
                for s in inner_sets
            )
        # the refit sees exactly the outer-training rows, never a test row
        assert np.allclose(_standardized(ids[train]), np.sort(calls[-1]))
        assert len(calls[-1]) == len(train) and len(set(train) & set(test)) == 0


def test_outer_test_fold_never_influences_threshold_or_params(tiny_xy):
    X, y = tiny_xy
    strategy, lr = STRATEGIES["smote"], CLASSIFIERS["lr"]
    before = nested_cv(X, y, strategy, lr, settings=SETTINGS, split_seed=5, model_seed=0)
    _, test = outer_splits(y, SETTINGS, 5)[0]
    X2 = X.copy()
    X2[test] = np.random.default_rng(0).normal(
        0, 5, size=X2[test].shape
    )  # wreck fold 0's test rows
    after = nested_cv(X2, y, strategy, lr, settings=SETTINGS, split_seed=5, model_seed=0)
    assert np.array_equal(after[0].oof, before[0].oof)  # what calibrators and thresholds see
    for kind in OBJECTIVES:
        settings = SETTINGS.with_settings(threshold_objective=kind)
        for name in ("threshold", "calibrated+threshold"):
            spec = parse_strategy(name)
            assert after[0].variant(spec, settings)[1] == before[0].variant(spec, settings)[1]
    assert after[0].params == before[0].params
    assert after[0].inner_pr_auc == before[0].inner_pr_auc
    assert not np.allclose(after[0].proba, before[0].proba)  # the change did reach the test fold


def chance_pr_auc(outcomes, draws: int = 200) -> float:
    """Expected PR-AUC of random scores on the same test folds (AP is biased above the
    prevalence when a fold has few positives)."""
    rng = np.random.default_rng(0)
    return float(
        np.mean(
            [
                np.mean(
                    [
                        average_precision_score(o.y_test, rng.random(len(o.y_test)))
                        for _ in range(draws)
                    ]
                )
                for o in outcomes
            ]
        )
    )


@pytest.fixture(scope="module")
def no_signal():
    rng = np.random.default_rng(42)
    n, prevalence = 600, 0.1
    X = rng.normal(size=(n, 6))
    y = np.zeros(n, dtype=int)
    y[rng.choice(n, int(n * prevalence), replace=False)] = 1
    return X, y, prevalence


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_permuted_labels_score_at_chance(strategy, no_signal):
    X, y, prevalence = no_signal
    outcomes = nested_cv(
        X,
        y,
        STRATEGIES[strategy],
        CLASSIFIERS["lr"],
        settings=ProtocolSettings.with_protocol(outer_folds=5, inner_folds=3),
        split_seed=1,
        model_seed=1,
    )
    pr = np.mean([average_precision_score(o.y_test, o.proba) for o in outcomes])
    roc = np.mean([roc_auc_score(o.y_test, o.proba) for o in outcomes])
    assert pr < chance_pr_auc(outcomes) + 0.05
    assert abs(roc - 0.5) < 0.08


def test_leaky_smote_before_split_is_caught_while_honest_is_not(no_signal):
    X, y, prevalence = no_signal
    rf = RandomForestClassifier(n_estimators=100, random_state=0)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    X_leak, y_leak = SMOTE(random_state=0).fit_resample(X, y)  # the classic mistake
    leaky = cross_val_predict(rf, X_leak, y_leak, cv=cv, method="predict_proba")[:, 1]
    leaky_pr = average_precision_score(y_leak, leaky)

    honest = nested_cv(
        X,
        y,
        STRATEGIES["smote"],
        CLASSIFIERS["rf"],
        settings=ProtocolSettings.with_protocol(outer_folds=5, inner_folds=2),
        split_seed=0,
        model_seed=0,
    )
    honest_pr = np.mean([average_precision_score(o.y_test, o.proba) for o in honest])
    chance = chance_pr_auc(honest)
    assert honest_pr < chance + 0.05
    # the leak shows up as a clear gain over what chance gives on the leaky data
    assert leaky_pr > y_leak.mean() + 0.3
    assert roc_auc_score(y_leak, leaky) > 0.8
    honest_roc = np.mean([roc_auc_score(o.y_test, o.proba) for o in honest])
    assert abs(honest_roc - 0.5) < 0.12  # 12 positives per test fold: chance spread is wide


def test_cached_splits_are_the_folds_read_only_and_keyed_by_labels():
    """Splits are kept per process (a worker reuses them across parts): they must be
    exactly StratifiedKFold's, unwritable, and never another label vector's."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    expected = list(RepeatedStratifiedKFold(n_splits=4, n_repeats=1, random_state=7).split(y, y))
    for _ in range(2):  # computed, then from the cache
        got = outer_splits(y, SETTINGS, 7)
        assert len(got) == len(expected)
        for (train, test), (e_train, e_test) in zip(got, expected, strict=True):
            np.testing.assert_array_equal(train, e_train)
            np.testing.assert_array_equal(test, e_test)
            assert not train.flags.writeable and not test.flags.writeable
    got[0] = (got[0][1], got[0][0])  # the caller's list is its own
    np.testing.assert_array_equal(outer_splits(y, SETTINGS, 7)[0][0], expected[0][0])
    other = np.roll(y, 1)  # same length, same counts, other rows
    np.testing.assert_array_equal(
        outer_splits(other, SETTINGS, 7)[0][1],
        next(RepeatedStratifiedKFold(n_splits=4, n_repeats=1, random_state=7).split(other, other))[
            1
        ],
    )
    assert len(outer_splits(y, ProtocolSettings.with_protocol(outer_folds=5), 7)) == 5
    train = expected[1][0]
    inner = inner_splits(y[train], SETTINGS, 7, 1)
    fresh = list(
        StratifiedKFold(3, shuffle=True, random_state=derive_seed(7, 1)).split(train, y[train])
    )
    for (a, b), (c, d) in zip(inner, fresh, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert inner_splits(y[train], SETTINGS, 7, 2)[0][1].tolist() != inner[0][1].tolist()
