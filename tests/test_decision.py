"""Decision curves from stored predictions: the net-benefit formula, and curves that
are the sweep's own probabilities (no model touched)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbench.decision import decision_curves, net_benefit, treat_all
from imbench.results import SweepFolder

from conftest import core_sweep, tiny_config


def test_net_benefit_by_hand():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.4, 0.1])
    nb = net_benefit(y, p, np.array([0.3, 0.5, 0.95]))
    # pt 0.3: act on 3 rows, 2 TP, 1 FP; pt 0.5: 1 TP, 1 FP; pt 0.95: nobody
    assert nb == pytest.approx([2 / 4 - 1 / 4 * 0.3 / 0.7, 1 / 4 - 1 / 4 * 1.0, 0.0])
    assert treat_all(y, np.array([0.2])) == pytest.approx([0.5 - 0.5 * 0.25])


def test_curves_come_from_the_sweeps_predictions(tmp_path):
    raw = tiny_config(
        tmp_path, strategies=["none", "smote+threshold", "smote+calibrated"],
        datasets=[f"synthetic:n=240,minority=0.15,features=4,seed={s}" for s in range(2)],
        protocol={"outer_folds": 3, "inner_folds": 2, "min_minority": 6},
    )  # fmt: skip
    folder = SweepFolder(core_sweep(raw))
    curves = decision_curves(folder)
    # smote+threshold has smote's probabilities: drawn once, as smote
    assert set(curves["strategy"]) == {"none", "smote", "smote+calibrated"}
    assert (curves["n_datasets"] == 2).all()
    folds = pd.read_parquet(folder.folds)
    prevalence = (folds["n_test_minority"] / folds["n_test"]).groupby(folds["dataset"]).mean()
    at = curves[(curves["strategy"] == "none") & (curves["threshold"] == 0.1)].iloc[0]
    fold_prev = folds[folds["strategy"] == "none"].assign(
        prev=lambda f: f["n_test_minority"] / f["n_test"])  # fmt: skip
    want = (fold_prev["prev"] - (1 - fold_prev["prev"]) * 0.1 / 0.9).groupby(
        fold_prev["dataset"]).mean().mean()  # fmt: skip
    assert at["treat_all"] == pytest.approx(want) and len(prevalence) == 2
    # a useful model beats treating everyone at a moderate threshold
    assert at["net_benefit"] > at["treat_all"]


def test_without_stored_predictions_there_are_no_curves(tmp_path):
    raw = tiny_config(tmp_path, strategies=["none"])
    folder = SweepFolder(core_sweep(raw))
    folder.predictions.unlink()
    assert decision_curves(folder).empty
