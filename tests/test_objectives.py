"""Threshold objectives against brute force; calibration map and metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from imbench.calibration import expected_calibration_error, fit_calibrator
from imbench.engine import evaluate_unit
from imbench.objectives import NEVER, ThresholdObjective, precision_at_k
from imbench.plan import group_units
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.sweep import plan_sweep

from conftest import tiny_config


@st.composite
def labelled_scores(draw):
    n = draw(st.integers(8, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y.sum() == 0 or y.sum() == n:
        y[0], y[-1] = 1, 0
    # coarse grid so that ties happen
    scores = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))) / 20
    return y, scores


def _counts(y, scores, t):
    pred = scores >= t
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return tp, fp, fn


def _candidates(scores):
    return [*np.unique(scores), NEVER]


@settings(max_examples=60, deadline=None)
@given(labelled_scores(), st.floats(0.1, 5), st.floats(0.1, 50))
def test_cost_threshold_is_the_brute_force_minimum(data, fp_cost, fn_cost):
    y, scores = data
    obj = ThresholdObjective("cost", fp_cost=fp_cost, fn_cost=fn_cost)

    def cost(t):
        _, fp, fn = _counts(y, scores, t)
        return fp_cost * fp + fn_cost * fn

    best = min(cost(t) for t in _candidates(scores))
    assert math.isclose(cost(obj.choose(y, scores)), best, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(
        obj.report(y, scores, obj.choose(y, scores))["expected_cost"] * len(y), best, rel_tol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(labelled_scores(), st.floats(0.1, 1.0))
def test_min_precision_threshold_keeps_precision_with_most_recall(data, target):
    y, scores = data
    t = ThresholdObjective("min_precision", min_precision=target).choose(y, scores)

    def prec_rec(t):
        tp, fp, fn = _counts(y, scores, t)
        return (tp / (tp + fp) if tp + fp else 0.0), tp / (tp + fn)

    feasible = [prec_rec(c) for c in np.unique(scores) if prec_rec(c)[0] >= target]
    p, r = prec_rec(t)
    if feasible:
        assert p >= target and math.isclose(r, max(fr for _, fr in feasible))
    else:  # nothing reaches the target: the most precise cut-off
        assert math.isclose(p, max(prec_rec(c)[0] for c in np.unique(scores)))


@settings(max_examples=60, deadline=None)
@given(labelled_scores(), st.sampled_from([0.5, 1.0, 2.0]))
def test_fbeta_threshold_is_the_brute_force_maximum(data, beta):
    y, scores = data
    kind = "f1" if beta == 1.0 else "fbeta"
    t = ThresholdObjective(kind, beta=beta).choose(y, scores)

    def fbeta(t):
        tp, fp, fn = _counts(y, scores, t)
        b2 = beta * beta
        return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0

    assert math.isclose(fbeta(t), max(fbeta(c) for c in np.unique(scores)), abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled_scores())
def test_mcc_threshold_is_the_brute_force_maximum(data):
    from sklearn.metrics import matthews_corrcoef

    y, scores = data
    t = ThresholdObjective("mcc").choose(y, scores)

    def mcc(t):
        return matthews_corrcoef(y, (scores >= t).astype(int))

    assert math.isclose(mcc(t), max(mcc(c) for c in _candidates(scores)), abs_tol=1e-9)


@pytest.mark.parametrize("capacity", [0.01, 0.1, 0.3])
def test_capacity_flags_the_top_share_and_precision_at_k_counts_it(capacity):
    rng = np.random.default_rng(0)
    scores = rng.random(500)
    y = (rng.random(500) < scores * 0.3).astype(int)
    t = ThresholdObjective("capacity", capacity=capacity).choose(y, scores)
    k = math.ceil(capacity * 500)
    assert int(np.sum(scores >= t)) == k
    top = np.argsort(-scores)[:k]
    assert precision_at_k(y, scores, capacity) == pytest.approx(y[top].mean())


def test_min_precision_met_is_reported_only_for_that_objective():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.6, 0.7, 0.9])
    assert (
        ThresholdObjective("min_precision", min_precision=0.6).report(y, s, 0.5)[
            "min_precision_met"
        ]
        == 1.0
    )
    assert (
        ThresholdObjective("min_precision", min_precision=0.7).report(y, s, 0.5)[
            "min_precision_met"
        ]
        == 0.0
    )
    assert math.isnan(ThresholdObjective("f1").report(y, s, 0.5)["min_precision_met"])


def test_ece_matches_sklearn_calibration_curve_and_separates_good_from_bad():
    rng = np.random.default_rng(1)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    skewed = p**0.3  # over-confident for the positive class
    prob_true, prob_pred = calibration_curve(y, skewed, n_bins=10, strategy="uniform")
    counts = np.histogram(skewed, bins=np.linspace(0, 1, 11))[0]
    expected = np.sum(counts[counts > 0] * np.abs(prob_true - prob_pred)) / len(y)
    assert expected_calibration_error(y, skewed) == pytest.approx(expected, rel=1e-6)
    assert expected_calibration_error(y, skewed) > 0.15


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrator_undoes_a_monotone_distortion(method):
    rng = np.random.default_rng(2)
    p = rng.random(5000) * 0.4
    y = (rng.random(5000) < p).astype(int)
    distorted = np.sqrt(p)  # what oversampling does: scores pushed towards the minority
    cal = fit_calibrator(y, distorted, method)
    assert (
        expected_calibration_error(y, cal(distorted)) < expected_calibration_error(y, distorted) / 3
    )


def test_calibrated_variant_shares_fits_keeps_ranking_and_repairs_smote(tmp_path):
    names = ["smote", "smote+calibrated", "smote+calibrated+threshold"]
    raw = tiny_config(
        tmp_path,
        datasets=["synthetic:n=600,minority=0.08,features=5,seed=4"],
        strategies=names,
        protocol={"outer_folds": 3, "inner_folds": 3},
    )
    cfg = build_config(raw)
    (unit,) = group_units(plan_sweep(cfg).cells)
    results = {
        r.cell.strategy: r for r in evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5)
    }
    assert sum(r.n_fits for r in results.values()) == 3 * (3 * 2 + 1)  # one set of fits
    raw_, cal = (pd.DataFrame(results[n].folds) for n in names[:2])
    # sigmoid calibration is monotone: rankings do not move
    assert np.allclose(raw_["roc_auc"], cal["roc_auc"])
    # SMOTE's probabilities over-state the minority; the calibrated ones do not
    assert cal["ece"].mean() < raw_["ece"].mean() / 2
    assert cal["brier"].mean() < raw_["brier"].mean()
    tuned = pd.DataFrame(results[names[2]].folds)
    assert (cal["threshold"] == 0.5).all() and not (tuned["threshold"] == 0.5).all()


@pytest.mark.parametrize(
    ("objective", "metric", "better"),
    [
        ({"threshold_objective": "cost", "fp_cost": 1, "fn_cost": 20}, "expected_cost", "lower"),
        ({"threshold_objective": "capacity", "capacity": 0.2}, "recall", "higher"),
    ],
)
def test_configured_objective_reaches_the_threshold_cells(tmp_path, objective, metric, better):
    raw = tiny_config(
        tmp_path,
        datasets=["synthetic:n=600,minority=0.08,features=5,seed=4"],
        strategies=["none", "threshold"],
        protocol={"outer_folds": 3, "inner_folds": 3, **objective},
    )
    cfg = build_config(raw)
    (unit,) = group_units(plan_sweep(cfg).cells)
    plain, tuned = (
        pd.DataFrame(r.folds)[metric].mean()
        for r in evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5)
    )
    assert tuned < plain if better == "lower" else tuned > plain


@given(labelled_scores())
def test_roc_points_are_scikit_learns_roc_curve_float_for_float(data):
    """The threshold choices of mcc and cost read roc_points instead of roc_curve: the
    same arrays, bit for bit, ties and all."""
    import warnings

    from sklearn.metrics import roc_curve

    from imbench.objectives import roc_points

    y, scores = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = roc_curve(y, scores, drop_intermediate=False)
    got = roc_points(y, scores)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def test_roc_points_with_one_class_are_nan_as_in_scikit_learn():
    from imbench.objectives import roc_points

    fpr, tpr, _ = roc_points(np.array([1, 1, 1]), np.array([0.2, 0.5, 0.5]))
    assert np.isnan(fpr).all() and not np.isnan(tpr).any()


@given(labelled_scores())
def test_pr_points_are_scikit_learns_precision_recall_curve_float_for_float(data):
    from sklearn.metrics import precision_recall_curve

    from imbench.objectives import pr_points

    y, scores = data
    want = precision_recall_curve(y, scores)
    got = pr_points(y, scores)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@given(labelled_scores())
def test_average_precision_is_scikit_learns_float_for_float(data):
    """The inner loop chooses grid points by it: a different float could flip a tie."""
    from sklearn.metrics import average_precision_score

    from imbench.objectives import average_precision

    y, scores = data
    if 0 < y.sum() < len(y):
        assert average_precision(y, scores) == average_precision_score(y, scores)
